//! `/api/v1`: JSON in, JSON out, errors as problem+json. Each capability writes its handlers
//! with `#[utoipa::path]` and routes them with `routes!`, so an operation is routed only
//! together with its description: the OpenAPI document is generated from the handlers'
//! own types and cannot leave one out. The reference page (`/api/v1/docs/`) is Swagger UI,
//! served from the binary.

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa_axum::router::OpenApiRouter;

use super::problem::Problem;
use crate::app::App;
use crate::kernel::{Actor, AppError, AppResult};

/// What each capability's `api::router()` returns. An operation is added only with its
/// description (`routes!` of `#[utoipa::path]` handlers): there is no method to route one
/// without it, so a routed operation cannot be missing from the document.
pub struct ApiRouter(OpenApiRouter<App>);

impl Default for ApiRouter {
    fn default() -> Self {
        ApiRouter(OpenApiRouter::new())
    }
}

impl ApiRouter {
    pub fn new() -> ApiRouter {
        ApiRouter::default()
    }

    /// Routes the handlers of `r` and adds their descriptions.
    pub fn routes(self, r: utoipa_axum::router::UtoipaMethodRouter<App>) -> ApiRouter {
        ApiRouter(self.0.routes(r))
    }
}

/// A JSON answer.
pub use axum::Json;

/// `201 Created` with a `Location` and the created thing.
pub struct Created<T>(pub String, pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let mut r = (StatusCode::CREATED, axum::Json(self.1)).into_response();
        if let Ok(h) = HeaderValue::from_str(&self.0) {
            r.headers_mut().insert(header::LOCATION, h);
        }
        r
    }
}

/// The signed-in caller, from `Authorization: Bearer TOKEN`.
pub struct Auth(pub Actor);

/// The raw bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// The bearer token itself, for logging out.
pub struct RawToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RawToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        bearer(parts)
            .map(|t| RawToken(t.to_string()))
            .ok_or_else(|| AppError::Unauthorized("缺少 Authorization: Bearer 令牌".into()))
    }
}

impl FromRequestParts<App> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let token =
            bearer(parts).ok_or_else(|| AppError::Unauthorized("请先登录：缺少 Authorization: Bearer 令牌".into()))?;
        let actor = app.actor_for_token(token).await?;
        super::Signer::note(parts, &actor);
        // A reset or expired password: only who they are, a new password, or signing out.
        // (Inside the nested API router the path may have lost its `/api/v1` prefix.)
        let path = parts.uri.path();
        let path = path.strip_prefix("/api/v1").unwrap_or(path);
        if actor.must_change_password && !matches!(path, "/me" | "/me/password" | "/auth/token") {
            return Err(AppError::Forbidden("须先修改密码（密码已被重置或已过期）：POST /api/v1/me/password".into()));
        }
        let enrolling = matches!(path, "/me" | "/me/password" | "/auth/token") || path.starts_with("/me/two-factor");
        if actor.must_enroll_two_factor && !enrolling {
            return Err(AppError::Forbidden(
                "须先启用双因素登录（管理员、站点管理员和审核人员必须启用）：POST /api/v1/me/two-factor".into(),
            ));
        }
        Ok(Auth(actor))
    }
}

/// A download: bytes with their type and a file name.
pub fn download(bytes: Vec<u8>, media_type: &str, file_name: &str) -> Response {
    let mut r = Response::new(axum::body::Body::from(bytes));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_DISPOSITION, super::headers::attachment_disposition(file_name));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Every capability's operations, and the document describing them.
fn operations() -> OpenApiRouter<App> {
    [
        crate::people::api::router(),
        crate::sites::api::router(),
        crate::columns::api::router(),
        crate::documents::api::router(),
        crate::bodies::api::router(),
        crate::calendar::api::router(),
        crate::expressions::api::router(),
        crate::mailbox::api::router(),
        crate::participation::api::router(),
        crate::disclosure::api::router(),
        crate::reposts::api::router(),
        crate::inventory::api::router(),
        crate::topics::api::router(),
        crate::system::api::router(),
        crate::monitor::api::router(),
        crate::corrections::api::router(),
        crate::staffing::api::router(),
        crate::visits::api::router(),
        crate::annual::api::router(),
        crate::public::search::api_router(),
    ]
    .into_iter()
    .fold(OpenApiRouter::with_openapi(base_document()), |all, r| all.merge(r.0))
}

/// Whether the server and its database answer (for load balancers and monitoring).
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses(
    (status = 200, description = "在服务", body = Health),
    (status = 503, description = "数据库无法访问", body = Health)))]
