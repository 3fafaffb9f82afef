//! Fetching pages the way the national checker does, politely: a per-host limit on
//! connections and on the request rate, timeouts, a byte budget per page, redirects
//! followed by hand (so a loop is seen as one), and the page's own charset.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use url::Url;

/// The user agent the monitor announces (and obeys robots.txt for).
pub const USER_AGENT: &str = concat!("zhanqun-monitor/", env!("CARGO_PKG_VERSION"), " (+政府网站监测)");

/// Why a fetch did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// No answer within the timeout.
    Timeout,
    /// The host's name does not resolve.
    Dns(String),
    /// No connection (refused, reset, unreachable).
    Connect(String),
    /// The HTTPS certificate is not valid for the host (expired, self-signed, wrong name).
    Tls(String),
    /// Redirects that come back to an address already visited.
    RedirectLoop,
    /// More redirects than allowed.
    TooManyRedirects,
    /// Anything else the transport reported.
    Other(String),
}

impl FetchError {
    /// In Chinese, for the reports.
    pub fn label(&self) -> String {
        match self {
            FetchError::Timeout => "超时未响应".into(),
            FetchError::Dns(e) => format!("域名无法解析（{e}）"),
            FetchError::Connect(e) => format!("无法连接（{e}）"),
            FetchError::Tls(e) => format!("HTTPS 证书无效（{e}）"),
            FetchError::RedirectLoop => "重定向循环".into(),
            FetchError::TooManyRedirects => "重定向次数过多".into(),
            FetchError::Other(e) => format!("访问出错（{e}）"),
        }
    }
}

/// One fetched address.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the redirects ended.
    pub final_url: Url,
    /// The HTTP status, or why there was none.
    pub status: Result<u16, FetchError>,
    pub content_type: Option<String>,
    /// The decoded page, when it is HTML or text and the body was asked for.
    pub text: Option<String>,
    /// Bytes of the body (what `Content-Length` said when it was not read to the end).
    pub bytes: u64,
    /// The body was cut at the byte budget.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Fetched {
    pub fn ok(&self) -> bool {
        matches!(self.status, Ok(s) if s < 400)
    }
}

#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Connections at a time to one host.
    pub per_host: usize,
    /// Requests a second to one host (0: no limit).
    pub rate_per_second: f64,
    /// The whole request, body included.
    pub timeout: Duration,
    /// Bytes read of one body.
    pub max_bytes: usize,
    pub max_redirects: usize,
    /// `HOST:PORT:ADDRESS` overrides, as curl's `--resolve`.
    pub resolve: Vec<(String, u16, std::net::IpAddr)>,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            per_host: 4,
            rate_per_second: 20.0,
            timeout: Duration::from_secs(15),
            max_bytes: 5 * 1024 * 1024,
            max_redirects: 5,
            resolve: Vec::new(),
        }
    }
}

/// Parses curl's `--resolve HOST:PORT:ADDRESS` (an IPv6 address in brackets or bare).
pub fn parse_resolve(s: &str) -> Result<(String, u16, std::net::IpAddr), String> {
    let mut parts = s.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("--resolve 的格式是 主机:端口:地址，例如 www.example.gov.cn:443:127.0.0.1（收到 {s}）"));
    };
    let port: u16 = port.parse().map_err(|_| format!("--resolve 中的端口不是数字：{port}"))?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr = addr.parse().map_err(|_| format!("--resolve 中的地址不是 IP 地址：{addr}"))?;
    if host.is_empty() {
        return Err("--resolve 缺少主机名".into());
    }
    Ok((host.to_ascii_lowercase(), port, addr))
}

struct Gate {
    connections: Arc<Semaphore>,
    next: tokio::sync::Mutex<Instant>,
}

/// The monitor's HTTP client: one per check, shared by its tasks.
pub struct Fetcher {
    client: reqwest::Client,
    limits: FetchLimits,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

impl Fetcher {
    pub fn new(limits: FetchLimits) -> Result<Fetcher, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(limits.per_host.max(1));
        for (host, port, addr) in &limits.resolve {
            b = b.resolve(host, SocketAddr::new(*addr, *port));
        }
        let client = b.build().map_err(|e| format!("无法创建 HTTP 客户端：{e}"))?;
        Ok(Fetcher { client, limits, gates: Mutex::new(HashMap::new()) })
    }

