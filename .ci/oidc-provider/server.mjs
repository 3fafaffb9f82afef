// OpenID Connect provider for CI tests, built on the certified node-oidc-provider.
// Listens on 127.0.0.1 only; every interaction page is a plain HTML form (no JavaScript).
// See README.md for the environment variables and the flow.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

// stdout carries only the ready line; oidc-provider prints its notices with console.info.
console.info = console.error;

function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') {
    console.error(`oidc-provider: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(env('OIDC_PORT', '0'));
const clientId = env('OIDC_CLIENT_ID');
const clientSecret = env('OIDC_CLIENT_SECRET');
const redirectUris = env('OIDC_REDIRECT_URIS').split(',').map((uri) => uri.trim()).filter(Boolean);
const accounts = JSON.parse(env('OIDC_ACCOUNTS'));
if (!Array.isArray(accounts) || accounts.some((a) => !a.sub || !a.login || typeof a.password !== 'string')) {
  console.error('oidc-provider: OIDC_ACCOUNTS must be a JSON array of {sub, login, password, ...claims}');
  process.exit(2);
}

// Every account field except login/password is a claim.
function accountClaims({ login, password, ...claims }) {
  return claims;
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  responseTypes: ['code'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'employee_id'],
    employee: ['employee_id'],
  },
  ttl: { AuthorizationCode: 600, AccessToken: 3600, IdToken: 3600, Interaction: 3600, Session: 86400, Grant: 86400 },
  // Put the scope-requested claims into the ID token too (not only into userinfo).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = accounts.find((a) => a.sub === sub);
    return account && { accountId: sub, claims: async () => accountClaims(account) };
  },
};

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

function loginPage(res, status, uid, { login = '', error } = {}) {
  send(res, status, `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
${error ? `<p class="error" id="error">${escapeHtml(error)}</p>\n` : ''}<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login <input type="text" name="login" value="${escapeHtml(login)}" autofocus></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('request body too large');
  }
  return new URLSearchParams(body);
}

// Grants whatever the consent prompt says is missing, so there is no consent page.
async function grantConsent(provider, req, res, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
}

// GET  /interaction/<uid>        login form, or automatic consent
// POST /interaction/<uid>/login  check the credentials
async function handleInteraction(provider, req, res, path) {
  const [, , uid, action] = path.split('/');
  let interaction;
  try {
    interaction = await provider.interactionDetails(req, res);
  } catch (err) {
    // e.g. unknown or expired interaction, or its cookie missing
    return send(res, 400, `<!DOCTYPE html><p>${escapeHtml(err.error_description ?? err.message)}</p>\n`);
  }
  if (interaction.uid !== uid) return send(res, 400, '<!DOCTYPE html><p>interaction mismatch</p>\n');
  const prompt = interaction.prompt.name;

  if (req.method === 'GET' && action === undefined) {
    if (prompt === 'login') return loginPage(res, 200, uid);
    if (prompt === 'consent') return grantConsent(provider, req, res, interaction);
  }
  if (req.method === 'POST' && action === 'login' && prompt === 'login') {
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    const account = accounts.find((a) => a.login === login && a.password === form.get('password'));
    if (!account) return loginPage(res, 401, uid, { login, error: 'Invalid login or password.' });
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }
  return send(res, 400, `<!DOCTYPE html><p>unexpected ${escapeHtml(req.method)} for prompt ${escapeHtml(prompt)}</p>\n`);
}

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  const oidc = provider.callback();

  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (!path.startsWith('/interaction/')) return oidc(req, res);
    return handleInteraction(provider, req, res, path).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, `<!DOCTYPE html><p>${escapeHtml(err.message)}</p>\n`);
      else res.destroy();
    });
  });

  process.stdout.write(`oidc-provider ready ${issuer}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
