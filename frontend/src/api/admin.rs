//! `/api/v1/admin/*` (admins only).

use std::future::Future;

use allmetrics_common::{
    AdminSourceResponse, CreateObjectRequest, CreateSourceRequest, ObjectResponse,
    UpdateObjectRequest, UpdateSourceRequest, UserResponse,
};

use super::client::{delete, get, patch, post, segment, ApiFailure};

pub fn list_sources() -> impl Future<Output = Result<Vec<AdminSourceResponse>, ApiFailure>> {
    get("/api/v1/admin/sources")
}

pub fn create_source(
    request: &CreateSourceRequest,
) -> impl Future<Output = Result<AdminSourceResponse, ApiFailure>> {
    post("/api/v1/admin/sources", request)
}

pub fn update_source(
    slug: &str,
    request: &UpdateSourceRequest,
) -> impl Future<Output = Result<AdminSourceResponse, ApiFailure>> {
    patch(format!("/api/v1/admin/sources/{}", segment(slug)), request)
}

pub fn delete_source(slug: &str) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!("/api/v1/admin/sources/{}", segment(slug)))
}

pub fn list_objects(slug: &str) -> impl Future<Output = Result<Vec<ObjectResponse>, ApiFailure>> {
    get(format!("/api/v1/admin/sources/{}/objects", segment(slug)))
}

pub fn create_object(
    slug: &str,
    request: &CreateObjectRequest,
) -> impl Future<Output = Result<ObjectResponse, ApiFailure>> {
    post(
        format!("/api/v1/admin/sources/{}/objects", segment(slug)),
        request,
    )
}

pub fn update_object(
    slug: &str,
    object_name: &str,
    request: &UpdateObjectRequest,
) -> impl Future<Output = Result<ObjectResponse, ApiFailure>> {
    patch(
        format!(
            "/api/v1/admin/sources/{}/objects/{}",
            segment(slug),
            segment(object_name)
        ),
        request,
    )
}

pub fn delete_object(
    slug: &str,
    object_name: &str,
) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!(
        "/api/v1/admin/sources/{}/objects/{}",
        segment(slug),
        segment(object_name)
    ))
}

pub fn list_users() -> impl Future<Output = Result<Vec<UserResponse>, ApiFailure>> {
    get("/api/v1/admin/users")
}
