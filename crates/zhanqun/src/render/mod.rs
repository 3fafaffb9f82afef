//! The public sites: pages rendered from themes, cached until an action changes them.

pub mod cache;
pub mod hosts;
pub mod pages;
pub mod theme;
