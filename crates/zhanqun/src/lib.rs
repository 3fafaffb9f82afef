//! zhanqun (站群): one platform for every government website of a city.
//!
//! Layers, data flowing down: [`web`] (HTTP) → [`app`] (one action per mutation:
//! permission check + change + audit in one transaction) → [`store`] (SQLite or
//! PostgreSQL). Pure rules live in the `zhanqun-domain` crate.

pub mod app;
pub mod config;
pub mod content;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod render;
pub mod server;
pub mod store;
pub mod web;