    fn gate(&self, url: &Url) -> Arc<Gate> {
        let key = format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0));
        let mut g = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        g.entry(key)
            .or_insert_with(|| {
                Arc::new(Gate {
                    connections: Arc::new(Semaphore::new(self.limits.per_host.max(1))),
                    next: tokio::sync::Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// GET (with the body, when `body`) or HEAD `url`, following redirects within the limit.
    /// A HEAD the server refuses (405, 501) is tried again as a GET without reading the body.
    pub async fn fetch(&self, url: &Url, body: bool) -> Fetched {
        let started = Instant::now();
        let mut at = url.clone();
        let mut seen = vec![at.clone()];
        let mut head = !body;
        loop {
            let res = self.once(&at, head).await;
            let res = match res {
                Ok(r) => r,
                Err(e) => return failed(at, e, started),
            };
            let status = res.status().as_u16();
            if head && matches!(status, 405 | 501) {
                head = false;
                continue;
            }
            if (300..400).contains(&status)
                && let Some(loc) = res.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok())
                && let Ok(next) = at.join(loc)
            {
                if seen.contains(&next) {
                    return failed(at, FetchError::RedirectLoop, started);
                }
                if seen.len() > self.limits.max_redirects {
                    return failed(at, FetchError::TooManyRedirects, started);
                }
                seen.push(next.clone());
                at = next;
                continue;
            }
            return self.read(at, res, body, started).await;
        }
    }

    async fn once(&self, url: &Url, head: bool) -> Result<reqwest::Response, FetchError> {
        let gate = self.gate(url);
        let _permit = gate.connections.clone().acquire_owned().await.map_err(|e| FetchError::Other(e.to_string()))?;
        if self.limits.rate_per_second > 0.0 {
            let step = Duration::from_secs_f64(1.0 / self.limits.rate_per_second);
            let wait = {
                let mut next = gate.next.lock().await;
                let now = Instant::now();
                let at = (*next).max(now);
                *next = at + step;
                at - now
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        let req = if head { self.client.head(url.clone()) } else { self.client.get(url.clone()) };
        req.send().await.map_err(classify)
    }

    async fn read(&self, at: Url, res: reqwest::Response, body: bool, started: Instant) -> Fetched {
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_ascii_lowercase());
        let declared = res.content_length();
        let textual = content_type.as_deref().is_none_or(|c| c.contains("html") || c.starts_with("text/"));
        if !body || !textual {
            return Fetched {
                final_url: at,
                status: Ok(status),
                content_type,
                text: None,
                bytes: declared.unwrap_or(0),
                truncated: false,
                elapsed: started.elapsed(),
            };
        }
        let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(16 * 1024).min(256 * 1024) as usize);
        let mut res = res;
        let mut truncated = false;
        let mut error = None;
        loop {
            match res.chunk().await {
                Ok(None) => break,
                Ok(Some(c)) => {
                    let room = self.limits.max_bytes.saturating_sub(buf.len());
                    buf.extend_from_slice(&c[..c.len().min(room)]);
                    if c.len() > room {
                        truncated = true;
                        break;
                    }
                }
                Err(e) => {
                    error = Some(classify(e));
                    break;
                }
            }
        }
        if let Some(e) = error
            && buf.is_empty()
        {
            return failed(at, e, started);
        }
        let bytes =
            if truncated { declared.unwrap_or(buf.len() as u64).max(buf.len() as u64) } else { buf.len() as u64 };
        let text = decode(&buf, content_type.as_deref());
        Fetched {
            final_url: at,
            status: Ok(status),
            content_type,
            text: Some(text),
            bytes,
            truncated,
            elapsed: started.elapsed(),
        }
    }
}

fn failed(at: Url, e: FetchError, started: Instant) -> Fetched {
    Fetched {
        final_url: at,
        status: Err(e),
        content_type: None,
        text: None,
        bytes: 0,
        truncated: false,
        elapsed: started.elapsed(),
    }
}

/// What kind of failure a transport error is, from the error and its causes.
fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    let mut chain = String::new();
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return FetchError::Tls(tls.to_string());
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return FetchError::Timeout;
        }
        chain.push_str(&s.to_string());
        chain.push(' ');
        src = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        FetchError::Tls(super::shorten(chain.trim(), 160))
    } else if lower.contains("dns") || lower.contains("failed to lookup") || lower.contains("name or service") {
        FetchError::Dns(super::shorten(chain.trim(), 160))
    } else if e.is_connect() {
        FetchError::Connect(super::shorten(chain.trim(), 160))
    } else {
        FetchError::Other(super::shorten(chain.trim(), 160))
    }
}

/// A body as text in its charset: the header's, else a byte-order mark, else the page's
/// `<meta charset>` (or `http-equiv`), else UTF-8 when it is valid, else GB18030 (which
/// reads GBK and GB2312), as pages of older Chinese sites are written without saying so.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let from_header = content_type.and_then(charset_param).and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()));
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    let enc = from_header.or_else(|| meta_charset(&bytes[..bytes.len().min(2048)]));
    if let Some(enc) = enc {
        return enc.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        // A page cut at the byte budget may end inside a character: that alone is no reason
        // to think it is not UTF-8.
        Err(e) if e.error_len().is_none() => String::from_utf8_lossy(bytes).into_owned(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset")).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let s = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = s[from..].find("charset") {
        let rest = &s[from + i + 7..];
        let rest = rest.trim_start();
        if let Some(v) = rest.strip_prefix('=') {
            let v = v.trim_start().trim_start_matches(['"', '\'']);
            let end = v.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(v.len());
            if let Some(enc) = encoding_rs::Encoding::for_label(&v.as_bytes()[..end]) {
                return Some(enc);
            }
        }
        from += i + 7;
    }
    None
}
