//! Pure types and rules of the zhanqun site cluster (站群).
//!
//! Nothing here does IO: site kinds and their lifecycle, the cluster's domain rules,
//! column types and update duties, the publishing workflow and its roles, and the
//! validation of the codes a government website carries. Every rule is unit-tested here;
//! the application layer only calls them.

pub mod calendar;
pub mod column;
pub mod disclosure;
pub mod domain_rules;
pub mod expressions;
pub mod inspection;
pub mod mailbox;
pub mod site;
pub mod stored;
pub mod validate;
pub mod workflow;

pub use validate::{FieldError, FieldErrors};
