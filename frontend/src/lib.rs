//! The allmetrics web app (Leptos, client-side rendered).
//!
//! `logic` and `components::charts::layout` are plain Rust (no browser APIs): their unit tests run
//! on the host with `cargo test -p frontend`.

pub mod api;
pub mod app;
pub mod auth;
pub mod browser;
pub mod components;
pub mod logic;
pub mod pages;
pub mod router;
