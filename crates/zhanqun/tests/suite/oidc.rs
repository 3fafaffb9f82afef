//! Staff sign-in through the city's identity provider, against a real OpenID Connect
//! provider: the certified `oidc-provider` package from npm (`.ci/oidc-provider`, installed
//! by `.ci/run`), started on 127.0.0.1, driven the way a browser is (cookies, redirects,
//! the provider's login form).

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, TestServer};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs the OpenID Connect provider: npm ci in .ci/oidc-provider, then --ignored oidc:: (.ci/run does)"]
    async fn staff_sign_in_through_the_identity_provider() {
        super::staff_sign_in_through_the_identity_provider(crate::common::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs the OpenID Connect provider and PostgreSQL (.ci/run)"]
    async fn staff_sign_in_through_the_identity_provider() {
        super::staff_sign_in_through_the_identity_provider(crate::common::Backend::Postgres).await
    }
}

/// The provider process, stopped when the test ends however it ends.
struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_provider(port: u16, redirect_uri: &str, accounts: serde_json::Value) -> Provider {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "the OpenID Connect provider is not installed: run `npm ci` in {} (.ci/run does)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg("server.mjs")
        .current_dir(&dir)
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_CLIENT_ID", "zhanqun-admin")
        .env("OIDC_CLIENT_SECRET", "ci-secret-2026")
        .env("OIDC_REDIRECT_URIS", redirect_uri)
        .env("OIDC_ACCOUNTS", accounts.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("oidc-provider ready http://127.0.0.1:"), "provider said: {line:?}");
    Provider(child)
}

/// A browser: keeps cookies, follows redirects (to the provider and back).
fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build().unwrap()
}

