use actix_web::{web, HttpResponse};

/// The OpenAPI document, rendered once at start-up.
pub struct OpenApiDocuments {
    pub json: String,
    pub yaml: String,
}

/// This document, as JSON (what the docs UI at `/docs/` reads).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "docs",
    operation_id = "openapi_json",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)
    )
)]
pub async fn openapi_json(documents: web::Data<OpenApiDocuments>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(documents.json.clone())
}

/// This document, as YAML (the same as `openapi.yaml` in the repository).
#[utoipa::path(
    get,
    path = "/api/openapi.yaml",
    tag = "docs",
    operation_id = "openapi_yaml",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/yaml", body = Object)
    )
)]
pub async fn openapi_yaml(documents: web::Data<OpenApiDocuments>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(documents.yaml.clone())
}

/// `/docs` -> `/docs/`, where the API docs UI lives (its assets are relative to that folder).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}
