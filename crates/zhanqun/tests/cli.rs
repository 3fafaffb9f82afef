//! The `zhanqun` command as an operator uses it: add the first administrator with the
//! password on stdin, serve, back up while serving, stop on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn zhanqun(data: &std::path::Path) -> Command {
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
        "a-strong-password\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("系统管理员"));
    let out = zhanqun(&data).args(["user", "list"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("root\t网站办\t管理员"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut server = zhanqun(&data).args(["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let client = reqwest::Client::new();
    let tok: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "root", "password": "a-strong-password"}))
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
    let db =
        zhanqun::store::Db::open(&format!("sqlite://{}?mode=rw", restored.join("zhanqun.db").display())).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM sites").fetch_all(&db.pool).await.unwrap();
    assert_eq!(names, ["教育局网站"]);

    sigterm(server.id());
    let status = wait_timeout(&mut server, Duration::from_secs(10)).expect("server stops on SIGTERM");
    assert!(status.success(), "clean exit: {status:?}");
}

fn sigterm(pid: u32) {
    Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
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
