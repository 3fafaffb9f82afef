//! The backbone under faults: a node killed right after a commit, a subscriber that fails,
//! jobs that panic, overrun or run for minutes, a cache asked for more than its budget.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::{Value, json};
use zhanqun::app::App;
use zhanqun::kernel::events::{Scope, StoredEvent, Subscriber};
use zhanqun::kernel::jobs::{JobCtx, JobKind};
use zhanqun::kernel::{AppError, AppResult};
use zhanqun::server::Settings;

use crate::common::{Backend, Newsroom, TestServer};

behaviour!(
    a_publication_committed_just_before_a_crash_reaches_every_node_and_every_subscriber,
    a_failing_subscriber_is_retried_while_the_rest_flow_and_administrators_see_it,
    jobs_that_panic_or_overrun_fail_with_their_error_and_are_retried_by_an_administrator,
    a_long_job_never_blocks_an_editors_save_and_runs_once,
    the_page_cache_stays_within_its_byte_budget,
);

/// Polls `check` until it gives a value, for at most `limit`.
async fn until<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(t0.elapsed() < limit, "after {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `zhanqun serve` process, killed when the test ends however it ends.
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(settings: &Settings, failpoints: &str) -> Node {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zhanqun"));
    cmd.arg("--data-dir").arg(&settings.data_dir).env("RUST_LOG", "warn").env("ZHANQUN_FAILPOINTS", failpoints);
    match &settings.database_url {
        Some(u) => cmd.arg("--database-url").arg(u),
        None => cmd.env_remove("ZHANQUN_DATABASE_URL"),
    };
    let mut child = cmd.args(["serve", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().rsplit('：').next().unwrap().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    Node { child, base }
}

async fn subscriber(client: &reqwest::Client, base: &str, token: &str, name: &str) -> Value {
    let status: Value = client
        .get(format!("{base}/api/v1/system/status"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    status["subscribers"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap()
}

async fn a_publication_committed_just_before_a_crash_reaches_every_node_and_every_subscriber(b: Backend) {
    // Leases run out after 2 s, so a dead node's subscribers are taken over quickly.
    let mut s = TestServer::start_with_config(b, Some("lease_seconds = 2")).await;
    let nr = Newsroom::new(&s).await;
    let other = s.department("wsjkw").await;
    s.bring_online(other, "3702000013").await;
    let (st, c) = s
        .post(
            &format!("/api/v1/sites/{other}/columns"),
            &s.admin,
            json!({"name": "上级文件", "slug": "shangji", "kind": "policy", "source": "上级", "owner": "办公室", "duty": "instant"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let id = nr.draft(&s, "崩溃前的通知").await["id"].as_i64().unwrap();
    nr.publish(&s, id).await;
    let (st, out) = s
        .post(&format!("/api/v1/documents/{id}/reposts"), &nr.editor.1, json!({"sites": [other], "column": "上级文件"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    // A sibling site shows it once it accepts it.
    let accept = format!("/api/v1/reposts/{}/accept", out["created"][0]["id"]);
    assert_eq!(s.post(&accept, &s.admin, json!({})).await.0, StatusCode::OK);
    // A new edition waits for the editorial reviewer.
    let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
    let (st, _) = s
        .patch(
            &format!("/api/v1/documents/{id}"),
            &nr.editor.1,
            json!({"version": d["version"], "title": "崩溃后的通知"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    nr.act(&s, &nr.editor.1, id, json!({"action": "submit"})).await;
    nr.act(&s, &nr.secrecy.1, id, json!({"action": "approve"})).await;
    s.stop_server().await;

    // Node A, which will die right after committing; it reads for the catalog subscriber.
    let node_a = serve(&s.settings, "after_commit");
    let client = reqwest::Client::new();
    until(Duration::from_secs(10), "node A reads for the catalog subscriber", || async {
        subscriber(&client, &node_a.base, &s.admin, "catalog_listing").await["leased_by"].as_str().map(str::to_string)
    })
    .await;
    // Node B, on the same database, has the repost's pages cached with the old edition.
    let other_dir = s.other_node_dir();
    let b_settings = Settings {
        data_dir: if b == Backend::Sqlite { s.settings.data_dir.clone() } else { other_dir.path().to_path_buf() },
        ..s.settings.clone()
    };
    let node_b = zhanqun::server::start(b_settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
    let b_base = node_b.base_url();
    let page = |host: &'static str, path: String| {
        let (c, base) = (client.clone(), b_base.clone());
        async move { c.get(format!("{base}{path}")).header("host", host).send().await.unwrap().text().await.unwrap() }
    };
    let article = format!("/articles/{id}.html");
    assert!(page("wsjkw.qingdao.gov.cn", article.clone()).await.contains("<h1>崩溃前的通知</h1>"));
    assert!(page("wsjkw.qingdao.gov.cn", "/columns/shangji/".into()).await.contains("崩溃前的通知"));
    assert!(page("jyj.qingdao.gov.cn", article.clone()).await.contains("<h1>崩溃前的通知</h1>"));

    // The editorial approval commits on node A, which is killed before it delivers anything.
    let answer = client
        .post(format!("{}/api/v1/documents/{id}/transitions", node_a.base))
        .bearer_auth(&nr.editorial.1)
        .json(&json!({"action": "approve"}))
        .send()
        .await;
    assert!(answer.is_err(), "node A died before answering: {answer:?}");
    let mut node_a = node_a;
    let status = node_a.child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");

    // Node B drops the old pages as soon as it reads the committed event…
    for (host, path, want) in [
        ("jyj.qingdao.gov.cn", article.clone(), "<h1>崩溃后的通知</h1>"),
        ("wsjkw.qingdao.gov.cn", article.clone(), "<h1>崩溃后的通知</h1>"),
        ("wsjkw.qingdao.gov.cn", "/columns/shangji/".to_string(), "崩溃后的通知"),
    ] {
        until(Duration::from_secs(5), &format!("node B serves the new edition at {host}{path}"), || {
            let p = page(host, path.clone());
            async move { p.await.contains(want).then_some(()) }
        })
        .await;
    }
    // …and takes over the dead node's cluster subscriber once its lease runs out, from the
    // durable cursor: the event committed before the crash is delivered.
    let cursor = until(Duration::from_secs(15), "node B delivers the catalog subscriber's backlog", || async {
        let sub = subscriber(&client, &b_base, &s.admin, "catalog_listing").await;
        let caught_up = sub["behind"] == 0 && sub["leased_by"].as_str().is_some_and(|n| *n == *node_b.app.node);
        caught_up.then_some(sub["cursor"].as_i64().unwrap())
    })
    .await;
    assert!(cursor > 0);

    // Node A comes back and serves the new text too.
    node_b.stop().await;
    let node_a = serve(&s.settings, "");
    let r =
        client.get(format!("{}{article}", node_a.base)).header("host", "wsjkw.qingdao.gov.cn").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("<h1>崩溃后的通知</h1>"));
    let d: Value = client
        .get(format!("{}/api/v1/documents/{id}", node_a.base))
        .bearer_auth(&nr.editor.1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["state"], "published");
    assert_eq!(d["live"]["title"], "崩溃后的通知");
    drop(node_a);
    s.restart().await;
    s.finish().await;
}

/// A cluster subscriber that fails while `fail` is above zero on calendar changes, and
/// records every event it is given.
struct Flaky {
    fail: AtomicUsize,
    seen: Mutex<Vec<i64>>,
}

impl Subscriber for Flaky {
    fn name(&self) -> &'static str {
        "test_flaky"
    }

    fn scope(&self) -> Scope {
        Scope::Cluster
    }

    fn handle<'a>(&'a self, _: &'a App, e: &'a StoredEvent) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            if matches!(e.event, zhanqun::kernel::Event::CalendarChanged)
                && self.fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
            {
                return Err(AppError::Internal(anyhow::anyhow!("订阅者暂时无法处理")));
            }
            self.seen.lock().unwrap().push(e.id);
            Ok(())
        })
    }
}

async fn a_failing_subscriber_is_retried_while_the_rest_flow_and_administrators_see_it(b: Backend) {
    let flaky = Arc::new(Flaky { fail: AtomicUsize::new(0), seen: Mutex::new(Vec::new()) });
    let f = flaky.clone();
    let s = TestServer::start_with(b, None, Some(Arc::new(move |app: &App| app.events.subscribe(f.clone())))).await;
    let nr = Newsroom::new(&s).await;
    let outbox_max = |s: &TestServer| {
        let pool = s.app().db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>("SELECT MAX(id) FROM outbox").fetch_one(&pool).await.unwrap() }
    };
    // Fails twice: the delivery itself and its first retry.
    flaky.fail.store(2, Ordering::SeqCst);
    let y = zhanqun::kernel::time::today().year() + 1;
    let (st, d) = s
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/calendar/days/{y}-05-04"),
            Some(&s.admin),
            Some(json!({"kind": "holiday", "name": "调休", "source": "测试"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let failed_event = outbox_max(&s).await;
    // The rest flow meanwhile: a later event reaches it and the other subscribers.
    let col = s.column(nr.site, "later", None).await;
    let later_event = outbox_max(&s).await;
    until(Duration::from_secs(5), "the later event is delivered", || async {
        flaky.seen.lock().unwrap().contains(&later_event).then_some(())
    })
    .await;
    assert!(!flaky.seen.lock().unwrap().contains(&failed_event), "the failed one waits for its retry");
    let (_, _, page) = s.page("jyj.qingdao.gov.cn", "/").await;
    assert!(page.contains("栏目later"), "the page cache followed the later event");
    let _ = col;
    // Administrators see the failure and its retry.
    let (_, status) = s.get("/api/v1/system/status", &s.admin).await;
    let sub = status["subscribers"].as_array().unwrap().iter().find(|x| x["name"] == "test_flaky").unwrap().clone();
    assert!(sub["failed"].as_u64().unwrap() >= 1, "{sub}");
    let job = until(Duration::from_secs(10), "the retry ran once and failed with its error", || async {
        let (_, jobs) = s.get("/api/v1/jobs", &s.admin).await;
        jobs.as_array().unwrap().iter().find(|j| j["kind"] == "redeliver" && j["last_error"].is_string()).cloned()
    })
    .await;
    assert!(job["last_error"].as_str().unwrap().contains("订阅者暂时无法处理"), "{job}");
    assert_eq!(job["kind_label"], "重新投递事件");
    let (_, mine) = s.get("/api/v1/jobs", &nr.editor.1).await;
    assert_eq!(mine["status"], 403, "jobs are for system administrators");
    // The next retry delivers it.
    until(Duration::from_secs(15), "the failed event is delivered by its retry", || async {
        flaky.seen.lock().unwrap().contains(&failed_event).then_some(())
    })
    .await;
    let done = until(Duration::from_secs(5), "the retry job is done", || async {
        let (_, jobs) = s.get("/api/v1/jobs?state=done", &s.admin).await;
        jobs.as_array().unwrap().iter().find(|j| j["id"] == job["id"]).cloned()
    })
    .await;
    assert_eq!(done["attempts"], 2);
    s.finish().await;
}

/// A job kind under test's control.
struct TestJob {
    name: &'static str,
    limit: Duration,
    fixed: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
}

impl JobKind for TestJob {
    fn name(&self) -> &'static str {
        self.name
    }

    fn label(&self) -> &'static str {
        "测试任务"
    }

    fn time_limit(&self) -> Duration {
        self.limit
    }

    fn run<'a>(&'a self, ctx: &'a JobCtx, _: &'a str) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            let out = match self.name {
                "test_panic" if !self.fixed.load(Ordering::SeqCst) => panic!("boom"),
                "test_overrun" => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(())
                }
                "test_long" => {
                    let mut step = 0;
                    while !self.release.load(Ordering::SeqCst) {
                        step += 1;
                        ctx.progress(&format!("第 {step} 步")).await?;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Ok(())
                }
                _ => Ok(()),
            };
            self.running.fetch_sub(1, Ordering::SeqCst);
            out
        })
    }
}

struct Kinds {
    fixed: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
}

impl Kinds {
    fn new() -> Kinds {
        Kinds {
            fixed: Arc::default(),
            release: Arc::default(),
            running: Arc::default(),
            most: Arc::default(),
            runs: Arc::default(),
        }
    }

    fn prepare(&self) -> crate::common::Prepare {
        let (fixed, release, running, most, runs) =
            (self.fixed.clone(), self.release.clone(), self.running.clone(), self.most.clone(), self.runs.clone());
        Arc::new(move |app: &App| {
            for (name, limit) in [
                ("test_panic", Duration::from_secs(60)),
                ("test_overrun", Duration::from_secs(1)),
                ("test_long", Duration::from_secs(600)),
            ] {
                app.jobs.register(Arc::new(TestJob {
                    name,
                    limit,
                    fixed: fixed.clone(),
                    release: release.clone(),
                    running: running.clone(),
                    most: most.clone(),
                    runs: runs.clone(),
                }));
            }
        })
    }
}

async fn job(s: &TestServer, id: i64) -> Value {
    let (_, jobs) = s.get("/api/v1/jobs?limit=1000", &s.admin).await;
    jobs.as_array().unwrap().iter().find(|j| j["id"] == id).cloned().unwrap_or(Value::Null)
}

async fn jobs_that_panic_or_overrun_fail_with_their_error_and_are_retried_by_an_administrator(b: Backend) {
    let kinds = Kinds::new();
    let s = TestServer::start_with(b, None, Some(kinds.prepare())).await;
    let now = zhanqun::kernel::time::now_ms();
    let panics = s.app().enqueue_job("test_panic", "{}", now).await.unwrap();
    let overruns = s.app().enqueue_job("test_overrun", "{}", now).await.unwrap();
    for (id, error) in [(panics, "任务崩溃：boom"), (overruns, "超过时限（1 秒）被停止")] {
        let j = until(Duration::from_secs(10), "the job fails", || async {
            let j = job(&s, id).await;
            (j["state"] == "failed").then_some(j)
        })
        .await;
        assert_eq!(j["last_error"], error, "{j}");
        assert_eq!(j["attempts"], 1, "failed at once, not retried: {j}");
        assert_eq!(j["state_label"], "失败");
    }
    let (_, status) = s.get("/api/v1/system/status", &s.admin).await;
    assert_eq!(status["jobs"]["failed"], 2, "{status}");
    // Fixed, and retried by an administrator, it runs again and is done.
    kinds.fixed.store(true, Ordering::SeqCst);
    let (st, _) = s.post(&format!("/api/v1/jobs/{panics}/retry"), &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    until(Duration::from_secs(10), "the retried job is done", || async {
        (job(&s, panics).await["state"] == "done").then_some(())
    })
    .await;
    let (st, p) = s.post(&format!("/api/v1/jobs/{panics}/retry"), &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "only a failed job is retried: {p}");
    let (st, _) = s.post("/api/v1/jobs/999999/retry", &s.admin, json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get("/api/v1/jobs?state=sleeping", &s.admin).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // The retry is on record.
    let pool = &s.app().db.pool;
    let retries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'job' AND action = 'retry'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(retries, 1);
    s.finish().await;
}

async fn a_long_job_never_blocks_an_editors_save_and_runs_once(b: Backend) {
    let kinds = Kinds::new();
    let s = TestServer::start_with(b, None, Some(kinds.prepare())).await;
    let nr = Newsroom::new(&s).await;
    let d = nr.draft(&s, "长任务期间的稿件").await;
    let id = s.app().enqueue_job("test_long", "{}", zhanqun::kernel::time::now_ms()).await.unwrap();
    let j = until(Duration::from_secs(10), "the long job runs and reports progress", || async {
        let j = job(&s, id).await;
        (j["state"] == "running" && j["progress"].as_str().is_some_and(|p| p.starts_with("第 "))).then_some(j)
    })
    .await;
    assert_eq!(j["attempts"], 1);
    // While it runs, editors write: saves, a workflow step, a publication.
    let doc = d["id"].as_i64().unwrap();
    let (st, saved) = s
        .patch(
            &format!("/api/v1/documents/{doc}"),
            &nr.editor.1,
            json!({"version": d["version"], "title": "改过的标题"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{saved}");
    nr.publish(&s, doc).await;
    let (_, _, html) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{doc}.html")).await;
    assert!(html.contains("<h1>改过的标题</h1>"));
    assert_eq!(job(&s, id).await["state"], "running", "all that while the job ran");
    kinds.release.store(true, Ordering::SeqCst);
    until(Duration::from_secs(10), "the long job is done", || async {
        (job(&s, id).await["state"] == "done").then_some(())
    })
    .await;
    assert_eq!(kinds.runs.load(Ordering::SeqCst), 1, "it ran once");
    assert_eq!(kinds.most.load(Ordering::SeqCst), 1, "never twice at once");
    s.finish().await;
}

async fn the_page_cache_stays_within_its_byte_budget(b: Backend) {
    let s = TestServer::start_with_config(b, Some("page_cache_mib = 1")).await;
    let nr = Newsroom::new(&s).await;
    // Long documents: each page with its two compressed forms weighs well over 60 KB.
    let body: String = (0..1500).map(|i| format!("第{i}段：加强政府网站信息内容建设，提升服务能力。\n\n")).collect();
    let mut ids = Vec::new();
    for i in 0..24 {
        let (st, d) = s
            .post(
                &format!("/api/v1/sites/{}/documents", nr.site),
                &nr.editor.1,
                json!({"title": format!("长文 {i}"), "body": body, "columns": [nr.column]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let id = d["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        ids.push(id);
    }
    for round in 0..2 {
        for id in &ids {
            let (st, _, html) = s.page("jyj.qingdao.gov.cn", &format!("/articles/{id}.html")).await;
            assert_eq!(st, StatusCode::OK);
            assert!(html.contains(&format!("<h1>长文 {}</h1>", id - ids[0])), "round {round}");
        }
    }
    let (_, status) = s.get("/api/v1/system/status", &s.admin).await;
    let c = &status["page_cache"];
    assert_eq!(c["budget_bytes"], 1024 * 1024);
    assert!(c["bytes"].as_u64().unwrap() <= 1024 * 1024, "{c}");
    assert!(c["evictions"].as_u64().unwrap() > 0, "pages went to make room: {c}");
    assert!(c["hits"].as_u64().unwrap() > 0, "some stayed: {c}");
    s.finish().await;
}
