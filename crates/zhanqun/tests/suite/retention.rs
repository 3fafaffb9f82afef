//! Keeping the audit trail for a configured time (等保 level 3: at least 180 days), then
//! archiving and removing what is older, as an operator does from cron: `zhanqun audit
//! archive FILE`. Entries from 200 and 100 days ago are written by running the command under
//! libfaketime (Debian's `faketime`, installed by `.ci/run`), the way an installation ages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::Connection;

use crate::common::{Backend, drop_pg_database, fresh_pg_database};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs faketime (apt install faketime), then --ignored retention:: (.ci/run does)"]
    async fn the_trail_is_kept_then_archived_and_the_chain_goes_on() {
        super::the_trail_is_kept_then_archived_and_the_chain_goes_on(crate::common::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs faketime and PostgreSQL (.ci/run)"]
    async fn the_trail_is_kept_then_archived_and_the_chain_goes_on() {
        super::the_trail_is_kept_then_archived_and_the_chain_goes_on(crate::common::Backend::Postgres).await
    }
}

const PASSWORD: &str = "a-strong-Password-1\n";

struct Install {
    data: PathBuf,
    database_url: Option<String>,
}

impl Install {
    /// Runs `zhanqun ARGS`, `shift` days from now (negative: in the past) when given.
    fn run(&self, shift: Option<i32>, args: &[&str], stdin: &str) -> Output {
        let mut c = match shift {
            Some(days) => {
                let mut c = Command::new("faketime");
                c.arg("-f").arg(format!("{days:+}d")).arg(env!("CARGO_BIN_EXE_zhanqun"));
                // Only the wall clock moves; timers keep real time.
                c.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_zhanqun")),
        };
        c.arg("--data-dir").arg(&self.data).env_remove("ZHANQUN_DATABASE_URL").env("RUST_LOG", "warn");
        if let Some(u) = &self.database_url {
            c.arg("--database-url").arg(u);
        }
        c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap_or_else(|e| {
            panic!("cannot start {:?}: {e} (faketime comes from Debian's faketime package; .ci/run installs it)", c)
        });
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, shift: Option<i32>, args: &[&str], stdin: &str) -> String {
        let out = self.run(shift, args, stdin);
        assert!(
            out.status.success(),
            "zhanqun {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(None, args, "");
        assert!(!out.status.success(), "zhanqun {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    }

    async fn db(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data.join("zhanqun.db").display()),
        };
        sqlx::AnyConnection::connect(&url).await.unwrap()
    }
}

/// `已将早于 … 的 N 条操作记录归档` → N.
fn archived_count(out: &str) -> usize {
    let n = out.split(" 的 ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok());
    n.unwrap_or_else(|| panic!("no count in {out}"))
}

fn lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

async fn the_trail_is_kept_then_archived_and_the_chain_goes_on(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("zhanqun.toml"), "audit_retention_days = 180\n").unwrap();
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_pg_database().await),
    };
    let z = Install { data: data.clone(), database_url: pg.as_ref().map(|(u, _)| u.clone()) };

    // Installed 200 days ago; people added then, 100 days ago and today.
    z.ok(Some(-200), &["user", "add", "root", "--admin"], PASSWORD);
    z.ok(Some(-200), &["user", "add", "shenji", "--duty", "audit"], PASSWORD);
    z.ok(Some(-200), &["user", "add", "early-editor"], PASSWORD);
    z.ok(Some(-100), &["user", "add", "middle-editor"], PASSWORD);
    z.ok(None, &["user", "add", "late-editor"], PASSWORD);
    let before = z.ok(None, &["audit", "verify"], "");
    assert!(before.contains("操作记录完整") && before.contains("此前已归档 0 条"), "{before}");

    // A retention below level 3's six months is refused, and none set means keep for good.
    let short = dir.path().join("short.toml");
    std::fs::write(&short, "audit_retention_days = 30\n").unwrap();
    let said = z.refused(&["--config", short.to_str().unwrap(), "audit", "archive", "x.jsonl"]);
    assert!(said.contains("at least 180"), "{said}");
    let forever = dir.path().join("forever.toml");
    std::fs::write(&forever, "city_domain = \"qingdao.gov.cn\"\n").unwrap();
    let said = z.refused(&["--config", forever.to_str().unwrap(), "audit", "archive", "x.jsonl"]);
    assert!(said.contains("未设置操作记录留存期限"), "{said}");

    // Today, the entries from 200 days ago are past 180 days: archived, then removed.
    let first = dir.path().join("audit-1.jsonl");
    let said = z.ok(None, &["audit", "archive", first.to_str().unwrap()], "");
    assert!(said.contains("并从数据库中移除"), "{said}");
    let n = archived_count(&said);
    let file = lines(&first);
    assert_eq!(file.len(), n + 1, "a header and one line per entry");
    assert_eq!(file[0]["format"], "zhanqun-audit-archive");
    assert_eq!(file[0]["after_seq"], 0);
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(text.contains("early-editor") && !text.contains("middle-editor"), "{text}");
    let checked = z.ok(None, &["audit", "check-archive", first.to_str().unwrap()], "");
    assert!(checked.contains(&format!("归档文件完整：{n} 条记录")), "{checked}");

    // What is left is the younger part, and the chain still checks from where it stopped.
    let after = z.ok(None, &["audit", "verify"], "");
    assert!(after.contains("操作记录完整") && after.contains(&format!("此前已归档 {n} 条")), "{after}");
    let csv = z.ok(None, &["audit", "export"], "");
    assert!(!csv.contains("early-editor"), "archived entries are gone from the database: {csv}");
    assert!(csv.contains("middle-editor") && csv.contains("late-editor"), "{csv}");
    assert!(csv.contains("audit_archive"), "the archiving is itself in the trail: {csv}");
    // The people are still there: only the trail is archived.
    let users = z.ok(None, &["user", "list"], "");
    assert!(users.contains("early-editor"), "{users}");

    // Nothing else is old enough today: no file, nothing removed.
    let none = dir.path().join("audit-none.jsonl");
    let said = z.ok(None, &["audit", "archive", none.to_str().unwrap()], "");
    assert!(said.contains("无需归档"), "{said}");
    assert!(!none.exists());

    // 90 days on, the entries from 100 days ago are 190 days old: a second archive takes them,
    // starting where the first stopped.
    let second = dir.path().join("audit-2.jsonl");
    let said = z.ok(Some(90), &["audit", "archive", second.to_str().unwrap()], "");
    let m = archived_count(&said);
    let file2 = lines(&second);
    assert_eq!(file2[0]["after_seq"], file.last().unwrap()["seq"], "the second file goes on from the first");
    let text2 = std::fs::read_to_string(&second).unwrap();
    assert!(text2.contains("middle-editor") && !text2.contains("late-editor"), "{text2}");
    let checked = z.ok(None, &["audit", "check-archive", second.to_str().unwrap()], "");
    assert!(checked.contains(&format!("归档文件完整：{m} 条记录")), "{checked}");
    let after = z.ok(None, &["audit", "verify"], "");
    assert!(after.contains("操作记录完整"), "{after}");
    // An existing file is never overwritten (the next archive has something to write: the
    // first archive's own entry is 90 days older than "180 days on").
    let said = z.run(Some(180), &["audit", "archive", first.to_str().unwrap()], "");
    assert!(!said.status.success(), "archiving onto an existing file is refused");
    assert!(String::from_utf8_lossy(&said.stderr).contains("文件须不存在"), "{said:?}");
    assert_eq!(lines(&first).len(), n + 1, "the first file is untouched");

    // An archive file changed afterwards is found out.
    std::fs::write(&first, text.replacen("early-editor", "someone-else", 1)).unwrap();
    let out = z.run(None, &["audit", "check-archive", first.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("归档文件被改动"), "{out:?}");

    // In the database: entries past the archived point still cannot be removed, and the
    // archived point cannot be moved back.
    let mut db = z.db().await;
    let (through_id, through_seq): (i64, i64) =
        sqlx::query_as("SELECT through_id, through_seq FROM audit_archived WHERE id = 1")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(through_id > 0 && through_seq > 0);
    assert!(sqlx::query("DELETE FROM audit_log WHERE id > $1").bind(through_id).execute(&mut db).await.is_err());
    assert!(sqlx::query("UPDATE audit_archived SET through_id = 0, through_seq = 0").execute(&mut db).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_archived").execute(&mut db).await.is_err());
    // Someone who moves the point forward to make entries removable, and removes them with
    // the chain's own hash so the walk still fits, is found out: the trail recorded where the
    // last archive stopped.
    let (next_id, next_seq, next_hash): (i64, i64, String) =
        sqlx::query_as("SELECT id, seq, hash FROM audit_log WHERE id > $1 ORDER BY id LIMIT 1")
            .bind(through_id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    sqlx::query("UPDATE audit_archived SET through_id = $1, through_seq = $2, through_hash = $3 WHERE id = 1")
        .bind(next_id)
        .bind(next_seq)
        .bind(&next_hash)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE id = $1").bind(next_id).execute(&mut db).await.unwrap();
    db.close().await.ok();
    let out = z.run(None, &["audit", "verify"], "");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("与最近一次归档时记下的不符"), "{out:?}");

    if let Some((_, name)) = pg {
        drop_pg_database(&name).await;
    }
}
