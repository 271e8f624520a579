//! allmetrics: connect business data sources through OAuth2, keep their objects in a local store,
//! and chart them as stacked daily series.

pub mod accounts;
pub mod allocator;
pub mod auth;
pub mod cli;
pub mod configuration;
pub mod connect;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod fx;
pub mod lookup;
pub mod monitoring;
pub mod openapi;
pub mod parallel;
pub mod providers;
pub mod query;
pub mod request_context;
pub mod routes;
pub mod secrets;
pub mod services;
pub mod startup;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod tokens;
pub mod webhooks;
