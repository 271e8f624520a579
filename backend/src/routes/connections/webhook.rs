use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, WebhookEndpointResponse, WebhookSecretRequest};

use crate::auth::AuthUser;
use crate::db::changes::ConnectionWebhook;
use crate::error::ApiError;
use crate::state::AppState;

fn response(state: &AppState, webhook: &ConnectionWebhook) -> WebhookEndpointResponse {
    WebhookEndpointResponse {
        url: crate::webhooks::endpoint_url(&state.services(), webhook),
        secret_set: webhook.secret_enc.is_some(),
        created_at_provider: webhook.provider_endpoint_id.is_some(),
    }
}

/// The connection's webhook endpoint: the URL to give Stripe, and whether its signing secret is
/// known. Stripe connections only.
#[utoipa::path(
    get,
    path = "/api/v1/connections/{slug}/webhook",
    tag = "connections",
    operation_id = "get_webhook",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpointResponse),
        (status = 400, description = "`webhooks_not_supported`", body = ErrorBody),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn get_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, connection) = crate::lookup::user_connection(&state, &user, &slug).await?;
    let webhook = crate::webhooks::endpoint_of(&state.services(), &connection).await?;
    Ok(HttpResponse::Ok().json(response(&state, &webhook)))
}

/// Stores the signing secret Stripe's dashboard shows for the endpoint (when allmetrics could
/// not create it, as with a restricted key). Stored encrypted; never shown again.
#[utoipa::path(
    put,
    path = "/api/v1/connections/{slug}/webhook",
    tag = "connections",
    operation_id = "set_webhook_secret",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    request_body = WebhookSecretRequest,
    responses(
        (status = 200, description = "Stored", body = WebhookEndpointResponse),
        (status = 400, description = "`invalid_webhook_secret` or `webhooks_not_supported`", body = ErrorBody),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn put_webhook(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<WebhookSecretRequest>,
) -> Result<HttpResponse, ApiError> {
    let (_, connection) = crate::lookup::user_connection(&state, &user, &slug).await?;
    let webhook = crate::webhooks::set_secret(&state.services(), &connection, &body.secret).await?;
    Ok(HttpResponse::Ok().json(response(&state, &webhook)))
}
