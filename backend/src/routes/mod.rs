//! One file per endpoint, grouped by resource. Only `startup.rs` knows which path leads where.

pub mod admin;
pub mod api_docs;
pub mod auth;
pub mod connect;
pub mod connections;
pub mod dashboards;
pub mod extractors;
pub mod health;
pub mod me;
pub mod metrics;
pub mod prometheus;
pub mod sources;
pub mod spa;
pub mod tokens;
pub mod webhooks;
