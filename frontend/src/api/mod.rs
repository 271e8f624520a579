//! One typed function per API endpoint, over a small fetch helper ([`client`]) that reads JSON
//! errors, sends the CSRF header and refreshes the session once on a 401.

pub mod admin;
pub mod auth;
pub mod client;
pub mod connections;
pub mod dashboards;
pub mod metrics;
pub mod query;
pub mod sources;
pub mod tokens;

pub use client::ApiFailure;
