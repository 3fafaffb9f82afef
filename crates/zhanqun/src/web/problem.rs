//! `application/problem+json` (RFC 9457) for every error the API returns, and the
//! extractors that turn malformed requests into such problems instead of plain text.

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::json;
use zhanqun_domain::FieldError;

use crate::kernel::AppError;

/// An error answer (RFC 9457 `application/problem+json`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "describes the JSON that `AppError::into_response` writes")]
pub struct Problem {
    /// `urn:zhanqun:problem:KIND`, e.g. `urn:zhanqun:problem:validation`.
    #[schema(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    /// What went wrong, for a person (Simplified Chinese).
    detail: String,
    /// With `validation`: every broken rule, each naming its field.
    #[schema(nullable = false)]
    errors: Option<Vec<ProblemField>>,
    /// With `stale-version`: the version the thing is at now.
    #[schema(nullable = false)]
    current_version: Option<i64>,
}

/// One broken rule on one input field.
#[derive(utoipa::ToSchema)]
#[schema(as = FieldError)]
#[allow(dead_code, reason = "describes zhanqun_domain::FieldError as serialised")]
pub struct ProblemField {
    /// The field as the client named it (`primary_domain`, `columns[2]`).
    field: String,
    /// A stable machine-readable rule name (`required`, `domain_rule`).
    rule: String,
    /// A message a person understands, in Simplified Chinese.
    message: String,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::StaleVersion { .. } | AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "validation",
            AppError::NotFound(_) => "not-found",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::StaleVersion { .. } => "stale-version",
            AppError::Conflict(_) => "conflict",
            AppError::TooManyAttempts(_) => "too-many-attempts",
            AppError::TooLarge(_) => "too-large",
            AppError::BadRequest(_) => "bad-request",
            AppError::UnsupportedMediaType(_) => "unsupported-media-type",
            AppError::MethodNotAllowed(_) => "method-not-allowed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error");
        let mut body = json!({
            "type": format!("urn:zhanqun:problem:{}", self.kind()),
            "title": title,
            "status": status.as_u16(),
        });
        match &self {
            AppError::Invalid(errs) => {
                body["detail"] = json!(errs.0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("；"));
                body["errors"] = json!(errs.0);
            }
            AppError::StaleVersion { message, current_version } => {
                body["detail"] = json!(message);
                body["current_version"] = json!(current_version);
            }
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error");
                body["detail"] = json!(crate::kernel::error::INTERNAL_MESSAGE);
            }
            other => body["detail"] = json!(other.to_string()),
        }
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// A `multipart/form-data` body whose refusal (no or a broken boundary, another media type)
/// is a problem like every other API error.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::extract::Multipart::from_request(req, state).await.map(ApiMultipart).map_err(|e| {
            AppError::UnsupportedMediaType(format!(
                "请求体须为 multipart/form-data，并带有效的 boundary：{}",
                e.body_text()
            ))
        })
    }
}

/// A JSON body that reports its errors as problems naming the field at fault.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + utoipa::ToSchema> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType("请求体须为 JSON（Content-Type: application/json）".into()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson).map_err(|e| every_missing_field::<T>(&bytes, e))
    }
}

/// A refusal for one missing field widened to every required field the body leaves out
/// (serde stops at the first): the person mends the form once, not once per field. The
/// required fields are those of the type's schema in the API document.
fn every_missing_field<T: utoipa::ToSchema>(bytes: &[u8], e: AppError) -> AppError {
    let AppError::Invalid(ref errs) = e else { return e };
    if !errs.0.iter().any(|f| f.rule == "required" && !f.field.contains('.')) {
        return e;
    }
    let Ok(serde_json::Value::Object(given)) = serde_json::from_slice::<serde_json::Value>(bytes) else { return e };
    let doc = crate::web::api::document();
    let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(schema))) =
        doc.components.as_ref().and_then(|c| c.schemas.get(T::name().as_ref()))
    else {
        return e;
    };
    let missing: Vec<FieldError> = schema
        .required
        .iter()
        .filter(|f| !given.contains_key(f.as_str()))
        .map(|f| FieldError::new(f.clone(), "required", format!("缺少必填字段 {f}")))
        .collect();
    if missing.is_empty() { e } else { AppError::Invalid(zhanqun_domain::validate::FieldErrors(missing)) }
}

fn body_error(e: BytesRejection) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("请求体过大".into())
    } else {
        AppError::BadRequest(format!("无法读取请求体：{}", e.body_text()))
    }
}

/// Parses JSON, naming the field at fault in any error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return AppError::BadRequest(format!(
                "请求体不是合法的 JSON：第 {} 行第 {} 列",
                inner.line(),
                inner.column()
            ));
        }
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        let join =
            |name: &str| if path == "." || path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        let quoted = |m: &str| m.split('`').nth(1).unwrap_or("").to_string();
        let fe = if msg.starts_with("missing field") {
            let f = join(&quoted(&msg));
            FieldError::new(f.clone(), "required", format!("缺少必填字段 {f}"))
        } else if msg.starts_with("unknown field") {
            // The path already ends at the unknown field.
            let f = if path == "." { quoted(&msg) } else { path };
            FieldError::new(f.clone(), "unknown_field", format!("不认识的字段 {f}"))
        } else {
            let f = if path == "." { "body".to_string() } else { path };
            FieldError::new(f.clone(), "type", format!("字段 {f} 的类型或取值不对（{msg}）"))
        };
        AppError::Invalid(fe.into())
    })
}

/// Path parameters; a malformed one (`/sites/abc`) is a 404 problem, not plain text.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| AppError::NotFound(format!("地址无效：{}", e.body_text())))
    }
}

/// Query parameters with problem errors.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| AppError::BadRequest(format!("查询参数有误：{}", e.body_text())))
    }
}
