//! The API and its description agree. The document is generated from the handlers (an
//! operation can only be routed together with its description); here every documented
//! operation is shown to be routed, the reference page to be served from the binary, and
//! the checker every test's API call goes through (`common::contract`) to catch an answer
//! that does not match its schema.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, TestServer, contract};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed_and_described_whole() {
    let s = TestServer::start(Backend::Sqlite).await;
    let doc: Value =
        s.client.get(format!("{}/api/v1/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(&doc, contract::document(), "the served document is the generated one");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", "1")
            .replace("{user_id}", "1")
            .replace("{role}", "editor")
            .replace("{policy_id}", "1")
            .replace("{date}", "2030-01-01")
            .replace("{year}", "2025");
        assert!(!concrete.contains('{'), "a path parameter this test does not know: {path}");
        for (method, op) in ops.as_object().unwrap() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = s.client.request(m, format!("{}{concrete}", s.base)).send().await.unwrap();
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body["detail"] == "没有这个接口");
            assert!(!unrouted, "{method} {path} is documented but not routed ({status})");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path}: no success answer documented");
            assert!(responses.contains_key("4XX"), "{method} {path}: its problems are not documented");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} belongs to no tag");
            checked += 1;
        }
    }
    // Every operation of the API as it stands (issue #9 counted them); more is fine.
    assert!(checked >= 90, "only {checked} operations documented");
    // The operations the old hand-written document had left out are there now.
    for (path, method) in [
        ("/api/v1/interviews/{id}/questions", "post"),
        ("/api/v1/questions/{id}", "post"),
        ("/api/v1/letter-attachments/{id}", "get"),
        ("/api/v1/jobs", "get"),
        ("/api/v1/jobs/{id}/retry", "post"),
        ("/healthz", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is undocumented");
    }
    // Public operations say so; the rest need the bearer token.
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    assert_eq!(paths["/api/v1/auth/token"]["post"]["security"], json!([{}]));
    assert!(paths["/api/v1/sites"]["get"].get("security").is_none());
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_reference_is_served_from_the_binary() {
    let s = TestServer::start(Backend::Sqlite).await;
    let r = s.client.get(format!("{}/api/v1/docs/", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // No CDN: every script and style comes from this server.
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(
                !url.starts_with("http") && !url.starts_with("//"),
                "the reference page loads {url} from elsewhere"
            );
        }
    }
    let js = s.client.get(format!("{}/api/v1/docs/swagger-ui-bundle.js", s.base)).send().await.unwrap();
    assert_eq!(js.status(), StatusCode::OK, "the bundle is in the binary");
    let init = s.client.get(format!("{}/api/v1/docs/swagger-initializer.js", s.base)).send().await.unwrap();
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"), "the page reads this server's document");
    s.finish().await;
}

#[test]
fn the_checker_catches_an_answer_that_breaks_its_schema() {
    let op = contract::operation(&Method::GET, "/api/v1/sites/7").map(|(t, _)| t);
    assert_eq!(op.as_deref(), Some("/api/v1/sites/{id}"));
    assert_eq!(
        contract::operation(&Method::GET, "/api/v1/letters/reminders?day=2026-01-05").map(|(t, _)| t).as_deref(),
        Some("/api/v1/letters/reminders"),
        "a literal path wins over /letters/{{id}}"
    );
    let good = json!([{"id": 1, "site_id": 1, "parent_id": null, "name": "栏目", "slug": "a", "kind": "news",
        "kind_label": "要闻动态", "source": "办公室", "owner": "张三", "duty": "daily", "duty_days": null, "status": "active",
        "merged_into": null, "sort_order": 0, "path": "/columns/a/", "version": 1, "created_at": "x", "updated_at": "x"}]);
    contract::check(&Method::GET, "/api/v1/sites/1/columns", StatusCode::OK, "application/json", "[…]", &good);
    let mut bad = good.clone();
    bad[0]["version"] = json!("one");
    let caught = std::panic::catch_unwind(|| {
        contract::check(&Method::GET, "/api/v1/sites/1/columns", StatusCode::OK, "application/json", "[…]", &bad)
    });
    assert!(caught.is_err(), "a wrong type is caught");
    let missing = json!([{"id": 1}]);
    let caught = std::panic::catch_unwind(|| {
        contract::check(&Method::GET, "/api/v1/sites/1/columns", StatusCode::OK, "application/json", "[…]", &missing)
    });
    assert!(caught.is_err(), "a missing field is caught");
    let undocumented = std::panic::catch_unwind(|| {
        contract::check(
            &Method::GET,
            "/api/v1/sites/1/columns",
            StatusCode::IM_A_TEAPOT,
            "application/json",
            "{}",
            &json!({}),
        )
    });
    assert!(undocumented.is_err(), "an undocumented status is caught");
    let unknown = std::panic::catch_unwind(|| {
        contract::check(&Method::PUT, "/api/v1/sites/1/columns", StatusCode::OK, "application/json", "{}", &json!({}))
    });
    assert!(unknown.is_err(), "an answer from an undocumented operation is caught");
}
