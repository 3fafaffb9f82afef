//! The `zhanqun` command as an operator uses it: add the first administrator with the
//! password on stdin, serve, back up while serving, stop on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

pub(crate) fn zhanqun(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zhanqun"));
    c.arg("--data-dir").arg(data).env_remove("ZHANQUN_DATABASE_URL").env("RUST_LOG", "warn");
    c
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> std::process::Output {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_admin_serve_and_backup_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let out =
        run_with_stdin(zhanqun(&data).args(["user", "add", "root", "--admin", "--display-name", "网站办"]), "short\n");
    assert!(!out.status.success(), "a weak password is refused");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("密码至少 10 个字符"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_with_stdin(
        zhanqun(&data).args(["user", "add", "root", "--admin", "--display-name", "网站办"]),
        "a-strong-Password-1\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("系统管理员"));
    // The other two of the three administrators.
    for (name, duty) in [("anquan", "security"), ("shenji", "audit")] {
        let out = run_with_stdin(zhanqun(&data).args(["user", "add", name, "--duty", duty]), "a-strong-Password-1\n");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let out = run_with_stdin(zhanqun(&data).args(["user", "add", "x", "--duty", "king"]), "a-strong-Password-1\n");
    assert!(!out.status.success(), "an unknown duty is refused");
    let out = zhanqun(&data).args(["user", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("root\t网站办\t系统管理员"), "{list}");
    assert!(list.contains("anquan\tanquan\t安全管理员") && list.contains("shenji\tshenji\t审计管理员"), "{list}");
    let out = zhanqun(&data).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("操作记录完整"), "{out:?}");

    let mut server =
        Reaped(zhanqun(&data).args(["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    zhanqun::app::install_crypto();
    let client = reqwest::Client::new();
    let tok: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "root", "password": "a-strong-Password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["token"].as_str().unwrap();
    let r = client
        .post(format!("{base}/api/v1/sites"))
        .bearer_auth(token)
        .json(&serde_json::json!({"kind": "department", "name": "教育局网站", "sponsor": "青岛市教育局", "primary_domain": "jyj.qingdao.gov.cn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let backup = dir.path().join("backup.db");
    let out = zhanqun(&data).arg("backup").arg(&backup).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = zhanqun(&data).arg("backup").arg(&backup).output().unwrap();
    assert!(!out.status.success(), "an existing backup is never overwritten");

    // The copy is a complete database: a server started on it sees the site.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("zhanqun.db")).unwrap();
    let db = zhanqun::kernel::db::Db::open(&format!("sqlite://{}?mode=rw", restored.join("zhanqun.db").display()))
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM sites").fetch_all(&db.pool).await.unwrap();
    assert_eq!(names, ["教育局网站"]);

    sigterm(server.0.id());
    let status = wait_timeout(&mut server.0, Duration::from_secs(10)).expect("server stops on SIGTERM");
    assert!(status.success(), "clean exit: {status:?}");
}

fn sigterm(pid: u32) {
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
}

/// A server process, killed when the test ends however it ends (a failed assertion must
/// not leave it running).
pub(crate) struct Reaped(pub(crate) std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_timeout(child: &mut std::process::Child, t: Duration) -> Option<std::process::ExitStatus> {
    let end = std::time::Instant::now() + t;
    while std::time::Instant::now() < end {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// `serve --demo` on a fresh data directory: what a newcomer clicks through for issue #4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_cluster_shows_disclosure_reposts_and_topics() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Reaped(
        zhanqun(&data).args(["serve", "--demo", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap(),
    );
    let mut out = BufReader::new(server.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    let port = base.rsplit(':').next().unwrap().to_string();
    zhanqun::app::install_crypto();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = |host: &str, path: &str| {
        let req = client.get(format!("{base}{path}")).header("host", format!("{host}:{port}"));
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };

    // The city-wide catalog: the notice with its number and index, the repealed rules.
    let (st, catalog) = page("qingdao.localhost", "/catalog/").await;
    assert_eq!(st, reqwest::StatusCode::OK);
    assert!(catalog.contains("青政办发〔2015〕12号") && catalog.contains("/2015-00001</td>"), "{catalog}");
    assert!(catalog.contains("青岛市中小学学籍管理实施细则（2019年）") && catalog.contains("<td>废止</td>"));
    let notice = catalog.split("/articles/").find(|x| x.contains("加强政府网站信息内容建设的通知</a>")).unwrap();
    let notice = notice.split('.').next().unwrap().to_string();
    // Links to other sites' documents open on this machine.
    assert!(catalog.contains(&format!("http://jyj.localhost:{port}/articles/")), "{catalog}");

    // The notice: its interpretation and the response to public concern.
    let (_, policy) = page("qingdao.localhost", &format!("/articles/{notice}.html")).await;
    assert!(policy.contains("<h2>政策解读</h2>") && policy.contains("政策解读</a><span>文字解读</span>"), "{policy}");
    assert!(policy.contains("<h2>回应关切</h2>") && policy.contains("关于部分政府网站栏目长期不更新问题的回应</a>"));

    // Reposted to every department site, pointing back at the original.
    for host in ["jyj.localhost", "wsjkw.localhost", "zrzyj.localhost"] {
        let (st, column) = page(host, "/columns/sjwj/").await;
        assert_eq!(st, reqwest::StatusCode::OK, "{host}");
        assert!(column.contains("加强政府网站信息内容建设的通知"), "{host}: {column}");
        let (_, copy) = page(host, &format!("/articles/{notice}.html")).await;
        assert!(
            copy.contains(&format!("转载自<a href=\"http://qingdao.localhost:{port}/articles/{notice}.html\">")),
            "{copy}"
        );
        assert!(
            copy.contains(&format!(
                "<link rel=\"canonical\" href=\"https://www.qingdao.gov.cn/articles/{notice}.html\">"
            ))
        );
    }
    // The API names the same address the pages link on this server.
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "editor", "password": "demo-editor-2026"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let d: serde_json::Value = client
        .get(format!("{base}/api/v1/documents/{notice}"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["public_url"].as_str(),
        Some(format!("http://qingdao.localhost:{port}/articles/{notice}.html").as_str()),
        "{d}"
    );
    let (_, shinan) = page("shinan.localhost", &format!("/articles/{notice}.html")).await;
    assert!(!shinan.contains("转载自"), "the district portal was not chosen");

    // The emergency topic's timeline, newest first, on the portal's home page and its own.
    let (_, home) = page("qingdao.localhost", "/").await;
    let topic = home.split("/topics/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let (_, t) = page("qingdao.localhost", &format!("/topics/{topic}/")).await;
    let (a, b) = (t.find("全市转移安置群众情况通报").unwrap(), t.find("市防指启动防台风Ⅳ级应急响应").unwrap());
    assert!(a < b, "newest first: {t}");

    // The education bureau's guide and annual report have their own addresses.
    let (_, jyj_catalog) = page("jyj.localhost", "/catalog/").await;
    let body = jyj_catalog.split("/catalog/?body=").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (st, reports) = page("jyj.localhost", &format!("/catalog/bodies/{body}/annual-reports/")).await;
    assert_eq!(st, reqwest::StatusCode::OK);
    assert!(reports.contains("青岛市教育局2025年政府信息公开工作年度报告"), "{reports}");

    sigterm(server.0.id());
    assert!(wait_timeout(&mut server.0, Duration::from_secs(10)).is_some_and(|s| s.success()));
}

/// What an installer meets at the console before anything is set up: the demo kept apart
/// from a real installation, help that says what to type, calculations that create nothing.
#[test]
fn the_console_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A real installation's first administrator, then `serve --demo` on the same directory.
    let out = run_with_stdin(zhanqun(&data).args(["user", "add", "admin", "--admin"]), "a-strong-Password-1\n");
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("migration") && !err.contains("INFO"), "no migration chatter: {err}");
    assert!(err.contains("made a new personal-data key"), "the key is worth a warning: {err}");
    let out = zhanqun(&data).args(["serve", "--demo", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success(), "the demo does not start on a real installation");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("已有数据（1 个用户、0 个网站）") && err.contains("--data-dir ./demo-data"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("演示账号"), "no demo logins that would not work");
    let out = zhanqun(&data).args(["site", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("还没有网站"), "{out:?}");

    // A port alone is answered with what to write.
    let out = zhanqun(&data).args(["serve", "--listen", "8081"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:8081") && err.contains("HOST:PORT"), "{err}");

    // A deadline is a calculation: on a fresh directory it uses the shipped calendar and
    // creates no database.
    let fresh = dir.path().join("fresh");
    let out = zhanqun(&fresh).args(["calendar", "due", "--from", "2026-09-30", "--days", "7"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2026-10-15",
        "the National Day week is not counted, its make-up Saturday is"
    );
    assert!(!fresh.exists(), "nothing created");
    let out = zhanqun(&fresh).args(["calendar", "due", "--from", "30/09/2026", "--days", "7"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("应为 YYYY-MM-DD"), "{out:?}");

    // Help says what the values are.
    let help =
        |args: &[&str]| String::from_utf8_lossy(&zhanqun(&data).args(args).output().unwrap().stdout).into_owned();
    let h = help(&["--help"]);
    assert!(h.contains("Serve every site of the cluster") && h.contains("site"), "{h}");
    let h = help(&["user", "add", "--help"]);
    assert!(h.contains("at least 10 characters") && h.contains("The name shown in the admin"), "{h}");
    let h = help(&["user", "grant", "--help"]);
    assert!(h.contains("numeric id") && h.contains("zhanqun site list"), "{h}");
    let h = help(&["calendar", "due", "--help"]);
    assert!(h.contains("YYYY-MM-DD"), "{h}");

    // Backing up onto an existing file says so in Chinese.
    let out = zhanqun(&data).args(["backup"]).arg(data.join("zhanqun.db")).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("已经存在"), "{out:?}");
}
