use actix_web::{web, HttpResponse};

/// The OpenAPI document rendered once at start-up.
pub struct OpenApiYaml(pub String);

/// The OpenAPI document as YAML (`/api/openapi.json` serves the same as JSON).
pub async fn openapi_yaml(spec: web::Data<OpenApiYaml>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml")
        .body(spec.0.clone())
}

/// `/docs` -> `/docs/`, where the API docs UI lives (its assets are relative to that folder).
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}
