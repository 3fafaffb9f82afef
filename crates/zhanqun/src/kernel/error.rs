//! The one error type of the application layer. The web layer turns it into
//! `application/problem+json`; internals are logged, never shown.

use zhanqun_domain::{FieldError, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input broke one or more field rules (422).
    #[error("输入有误：{0}")]
    Invalid(FieldErrors),
    /// The thing does not exist, or the caller may not know it exists (404).
    #[error("{0}")]
    NotFound(String),
    /// Not signed in, or the credentials are wrong (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in but lacking the role for this action on this site (403).
    #[error("{0}")]
    Forbidden(String),
    /// The edit was based on an old version; nothing was written (409).
    #[error("{message}")]
    StaleVersion { message: String, current_version: i64 },
    /// The current state does not allow the action (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts; try again later (429).
    #[error("{0}")]
    TooManyAttempts(String),
    /// The request body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The request itself is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The path exists but not with this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request body has the wrong media type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A service the platform depends on (the identity provider) does not answer (503).
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// What people are told of an internal failure.
pub const INTERNAL_MESSAGE: &str = "服务器内部错误，已记录，请稍后再试";

impl AppError {
    pub fn field(field: &str, rule: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(FieldError::new(field, rule, message).into())
    }

    pub fn not_found(what: &str, id: i64) -> AppError {
        AppError::NotFound(format!("{what} #{id} 不存在"))
    }

    /// What a person may be told: each broken rule's message, or the error's own words. An
    /// internal failure is logged here and told only that it happened.
    pub fn messages(&self) -> Vec<String> {
        match self {
            AppError::Invalid(fe) => fe.0.iter().map(|f| f.message.clone()).collect(),
            AppError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "internal error shown to a person");
                vec![INTERNAL_MESSAGE.to_string()]
            }
            other => vec![other.to_string()],
        }
    }

    /// [`AppError::messages`] as one sentence.
    pub fn public_message(&self) -> String {
        self.messages().join("；")
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if crate::kernel::db::is_unique_violation(&e) {
            return AppError::Conflict("与已有数据重复，未保存".into());
        }
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

/// JSON the platform wrote itself (a job's payload, a stored report) that does not read
/// back: a fault of the platform, never of the person asking.
impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_told_rules_and_reasons_but_never_internals() {
        let internal = AppError::Internal(anyhow::anyhow!("relation \"letters\" does not exist"));
        assert_eq!(internal.public_message(), INTERNAL_MESSAGE);
        let mut two = FieldErrors::new();
        two.add("a", "required", "请填写标题");
        two.add("b", "length", "正文太长");
        assert_eq!(AppError::Invalid(two).public_message(), "请填写标题；正文太长");
        assert_eq!(AppError::Conflict("专题已关闭".into()).messages(), ["专题已关闭"]);
    }
}
