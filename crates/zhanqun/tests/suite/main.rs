//! The behaviour suite: a real server on 127.0.0.1 over a real database (SQLite always,
//! PostgreSQL when asked), driven with real HTTP, and the CLI and the browser tests. One
//! test binary, so the workspace links it once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod admin;
mod annual;
mod backbone;
mod behaviour;
mod browser;
mod calendar;
mod cli;
mod cluster;
mod contract;
mod corrections;
mod disclosure;
mod expressions;
mod feeds;
mod first_hour;
mod fuzz;
mod import;
mod mailbox;
mod mailbox_pages;
mod monitor;
mod nodes;
mod oidc;
mod participation;
mod public;
mod retention;
mod search;
mod security;
mod staffing;
mod visits;