async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> Response {
    let database = app.db.backend.name();
    match tokio::time::timeout(std::time::Duration::from_secs(3), app.db.ping()).await {
        Ok(Ok(())) => axum::Json(Health { status: "ok", database }).into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(Health { status: "unavailable", database })).into_response(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok` or `unavailable`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
}

fn everything() -> OpenApiRouter<App> {
    OpenApiRouter::<App>::new().nest("/api/v1", operations()).routes(utoipa_axum::routes!(healthz))
}

/// The generated OpenAPI document, as served (also used by the tests).
pub fn document() -> &'static OpenApi {
    static DOC: std::sync::OnceLock<OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| finish(everything().split_for_parts().1))
}

/// `/api/v1/…` and `/healthz` for the web shell, with the document and its reference page.
pub fn router() -> Router<App> {
    let (api, _) = everything().split_for_parts();
    // Swagger UI serves the document at /api/v1/openapi.json and itself at /api/v1/docs/.
    api.merge(utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", document().clone()))
        .route("/api/v1", axum::routing::get(|| async { axum::response::Redirect::to("/api/v1/docs/") }))
        .route("/api/v1/{*rest}", axum::routing::any(|| async { AppError::NotFound("没有这个接口".into()) }))
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("该接口不支持这种请求方法".into())
        })
}

fn base_document() -> OpenApi {
    use utoipa::openapi::{ComponentsBuilder, InfoBuilder, OpenApiBuilder};
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("zhanqun（站群）API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "One platform for every government website of a city. Errors are application/problem+json \
                     (RFC 9457) with the broken rules in `errors`; times are RFC 3339 in China Standard Time. \
                     Sign in with POST /api/v1/auth/token and send `Authorization: Bearer TOKEN`.",
                ))
                .build(),
        )
        .components(Some(ComponentsBuilder::new().build()))
        .tags(Some(
            [
                ("people", "人员、登录与角色"),
                ("sites", "站点登记与生命周期"),
                ("columns", "栏目"),
                ("documents", "稿件、审核流程与附件"),
                ("bodies", "机构及其代码"),
                ("calendar", "工作日与节假日"),
                ("expressions", "错敏词库与文稿检查"),
                ("mailbox", "政府信箱"),
                ("participation", "意见征集、网上调查与在线访谈"),
                ("disclosure", "政府信息公开：属性、目录、主题分类与解读"),
                ("reposts", "跨站转载"),
                ("inventory", "信息内容清单"),
                ("topics", "专题"),
                ("public", "公众检索"),
                ("monitor", "网站检查：单项否决、百分制得分、趋势、排名与整改通知"),
                ("error-reports", "我为政府网站找错与值班读网"),
                ("staff", "网站信息员、审核把关人员与培训，外包合同"),
                ("visits", "访问统计"),
                ("annual-reports", "网站年度报表"),
                ("system", "系统运行：后台任务、事件投递与健康检查"),
            ]
            .map(|(name, description)| {
                utoipa::openapi::tag::TagBuilder::new().name(name).description(Some(description)).build()
            }),
        ))
        .build()
}

/// Adds what every operation shares: the bearer scheme (required unless an operation says
/// `security(())`), and the problem answers for 4XX and 5XX.
fn finish(mut doc: OpenApi) -> OpenApi {
    use utoipa::openapi::ResponseBuilder;
    use utoipa::openapi::content::ContentBuilder;
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("POST /api/v1/auth/token 取得的令牌"))
                .build(),
        ),
    );
    let name = <Problem as utoipa::ToSchema>::name().into_owned();
    components.schemas.insert(name.clone(), <Problem as utoipa::PartialSchema>::schema());
    let mut more = Vec::new();
    <Problem as utoipa::ToSchema>::schemas(&mut more);
    for (n, s) in more {
        components.schemas.entry(n).or_insert(s);
    }
    doc.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    let problem = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name.clone()))))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        for op in item_operations(item) {
            for (status, r) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = r
                    && r.description.is_empty()
                {
                    r.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("OK")
                        .to_string();
                }
            }
            op.responses
                .responses
                .entry("4XX".into())
                .or_insert_with(|| RefOr::T(problem("请求有误：输入、权限、状态或找不到（problem+json）")));
            op.responses.responses.entry("5XX".into()).or_insert_with(|| RefOr::T(problem("服务器内部错误，已记录")));
        }
    }
    doc
}

fn item_operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Reads one uploaded part whole, refusing it once it passes `limit` bytes (the upload
/// routes take their limit from the configuration rather than the global body limit).
pub async fn read_part(mut field: axum::extract::multipart::Field<'_>, limit: usize) -> AppResult<bytes::Bytes> {
    let mut buf = bytes::BytesMut::new();
    loop {
        match field.chunk().await {
            Ok(Some(c)) => {
                if buf.len() + c.len() > limit {
                    return Err(AppError::TooLarge(format!("文件过大，上限 {} MB", limit / (1024 * 1024))));
                }
                buf.extend_from_slice(&c);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => return Err(multipart_error(e)),
        }
    }
}

/// A malformed or oversized multipart body as a problem.
pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge("上传内容过大".into())
    } else {
        AppError::BadRequest(format!("上传内容有误：{}", e.body_text()))
    }
}
