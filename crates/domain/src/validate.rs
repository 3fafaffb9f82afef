//! Field validation errors shared by every layer: the API turns them into
//! `application/problem+json`, the admin UI shows the message next to the field.

use serde::Serialize;

/// One broken rule on one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field as the client named it (`primary_domain`, `columns[2]`).
    pub field: String,
    /// A stable machine-readable rule name (`required`, `site_code_format`, `domain_rule`).
    pub rule: String,
    /// A message a person understands, in Simplified Chinese.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), rule: rule.into(), message: message.into() }
    }
}

/// A list of field errors collected while validating one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    pub fn add(&mut self, field: &str, rule: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, rule, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records `field` as missing when `value` is empty after trimming.
    pub fn required(&mut self, field: &str, label: &str, value: &str) {
        if value.trim().is_empty() {
            self.add(field, "required", format!("请填写{label}"));
        }
    }

    /// Records `field` as too long when it has more than `max` characters.
    pub fn max_chars(&mut self, field: &str, label: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.add(field, "max_length", format!("{label}不能超过 {max} 个字符（现为 {n} 个）"));
        }
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_and_length() {
        let mut e = FieldErrors::new();
        e.required("title", "标题", "  ");
        e.max_chars("title", "标题", "一二三四", 3);
        assert_eq!(e.0.len(), 2);
        assert_eq!(e.0[0].rule, "required");
        assert_eq!(e.0[1].message, "标题不能超过 3 个字符（现为 4 个）");
        assert!(FieldErrors::new().into_result().is_ok());
    }
}
