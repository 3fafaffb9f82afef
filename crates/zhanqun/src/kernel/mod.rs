//! The shared kernel: what every capability uses and none owns. The actor and the
//! permission check, the command runner, typed events and the outbox, the database and its
//! migrations, file storage, jobs, the page cache, errors, time. Capabilities depend on the
//! kernel; the kernel knows no capability (it only reads the site tree, for permissions).

pub mod actor;
pub mod audit;
pub mod blobs;
pub mod cache;
pub mod command;
pub mod config;
pub mod content;
pub mod db;
pub mod error;
pub mod events;
pub mod export;
pub mod failpoint;
pub mod jobs;
pub mod limits;
pub mod personal;
pub mod time;

pub use actor::Actor;
pub use audit::Audit;
pub use command::{Command, Versioned};
pub use error::{AppError, AppResult};
pub use events::Event;
