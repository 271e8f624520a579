//! One file per endpoint, grouped by resource. Only `startup.rs` knows which path leads where.

pub mod api_docs;
pub mod extractors;
pub mod health;
pub mod spa;
