//! The allmetrics web app (Leptos, client-side rendered).
//!
//! It builds for wasm32 only. What it computes without the browser (dates, windows, formatting,
//! chart geometry, URLs) lives in the `frontend-logic` crate, whose tests run on the host.

pub mod api;
pub mod app;
pub mod auth;
pub mod browser;
pub mod components;
pub mod pages;
pub mod router;