fn form_action(html: &str) -> String {
    let at = html.find("action=\"").expect("a form") + 8;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// Signs in at the provider as `login` from the zhanqun login page; answers the final
/// status, address and page.
async fn sign_in(c: &reqwest::Client, s: &TestServer, issuer: &str, login: &str) -> (StatusCode, String, String) {
    let r = c.get(format!("{}/admin/login/oidc?next=%2Fadmin%2Fletters", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().as_str().starts_with(issuer), "at the provider: {}", r.url());
    let form = r.text().await.unwrap();
    let r = c
        .post(format!("{issuer}{}", form_action(&form)))
        .form(&[("login", login), ("password", "idp-pass-2026")])
        .send()
        .await
        .unwrap();
    let (st, url) = (r.status(), r.url().to_string());
    (st, url, r.text().await.unwrap())
}

async fn staff_sign_in_through_the_identity_provider(b: Backend) {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let config = format!(
        "[oidc]\nissuer = \"{issuer}\"\nclient_id = \"zhanqun-admin\"\nclient_secret = \"ci-secret-2026\"\n\
         username_claim = \"employee_id\"\nscopes = [\"openid\", \"profile\"]\n"
    );
    let s = TestServer::start_with_config(b, Some(&config)).await;
    // Platform accounts, made by the security administrator; the provider knows people by
    // their employee number, which is the platform username.
    let (st, wang) = s
        .post(
            "/api/v1/users",
            &s.security,
            json!({"username": "qd-10086", "display_name": "王静", "password": "First-pass-2026"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{wang}");
    let (_, gone) = s
        .post(
            "/api/v1/users",
            &s.security,
            json!({"username": "qd-10087", "display_name": "李离", "password": "First-pass-2026"}),
        )
        .await;
    let (st, _) = s.post(&format!("/api/v1/users/{}/disable", gone["id"]), &s.security, json!({})).await;
    assert_eq!(st, StatusCode::OK);

    // The provider is down: a clear answer, not a hang or a 500.
    let c = browser();
    let r = c.get(format!("{}/admin/login/oidc", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = r.text().await.unwrap();
    assert!(page.contains("统一身份认证服务暂时无法访问"), "{page}");

    let account = |sub: &str, login: &str, employee: Option<&str>| {
        let mut a = json!({"sub": sub, "login": login, "password": "idp-pass-2026", "name": login});
        if let Some(e) = employee {
            a["employee_id"] = json!(e);
        }
        a
    };
    let _provider = start_provider(
        port,
        &format!("{}/admin/login/oidc/callback", s.base),
        json!([
            account("u-1", "wangjing", Some("qd-10086")),
            account("u-2", "lili", Some("qd-10087")),
            account("u-3", "stranger", Some("qd-99999")),
            account("u-4", "nobody", None),
        ]),
    );

    // The login page offers the provider; signing in there lands where the person was going,
    // signed in as the account the claim names (its first-password rule is the provider's
    // business now: no forced change).
    let page = c.get(format!("{}/admin/login", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("统一身份认证登录") && page.contains("action=\"/admin/login/oidc\""), "{page}");
    let (st, url, page) = sign_in(&c, &s, &issuer, "wangjing").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(url, format!("{}/admin/letters", s.base));
    assert!(page.contains("王静") && page.contains("来信办理"), "{page}");
    let dash = c.get(format!("{}/admin/", s.base)).send().await.unwrap();
    assert_eq!(dash.url().path(), "/admin/");
    // Roles stay in the platform: this account has none, so a site's screen is refused.
    let r = c.get(format!("{}/admin/users", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // No platform account, a disabled one, or no claim: refused, said why, and recorded.
    for (login, says) in [("stranger", "qd-99999"), ("lili", "qd-10087"), ("nobody", "没有「employee_id」")] {
        let c = browser();
        let (st, url, page) = sign_in(&c, &s, &issuer, login).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{login}: {page}");
        assert!(url.starts_with(&format!("{}/admin/login/oidc/callback", s.base)), "{url}");
        assert!(page.contains("统一身份认证登录未完成") && page.contains(says), "{login}: {page}");
        let r = c.get(format!("{}/admin/", s.base)).send().await.unwrap();
        assert_eq!(r.url().path(), "/admin/login", "{login} is not signed in");
    }

    // A code works once, and only in the browser that started the sign-in.
    let stop = reqwest::redirect::Policy::custom(|a| {
        if a.url().path() == "/admin/login/oidc/callback" { a.stop() } else { a.follow() }
    });
    let c = reqwest::Client::builder().cookie_store(true).redirect(stop).build().unwrap();
    let r = c.get(format!("{}/admin/login/oidc", s.base)).send().await.unwrap();
    let form = r.text().await.unwrap();
    let r = c
        .post(format!("{issuer}{}", form_action(&form)))
        .form(&[("login", "wangjing"), ("password", "idp-pass-2026")])
        .send()
        .await
        .unwrap();
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.contains("code=") && callback.contains("state="), "{callback}");
    let elsewhere = browser().get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED, "another browser's code");
    assert!(elsewhere.text().await.unwrap().contains("登录状态不符"));
    let first = c.get(&callback).send().await.unwrap();
    assert_eq!((first.status(), first.url().path()), (StatusCode::OK, "/admin/"), "signed in");
    let again = c.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.text().await.unwrap().contains("请从登录页重新开始"), "used once");
    // The provider's own refusal is shown, not hidden.
    let denied = c
        .get(format!("{}/admin/login/oidc/callback?error=access_denied&error_description=user+cancelled", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert!(denied.text().await.unwrap().contains("user cancelled"));

    // The trail has each sign-in and each refusal, with how it was tried.
    let (_, trail) = s.get("/api/v1/audit?entity=user&limit=500", &s.auditor).await;
    let entries = trail.as_array().unwrap();
    let via_oidc = |action: &str, why: Option<&str>| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["detail"]["via"] == "oidc")
            .filter(|e| why.is_none_or(|w| e["detail"]["why"] == w))
            .count()
    };
    assert_eq!(via_oidc("login", None), 2, "{trail}");
    assert_eq!(via_oidc("login_failed", Some("no_account")), 1, "{trail}");
    assert_eq!(via_oidc("login_failed", Some("disabled")), 1, "{trail}");
    assert_eq!(via_oidc("login_failed", Some("no_claim")), 1, "{trail}");
    s.finish().await;
}
