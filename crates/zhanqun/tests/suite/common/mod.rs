//! Test harness: a real server on 127.0.0.1 over a real database, driven with real HTTP.
//!
//! SQLite always; PostgreSQL when `ZHANQUN_TEST_POSTGRES` names a server (each test gets a
//! database of its own, dropped at the end). The PostgreSQL variants are `#[ignore]`d so
//! that `cargo test` runs offline; `.ci/run` runs them with `--ignored` and the variable set,
//! and they fail (never skip) when the server cannot be reached.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use zhanqun::kernel::Actor;
use zhanqun::people::NewUser;
use zhanqun::server::{Running, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_PW: &str = "admin-password-123";
pub const PW: &str = "people-password-123";
/// What the security administrator gives a new person, changed at their first sign-in.
pub const FIRST_PW: &str = "First-password-2026";
pub const SECURITY_PW: &str = "security-password-123";
pub const AUDITOR_PW: &str = "auditor-password-123";

/// What a test adds to the application before it serves (subscribers, job kinds); applied
/// again on every restart.
pub type Prepare = std::sync::Arc<dyn Fn(&zhanqun::app::App) + Send + Sync>;

pub struct TestServer {
    pub running: Option<Running>,
    prepare: Option<Prepare>,
    pub client: reqwest::Client,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub settings: Settings,
    pg_db: Option<String>,
    /// The system administrator's token (sites, columns, calendar, jobs).
    pub admin: String,
    /// The security administrator's (people, roles, passwords, sessions).
    pub security: String,
    /// The audit administrator's (the audit trail).
    pub auditor: String,
}

fn pg_server() -> String {
    std::env::var("ZHANQUN_TEST_POSTGRES").expect(
        "ZHANQUN_TEST_POSTGRES must name a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test) for the PostgreSQL suite",
    )
}

fn with_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("ZHANQUN_TEST_POSTGRES is not a URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// A new, empty PostgreSQL database for one test: its URL and name.
pub async fn fresh_pg_database() -> (String, String) {
    sqlx::any::install_default_drivers();
    let server = pg_server();
    let name = format!("zq_t_{}_{}", std::process::id(), rand_suffix());
    let mut c = sqlx::AnyConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await.unwrap();
    c.close().await.ok();
    (with_database(&server, &name), name)
}

/// Drops a database [`fresh_pg_database`] made.
pub async fn drop_pg_database(name: &str) {
    let mut c = sqlx::AnyConnection::connect(&pg_server()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut c)
        .await
        .unwrap();
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with_config(backend, None).await
    }

    /// Starts a server; `config` is the text of a `zhanqun.toml` for its data directory.
    pub async fn start_with_config(backend: Backend, config: Option<&str>) -> TestServer {
        Self::start_with(backend, config, None).await
    }

    /// Starts a server with `prepare` applied to the application before it serves.
    pub async fn start_with(backend: Backend, config: Option<&str>, prepare: Option<Prepare>) -> TestServer {
        zhanqun::app::install_crypto();
        let dir = tempfile::tempdir().unwrap();
        if let Some(c) = config {
            std::fs::write(dir.path().join("zhanqun.toml"), c).unwrap();
        }
        let (database_url, pg_db) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (url, name) = fresh_pg_database().await;
                (Some(url), Some(name))
            }
        };
        let settings = Settings { data_dir: dir.path().join("data"), database_url, config_file: None };
        let mut s = TestServer {
            running: None,
            prepare,
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
            base: String::new(),
            dir,
            settings,
            pg_db,
            admin: String::new(),
            security: String::new(),
            auditor: String::new(),
        };
        s.boot().await;
        let app = &s.running.as_ref().unwrap().app;
        // The three administrators (三员分立), as an installation starts with them.
        for (username, display_name, password, is_admin, duty) in [
            ("admin", "系统管理员", ADMIN_PW, true, None),
            ("security", "安全管理员", SECURITY_PW, false, Some("security")),
            ("auditor", "审计管理员", AUDITOR_PW, false, Some("audit")),
        ] {
            app.create_user(
                &Actor::system("test"),
                NewUser {
                    username: username.into(),
                    display_name: display_name.into(),
                    password: password.into(),
                    is_admin,
                    duty: duty.map(Into::into),
                },
            )
            .await
            .unwrap();
        }
        s.admin = s.login("admin", ADMIN_PW).await;
        s.security = s.login("security", SECURITY_PW).await;
        s.auditor = s.login("auditor", AUDITOR_PW).await;
        s
    }

    async fn boot(&mut self) {
        if self.settings.data_dir.exists() {
            let cfg = self.dir.path().join("zhanqun.toml");
            if cfg.exists() {
                std::fs::copy(&cfg, self.settings.data_dir.join("zhanqun.toml")).unwrap();
            }
        } else {
            std::fs::create_dir_all(&self.settings.data_dir).unwrap();
            let cfg = self.dir.path().join("zhanqun.toml");
            if cfg.exists() {
                std::fs::copy(&cfg, self.settings.data_dir.join("zhanqun.toml")).unwrap();
            }
        }
        let app = self.settings.open_app().await.unwrap();
        if let Some(p) = &self.prepare {
            p(&app);
        }
        let running = zhanqun::server::start(app, "127.0.0.1:0").await.unwrap();
        self.base = running.base_url();
        self.running = Some(running);
    }

    /// Stops the server (as a restart or crash would) and starts it again on the same data.
    pub async fn restart(&mut self) {
        self.stop_server().await;
        self.boot().await;
    }

    pub async fn stop_server(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Replaces the configuration file and restarts.
    pub async fn restart_with_config(&mut self, config: &str) {
        std::fs::write(self.dir.path().join("zhanqun.toml"), config).unwrap();
        self.restart().await;
    }

    /// A data directory for another node of this cluster: its own files, the same
    /// personal-data key (every node must read the one the database is sealed with).
    pub fn other_node_dir(&self) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(self.settings.data_dir.join("personal-data.key"), d.path().join("personal-data.key")).unwrap();
        d
    }

    pub fn app(&self) -> &zhanqun::app::App {
        &self.running.as_ref().unwrap().app
    }

    /// Stops the server and drops the test's PostgreSQL database.
    pub async fn finish(mut self) {
        self.stop_server().await;
        if let Some(name) = self.pg_db.take() {
            drop_pg_database(&name).await;
        }
    }

    pub async fn login(&self, user: &str, pw: &str) -> String {
        let (st, body) =
            self.call(Method::POST, "/api/v1/auth/token", None, Some(json!({"username": user, "password": pw}))).await;
        assert_eq!(st, StatusCode::OK, "login {user}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// Sends a request; returns status and JSON body (Null when the body is empty or not JSON).
    /// Every answer of an API operation is checked against the OpenAPI document the server
    /// serves: the operation must be documented, its status too, and a JSON body must match
    /// the documented schema.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let m = method.clone();
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let text = resp.text().await.unwrap();
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(ct, "application/problem+json", "error {status} for {path} must be problem+json: {text}");
        }
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        contract::check(&m, path, status, &ct, &text, &json);
        (status, json)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    /// A file the API gives for download (CSV, XLSX …): status, headers, bytes.
    pub async fn download(&self, path: &str, token: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    /// Adds a person and returns (id, token).
    pub async fn person(&self, username: &str) -> (i64, String) {
        let (st, u) =
            self.post("/api/v1/users", &self.security, json!({"username": username, "password": FIRST_PW})).await;
        assert_eq!(st, StatusCode::CREATED, "{u}");
        // The first password comes from the security administrator; its owner replaces it.
        let first = self.login(username, FIRST_PW).await;
        let (st, b) =
            self.post("/api/v1/me/password", &first, json!({"current_password": FIRST_PW, "new_password": PW})).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
        (u["id"].as_i64().unwrap(), first)
    }

    pub async fn grant(&self, site: i64, user: i64, role: &str) {
        let (st, b) = self
            .post(&format!("/api/v1/sites/{site}/roles"), &self.security, json!({"user_id": user, "role": role}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}");
    }

    /// A registered department site `NAME.qingdao.gov.cn`, returning its id.
    pub async fn department(&self, name: &str) -> i64 {
        let (st, s) = self
            .post(
                "/api/v1/sites",
                &self.admin,
                json!({"kind": "department", "name": format!("{name}网站"), "sponsor": format!("青岛市{name}"),
                       "primary_domain": format!("{name}.qingdao.gov.cn")}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{s}");
        s["id"].as_i64().unwrap()
    }

    /// Labels a site with `code` and takes it through review and registration to online.
    pub async fn bring_online(&self, site: i64, code: &str) {
        let (_, v) = self.get(&format!("/api/v1/sites/{site}"), &self.admin).await;
        let (st, b) = self
            .patch(&format!("/api/v1/sites/{site}"), &self.admin, json!({"version": v["version"], "site_code": code}))
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
        for action in ["approve", "register", "online"] {
            let (st, b) =
                self.post(&format!("/api/v1/sites/{site}/transitions"), &self.admin, json!({"action": action})).await;
            assert_eq!(st, StatusCode::OK, "{action}: {b}");
        }
    }

    /// A public page as a browser on `host` gets it: (status, headers, body).
    pub async fn page(&self, host: &str, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let r = self.client.get(format!("{}{path}", self.base)).header("host", host).send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    }

    pub async fn column(&self, site: i64, slug: &str, parent: Option<i64>) -> i64 {
        let (st, c) = self
            .post(
                &format!("/api/v1/sites/{site}/columns"),
                &self.admin,
                json!({"name": format!("栏目{slug}"), "slug": slug, "kind": "news", "source": "办公室", "owner": "张三",
                       "duty": "daily", "parent_id": parent}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        c["id"].as_i64().unwrap()
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{n:x}")
}

/// A department site with one column and a person for each workflow role.
pub struct Newsroom {
    pub site: i64,
    pub column: i64,
    pub editor: (i64, String),
    pub secrecy: (i64, String),
    pub editorial: (i64, String),
}

impl Newsroom {
    pub async fn new(s: &TestServer) -> Newsroom {
        let site = s.department("jyj").await;
        s.bring_online(site, "3702000012").await;
        let column = s.column(site, "news", None).await;
        let editor = s.person("editor").await;
        let secrecy = s.person("secrecy").await;
        let editorial = s.person("editorial").await;
        s.grant(site, editor.0, "editor").await;
        s.grant(site, secrecy.0, "secrecy_reviewer").await;
        s.grant(site, editorial.0, "editorial_reviewer").await;
        // Roles are read when a token is used, so existing tokens see the new grants.
        Newsroom { site, column, editor, secrecy, editorial }
    }

    pub async fn draft(&self, s: &TestServer, title: &str) -> Value {
        let (st, d) = s
            .post(
                &format!("/api/v1/sites/{}/documents", self.site),
                &self.editor.1,
                json!({"title": title, "body": "# 正文\n\n内容。", "columns": [self.column], "source": "青岛市教育局"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        d
    }

    pub async fn act(&self, s: &TestServer, token: &str, doc: i64, body: Value) -> (StatusCode, Value) {
        s.post(&format!("/api/v1/documents/{doc}/transitions"), token, body).await
    }

    /// Takes a draft through both reviews to published.
    pub async fn publish(&self, s: &TestServer, doc: i64) -> Value {
        for (tok, action) in [(&self.editor.1, "submit"), (&self.secrecy.1, "approve"), (&self.editorial.1, "approve")]
        {
            let (st, d) = self.act(s, tok, doc, json!({"action": action})).await;
            assert_eq!(st, StatusCode::OK, "{action}: {d}");
        }
        s.get(&format!("/api/v1/documents/{doc}"), &self.editor.1).await.1
    }
}

/// Runs each named `async fn NAME(Backend)` on SQLite, and on PostgreSQL when asked.
#[macro_export]
macro_rules! behaviour {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
                async fn $name() { super::$name($crate::common::Backend::Postgres).await }
            )*
        }
    };
}

/// The served API against its description.
pub mod contract {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use reqwest::{Method, StatusCode};
    use serde_json::Value;

    pub fn document() -> &'static Value {
        static DOC: OnceLock<Value> = OnceLock::new();
        DOC.get_or_init(|| serde_json::to_value(zhanqun::web::api::document()).unwrap())
    }

    /// The documented path template `path` (without its query) answers to, and its
    /// operation for `method`: literal segments win over `{parameters}`.
    pub fn operation(method: &Method, path: &str) -> Option<(String, &'static Value)> {
        let path = path.split('?').next().unwrap_or(path);
        let segs: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, String, &Value)> = None;
        for (template, item) in document()["paths"].as_object().unwrap() {
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let fits = t.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') {
                    !b.is_empty()
                } else {
                    literal += 1;
                    a == b
                }
            });
            let Some(op) = item.get(method.as_str().to_lowercase()) else { continue };
            if fits && best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
                best = Some((literal, template.clone(), op));
            }
        }
        best.map(|(_, t, op)| (t, op))
    }

    fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
        let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
        cache
            .entry(key.to_string())
            .or_insert_with(|| {
                let mut root = schema.clone();
                root["components"] = document()["components"].clone();
                Arc::new(jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("schema of {key}: {e}")))
            })
            .clone()
    }

    /// Checks one answer; panics with what does not match.
    pub fn check(method: &Method, path: &str, status: StatusCode, content_type: &str, text: &str, json: &Value) {
        if !path.starts_with("/api/v1/") || path.starts_with("/api/v1/docs") || path == "/api/v1/openapi.json" {
            return;
        }
        let Some((template, op)) = operation(method, path) else {
            if status == StatusCode::NOT_FOUND && json["detail"] == "没有这个接口" {
                return;
            }
            if status == StatusCode::METHOD_NOT_ALLOWED {
                return;
            }
            panic!("{method} {path} answered {status} but is not in the API description");
        };
        let code = status.as_u16().to_string();
        let range = format!("{}XX", code.chars().next().unwrap());
        let responses = &op["responses"];
        let response = responses
            .get(&code)
            .or_else(|| responses.get(&range))
            .or_else(|| responses.get("default"))
            .unwrap_or_else(|| panic!("{method} {template}: status {status} is not documented"));
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(content) = response.get("content").and_then(|c| c.as_object()) else {
            assert!(text.is_empty(), "{method} {template} {status}: a body where none is documented: {text}");
            return;
        };
        let Some(schema) = content.get(media).and_then(|m| m.get("schema")) else {
            panic!(
                "{method} {template} {status}: answered {media}, documented {:?}",
                content.keys().collect::<Vec<_>>()
            );
        };
        if !media.ends_with("json") {
            return;
        }
        let v = validator(&format!("{method} {template} {code} {media}"), schema);
        let errors: Vec<String> = v.iter_errors(json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{method} {template} {status} does not match its schema: {errors:?}\n{json}");
    }
}
