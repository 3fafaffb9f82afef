//! Several nodes on one PostgreSQL database: what one node publishes, the others serve.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Backend, Newsroom, TestServer};
use zhanqun::server::Settings;

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "PostgreSQL suite: set ZHANQUN_TEST_POSTGRES and run with --ignored (.ci/run does)"]
    async fn a_second_node_serves_what_the_first_published() {
        let s = TestServer::start(Backend::Postgres).await;
        let nr = Newsroom::new(&s).await;
        let other_dir = tempfile::tempdir().unwrap();
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
}
