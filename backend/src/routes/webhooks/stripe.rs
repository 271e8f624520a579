use actix_web::{web, HttpRequest, HttpResponse};
use allmetrics_common::{ErrorBody, WebhookReceipt};

use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::Receipt;

fn signature(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get("Stripe-Signature")
        .and_then(|value| value.to_str().ok())
}

fn answer(receipt: Receipt) -> HttpResponse {
    HttpResponse::Ok().json(WebhookReceipt {
        received: true,
        queued: u32::try_from(receipt.queued).unwrap_or(u32::MAX),
    })
}

/// A Stripe event for one connection, delivered to the endpoint made for it. Verified with the
/// endpoint's signing secret (`Stripe-Signature`, 5 minutes' tolerance), then queued: the
/// connection's sync applies it within seconds. A bad, old or missing signature stores nothing.
#[utoipa::path(
    post,
    path = "/webhooks/stripe/{webhook_id}",
    tag = "webhooks",
    operation_id = "stripe_connection_event",
    params(
        ("webhook_id" = String, Path, description = "The connection's endpoint id"),
        ("Stripe-Signature" = String, Header, description = "t=<unix>,v1=<hex HMAC-SHA256>")
    ),
    request_body(content = Object, description = "A Stripe event", content_type = "application/json"),
    responses(
        (status = 200, description = "Received", body = WebhookReceipt),
        (status = 400, description = "`invalid_signature`, `stale_signature`, `invalid_event` or `webhook_not_configured`", body = ErrorBody),
        (status = 404, description = "`unknown_webhook`", body = ErrorBody)
    )
)]
pub async fn connection_event(
    request: HttpRequest,
    state: web::Data<AppState>,
    webhook_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let receipt = crate::webhooks::receive_for_connection(
        &state.services(),
        &webhook_id,
        signature(&request),
        &body,
    )
    .await?;
    Ok(answer(receipt))
}

/// A Stripe event of a connected account, delivered to the Connect platform's endpoint (its
/// secret is `APP_PROVIDERS__STRIPE__WEBHOOK_SECRET`). Queued for every connection to the account
/// the event names.
#[utoipa::path(
    post,
    path = "/webhooks/stripe",
    tag = "webhooks",
    operation_id = "stripe_platform_event",
    params(("Stripe-Signature" = String, Header, description = "t=<unix>,v1=<hex HMAC-SHA256>")),
    request_body(content = Object, description = "A Stripe event", content_type = "application/json"),
    responses(
        (status = 200, description = "Received", body = WebhookReceipt),
        (status = 400, description = "`invalid_signature`, `stale_signature`, `invalid_event` or `webhook_not_configured`", body = ErrorBody)
    )
)]
pub async fn platform_event(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let receipt =
        crate::webhooks::receive_for_platform(&state.services(), signature(&request), &body)
            .await?;
    Ok(answer(receipt))
}
