//! One page per route.

pub mod admin;
pub mod dashboard;
pub mod dashboards;
pub mod home;
pub mod login;
pub mod metric_builder;
pub mod not_found;
pub mod register;
pub mod sources;
pub mod tokens;
