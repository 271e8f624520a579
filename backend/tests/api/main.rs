//! One integration-test binary for the whole API (one link step, shared helpers).

// A panic in a test is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod ads;
mod analytics;
mod audit;
mod auth;
mod bounds;
mod changes;
mod cli;
mod connect;
mod demo;
mod deployment;
mod errors;
mod fake_provider;
mod first_admin;
mod fx;
mod health;
mod living;
mod metrics;
mod monitoring;
mod offset_provider;
mod openapi;
mod query;
mod readers;
mod repository;
mod rollups;
mod routes;
mod shutdown;
mod sources;
mod spa;
mod subscription_histories;
mod subscription_settings;
mod subscriptions;
mod sync;
mod tokens;
mod upgrade;
