//! `/api/v1/sources*`.

use std::future::Future;

use allmetrics_common::{ObjectResponse, SourceResponse};

use super::client::{get, segment, ApiFailure};

/// `GET /api/v1/sources`: enabled sources with the caller's connection.
pub fn list_sources() -> impl Future<Output = Result<Vec<SourceResponse>, ApiFailure>> {
    get("/api/v1/sources")
}

/// `GET /api/v1/sources/{slug}/objects`: the objects metrics may use.
pub fn list_objects(slug: &str) -> impl Future<Output = Result<Vec<ObjectResponse>, ApiFailure>> {
    get(format!("/api/v1/sources/{}/objects", segment(slug)))
}
