//! The disclosure catalog on the public sites: the city-wide one on the city portal, the
//! site's own part on every other site, browsed by body, subject, document type, genre and
//! year, 50 entries a page; its CSV, JSON and Atom exports; each body's guide and reports.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::context;
use zhanqun_domain::disclosure::{DOC_TYPES, GENRES, VALIDITY, label_of};
use zhanqun_domain::site::SiteKind;

use super::catalog::CatalogFilter;
use crate::app::App;
use crate::kernel::AppError;
use crate::kernel::content::xml_escape;
use crate::kernel::time::{fmt_local, fmt_time};
use crate::web::public::Visitor;

pub fn router() -> Router<App> {
    Router::new()
        .route("/catalog/", get(catalog))
        .route("/catalog.csv", get(catalog_csv))
        .route("/catalog.json", get(catalog_json))
        .route("/catalog/feed.atom", get(catalog_feed))
        .route("/catalog/bodies/{id}/guide", get(body_guide))
        .route("/catalog/bodies/{id}/annual-reports/", get(body_reports))
}

const CATALOG_PAGE: i64 = 50;

/// The city portal shows the whole city; every other site its own part.
fn scope(v: &Visitor) -> Option<i64> {
    (v.site.kind != SiteKind::CityPortal).then_some(v.site.id)
}

fn filter_of(q: &HashMap<String, String>) -> CatalogFilter {
    let text = |k: &str| q.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    CatalogFilter {
        body: q.get("body").and_then(|b| b.parse().ok()),
        subject: text("subject"),
        year: q.get("year").and_then(|y| y.trim().parse().ok()),
        validity: text("validity"),
        doc_type: text("doc_type"),
        genre: text("genre"),
    }
}

async fn catalog(State(app): State<App>, v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    let f = filter_of(&q);
    let page: i64 = q.get("page").and_then(|p| p.parse().ok()).filter(|p| (1..=100_000).contains(p)).unwrap_or(1);
    let result = async {
        let (total, entries) = app.catalog(scope(&v), &f, CATALOG_PAGE, (page - 1) * CATALOG_PAGE).await?;
        let subjects = app.subjects(false).await?;
        let bodies = app.list_bodies().await?;
        let body_docs = match f.body {
            Some(b) => Some(app.body_disclosure_docs(b).await?),
            None => None,
        };
        Ok::<_, AppError>((total, entries, subjects, bodies, body_docs))
    };
    match result.await {
        Ok((total, entries, subjects, bodies, body_docs)) => {
            let entries: Vec<minijinja::Value> = entries
                .iter()
                .map(|e| {
                    let validity_label = label_of(VALIDITY, &e.validity).unwrap_or("");
                    let type_label = label_of(DOC_TYPES, &e.doc_type).unwrap_or("");
                    let url = app.document_link(v.site.id, e.site_id, e.document_id);
                    context! { ..context! { validity_label, type_label, url }, ..minijinja::Value::from_serialize(e) }
                })
                .collect();
            let pages = ((total + CATALOG_PAGE - 1) / CATALOG_PAGE).max(1);
            // The filter as a query string, for the paging links.
            let query = {
                let mut keep = url::form_urlencoded::Serializer::new(String::new());
                for k in ["body", "subject", "year", "validity", "doc_type", "genre"] {
                    if let Some(val) = q.get(k).filter(|val| !val.is_empty()) {
                        keep.append_pair(k, val);
                    }
                }
                keep.finish()
            };
            let ctx = context! {
                total, entries, bodies, subjects, page, pages, query, body_docs,
                f => minijinja::Value::from_serialize(serde_json::json!({
                    "body": f.body, "subject": f.subject, "year": f.year, "validity": f.validity,
                    "doc_type": f.doc_type, "genre": f.genre,
                })),
                validity => VALIDITY, doc_types => DOC_TYPES, genres => GENRES,
            };
            v.page(&app, StatusCode::OK, "catalog.html", ctx).await
        }
        Err(e) => v.failed(&app, &e).await,
    }
}

/// A body's disclosure guide: a stable address that always opens the newest published one.
async fn body_guide(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    let Some(id) = id.parse::<i64>().ok() else { return v.missing(&app, "公开指南").await };
    match app.body_disclosure_docs(id).await {
        Ok(d) => match d.guide {
            Some(g) => axum::response::Redirect::to(&g.url).into_response(),
            None => v.missing(&app, "公开指南").await,
        },
        Err(e) => v.lookup_failed(&app, "公开指南", e).await,
    }
}

