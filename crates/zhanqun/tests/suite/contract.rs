//! The OpenAPI document and the router agree: every documented operation is routed, and
//! the paths outside clients rely on are documented.

use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_router() {
    let s = TestServer::start(Backend::Sqlite).await;
    let doc: Value =
        s.client.get(format!("{}/api/v1/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/token", "post"),
        ("/api/v1/sites", "get"),
        ("/api/v1/sites", "post"),
        ("/api/v1/sites/{id}", "get"),
        ("/api/v1/sites/{id}", "patch"),
        ("/api/v1/sites/{id}/transitions", "post"),
        ("/api/v1/sites/{id}/columns", "get"),
        ("/api/v1/sites/{id}/columns", "post"),
        ("/api/v1/sites/{id}/documents", "post"),
        ("/api/v1/documents/{id}", "get"),
        ("/api/v1/documents/{id}", "patch"),
        ("/api/v1/documents/{id}/transitions", "post"),
        ("/api/v1/documents/{id}/history", "get"),
        ("/healthz", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is part of the contract but undocumented"
        );
    }
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "1").replace("{user_id}", "1").replace("{role}", "editor");
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = s.client.request(m, format!("{}{concrete}", s.base)).send().await.unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body["detail"] == "没有这个接口");
            assert!(!unrouted, "{method} {path} is documented but not routed ({status})");
            checked += 1;
        }
    }
    assert!(checked >= 28, "only {checked} operations documented");
    s.finish().await;
}
