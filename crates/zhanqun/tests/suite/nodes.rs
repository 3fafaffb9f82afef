//! Several nodes on one PostgreSQL database: what one node publishes, the others serve.

use std::time::{Duration, Instant};

use crate::common::{Backend, Newsroom, TestServer};
use zhanqun::server::Settings;

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
    async fn a_second_node_serves_what_the_first_published() {
        let s = TestServer::start(Backend::Postgres).await;
        let nr = Newsroom::new(&s).await;
        let other_dir = s.other_node_dir();
        let settings = Settings {
            data_dir: other_dir.path().to_path_buf(),
            database_url: s.settings.database_url.clone(),
            config_file: None,
        };
        let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
        let get = |path: &str| {
            s.client.get(format!("{}{path}", node_b.base_url())).header("host", "jyj.qingdao.gov.cn").send()
        };
        // Node B has the home page cached before the document exists.
        let home = get("/").await.unwrap().text().await.unwrap();
        assert!(!home.contains("两个节点"));
        let id = nr.draft(&s, "两个节点都能看到的通知").await["id"].as_i64().unwrap();
        nr.publish(&s, id).await;
        let t0 = Instant::now();
        loop {
            let home = get("/").await.unwrap().text().await.unwrap();
            if home.contains("两个节点都能看到的通知") {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "node B still serves the old home page");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = get(&format!("/articles/{id}.html")).await.unwrap();
        assert_eq!(r.status(), 200);
        node_b.stop().await;
        s.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
    async fn a_holiday_set_on_one_node_moves_the_deadlines_another_node_counts() {
        let s = TestServer::start(Backend::Postgres).await;
        let other_dir = s.other_node_dir();
        let settings = Settings {
            data_dir: other_dir.path().to_path_buf(),
            database_url: s.settings.database_url.clone(),
            config_file: None,
        };
        let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
        let due = |from: String| {
            let url = format!("{}/api/v1/calendar/working-days?from={from}&days=1", node_b.base_url());
            let c = s.client.clone();
            async move {
                let v: serde_json::Value = c.get(url).send().await.unwrap().json().await.unwrap();
                v["due"].as_str().unwrap().to_string()
            }
        };
        // A day of a coming year: node B counts it as the next working day until node A
        // makes it a holiday.
        let y = zhanqun::kernel::time::today().year() + 1;
        let from = format!("{y}-06-07");
        let before = due(from.clone()).await;
        let (st, d) = s
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/calendar/days/{before}"),
                Some(&s.admin),
                Some(serde_json::json!({"kind": "holiday", "name": "临时假日", "source": "测试"})),
            )
            .await;
        assert_eq!(st, 200, "{d}");
        let t0 = Instant::now();
        loop {
            let now = due(from.clone()).await;
            if now != before {
                assert!(now > before, "the deadline moves later: {before} → {now}");
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "node B still counts {before} as a working day");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        node_b.stop().await;
        s.finish().await;
    }

    mod reposts {
        use super::super::*;
        use serde_json::json;

        /// Waits until node B serves `path` on `host` with `want` in it.
        async fn until(base: &str, host: &str, path: &str, want: &str) {
            let c = reqwest::Client::new();
            let t0 = Instant::now();
            loop {
                let page =
                    c.get(format!("{base}{path}")).header("host", host).send().await.unwrap().text().await.unwrap();
                if page.contains(want) {
                    return;
                }
                assert!(t0.elapsed() < Duration::from_secs(5), "node B still serves the old {path} on {host}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
        async fn a_second_node_follows_reposts_and_edits_of_their_original() {
            let s = TestServer::start(Backend::Postgres).await;
            let nr = Newsroom::new(&s).await;
            let wsjkw = s.department("wsjkw").await;
            s.bring_online(wsjkw, "3702000013").await;
            let (st, c) = s
                .post(
                    &format!("/api/v1/sites/{wsjkw}/columns"),
                    &s.admin,
                    json!({"name": "上级文件", "slug": "shangji", "kind": "policy", "source": "上级", "owner": "办公室", "duty": "instant"}),
                )
                .await;
            assert_eq!(st, 201, "{c}");
            let other_dir = s.other_node_dir();
            let settings = Settings {
                data_dir: other_dir.path().to_path_buf(),
                database_url: s.settings.database_url.clone(),
                config_file: None,
            };
            let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
            let b = node_b.base_url();
            let id = nr.draft(&s, "跨节点转载的通知").await["id"].as_i64().unwrap();
            nr.publish(&s, id).await;
            // Node B has the receiving column cached before the repost.
            until(&b, "wsjkw.qingdao.gov.cn", "/columns/shangji/", "栏目").await;
            let (st, out) = s
                .post(
                    &format!("/api/v1/documents/{id}/reposts"),
                    &nr.editor.1,
                    json!({"sites": [wsjkw], "column": "上级文件"}),
                )
                .await;
            assert_eq!(st, 201, "{out}");
            // A sibling site shows it once it accepts it (on node A); node B follows.
            let accept = format!("/api/v1/reposts/{}/accept", out["created"][0]["id"]);
            assert_eq!(s.post(&accept, &s.admin, json!({})).await.0, 200);
            until(&b, "wsjkw.qingdao.gov.cn", "/columns/shangji/", "跨节点转载的通知").await;
            until(&b, "wsjkw.qingdao.gov.cn", &format!("/articles/{id}.html"), "<h1>跨节点转载的通知</h1>").await;
            // An edit of the original on node A reaches the copy node B serves.
            let (_, d) = s.get(&format!("/api/v1/documents/{id}"), &nr.editor.1).await;
            s.patch(
                &format!("/api/v1/documents/{id}"),
                &nr.editor.1,
                json!({"version": d["version"], "title": "跨节点转载的通知（更新）"}),
            )
            .await;
            nr.publish(&s, id).await;
            until(&b, "wsjkw.qingdao.gov.cn", &format!("/articles/{id}.html"), "<h1>跨节点转载的通知（更新）</h1>")
                .await;
            node_b.stop().await;
            s.finish().await;
        }
    }

    /// Several nodes on one PostgreSQL: each keeps its own index; a new node builds its own and
    /// catches up by itself; a node that was stopped resumes from the position its index
    /// recorded (no rebuild) and finds what was published meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
    async fn each_node_keeps_its_own_search_index() {
        let s = TestServer::start(Backend::Postgres).await;
        let nr = Newsroom::new(&s).await;
        let early = crate::search::publish(&s, &nr, "节点甲先发布的招生简章", "内容。", nr.column, None).await;
        let other = s.other_node_dir();
        let settings = zhanqun::server::Settings {
            data_dir: other.path().to_path_buf(),
            database_url: s.settings.database_url.clone(),
            config_file: None,
        };
        let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
        let on_b = |q: &str| {
            let url = format!("{}/api/v1/search?q={}", node_b.base_url(), crate::search::enc(q));
            let c = s.client.clone();
            async move { c.get(url).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
        };
        let r = on_b("招生简章").await;
        assert_eq!(
            (r["engine"].as_str(), crate::search::ids(&r)),
            (Some("fulltext"), vec![early]),
            "node B built its own: {r}"
        );
        let later = crate::search::publish(&s, &nr, "节点甲后发布的招生简章", "内容。", nr.column, None).await;
        let t0 = Instant::now();
        while !crate::search::ids(&on_b("招生简章").await).contains(&later) {
            assert!(t0.elapsed() < Duration::from_secs(5), "node B's index did not follow the outbox");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let b_index = std::fs::read_to_string(other.path().join("search/CURRENT")).unwrap();
        node_b.stop().await;
        let meanwhile =
            crate::search::publish(&s, &nr, "节点乙停机期间发布的招生简章", "内容。", nr.column, None).await;
        let node_b = zhanqun::server::start(settings.open_app().await.unwrap(), "127.0.0.1:0").await.unwrap();
        let url = format!("{}/api/v1/search?q={}", node_b.base_url(), crate::search::enc("招生简章"));
        let t0 = Instant::now();
        loop {
            let r: serde_json::Value = s.client.get(&url).send().await.unwrap().json().await.unwrap();
            if crate::search::ids(&r).contains(&meanwhile) {
                assert_eq!(r["engine"], "fulltext");
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(5), "node B did not catch up: {r}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            std::fs::read_to_string(other.path().join("search/CURRENT")).unwrap(),
            b_index,
            "resumed, not rebuilt"
        );
        node_b.stop().await;
        s.finish().await;
    }
}
