//! The web app's pure logic: plain Rust with no browser APIs, so that every function is
//! unit-tested on the host (`cargo test`) without compiling the web framework for it. The
//! `frontend` crate (wasm32 only) draws and wires what this computes.

pub mod access;
pub mod accounts;
pub mod chart_layout;
pub mod csv;
pub mod dashboard;
pub mod dates;
pub mod format;
pub mod interval;
pub mod metric_builder;
pub mod register;
pub mod sources;
pub mod subscription_settings;
pub mod subscriptions;
pub mod summary;
pub mod tokens;
pub mod url;
pub mod window;