/// A body's annual reports on government information disclosure, newest year first.
async fn body_reports(State(app): State<App>, v: Visitor, Path(id): Path<String>) -> Response {
    let Some(id) = id.parse::<i64>().ok() else { return v.missing(&app, "年度报告").await };
    match app.body_disclosure_docs(id).await {
        Ok(d) => v.page(&app, StatusCode::OK, "annual_reports.html", context! { d }).await,
        Err(e) => v.lookup_failed(&app, "年度报告", e).await,
    }
}

fn export_failed(e: &AppError) -> Response {
    tracing::error!(error = %e, "catalog export failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "目录暂时无法导出").into_response()
}

/// The catalog as CSV (UTF-8 with BOM, so spreadsheet software reads the Chinese right).
async fn catalog_csv(State(app): State<App>, v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    let entries = match app.catalog(scope(&v), &filter_of(&q), 100_000, 0).await {
        Ok((_, entries)) => entries,
        Err(e) => return export_failed(&e),
    };
    let mut w = crate::kernel::export::Csv::default();
    let header_row = [
        "索引号",
        "名称",
        "发文机关",
        "发文字号",
        "主题分类",
        "文件类型",
        "成文日期",
        "发布日期",
        "效力",
        "体裁",
        "关键词",
        "地址",
    ];
    let written = (|| {
        w.row(header_row)?;
        for e in &entries {
            let validity = label_of(VALIDITY, &e.validity).unwrap_or("");
            let doc_type = label_of(DOC_TYPES, &e.doc_type).unwrap_or("");
            let published = e.published_ms.map(fmt_local).unwrap_or_default();
            w.row([
                e.index_number.as_deref().unwrap_or(""),
                &e.title,
                &e.body,
                e.document_number.as_deref().unwrap_or(""),
                &e.subject,
                doc_type,
                &e.date_written,
                &published,
                validity,
                e.genre.as_deref().unwrap_or(""),
                &e.keywords,
                &e.url,
            ])?;
        }
        Ok::<_, AppError>(())
    })();
    let body = match written.and_then(|()| w.finish()) {
        Ok(b) => b,
        Err(e) => return export_failed(&e),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog.csv\""),
        ],
        body,
    )
        .into_response()
}

/// The catalog as JSON, whole (with the page's filters), for those who reuse it.
async fn catalog_json(State(app): State<App>, v: Visitor, Query(q): Query<HashMap<String, String>>) -> Response {
    match app.catalog(scope(&v), &filter_of(&q), 100_000, 0).await {
        Ok((total, entries)) => (
            [(header::CONTENT_DISPOSITION, "inline; filename=\"catalog.json\"")],
            axum::Json(serde_json::json!({"site": v.site.name, "total": total, "entries": entries})),
        )
            .into_response(),
        Err(e) => export_failed(&e),
    }
}

/// An Atom feed of the newest catalog entries.
async fn catalog_feed(State(app): State<App>, v: Visitor) -> Response {
    let entries = match app.catalog(scope(&v), &CatalogFilter::default(), 50, 0).await {
        Ok((_, entries)) => entries,
        Err(e) => return export_failed(&e),
    };
    let base = match &v.site.primary_domain {
        Some(d) => format!("{}://{d}", app.config.public_scheme),
        None => String::new(),
    };
    let updated = entries.first().and_then(|e| e.published_ms).map(fmt_time).unwrap_or_else(|| fmt_time(0));
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{} 政府信息公开目录</title>\n<id>{base}/catalog/</id>\n<link rel=\"self\" href=\"{base}/catalog/feed.atom\"/>\n<updated>{updated}</updated>\n",
        xml_escape(&v.site.name)
    );
    for e in &entries {
        let url = match app.document_link(v.site.id, e.site_id, e.document_id) {
            u if u.starts_with('/') => format!("{base}{u}"),
            u => u,
        };
        let when = e.published_ms.map(fmt_time).unwrap_or_else(|| updated.clone());
        let summary = format!(
            "索引号：{}；发文机关：{}；发文字号：{}；主题分类：{}；成文日期：{}",
            e.index_number.as_deref().unwrap_or(""),
            e.body,
            e.document_number.as_deref().unwrap_or(""),
            e.subject,
            e.date_written
        );
        xml.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{url}</id>\n<link href=\"{url}\"/>\n<updated>{when}</updated>\n<author><name>{}</name></author>\n<summary>{}</summary>\n</entry>\n",
            xml_escape(&e.title),
            xml_escape(&e.body),
            xml_escape(&summary)
        ));
    }
    xml.push_str("</feed>\n");
    ([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response()
}
