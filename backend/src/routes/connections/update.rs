use actix_web::{web, HttpResponse};
use allmetrics_common::{
    ConnectionResponse, ErrorBody, SubscriptionSettings, UpdateConnectionRequest,
    MAX_CHURN_WINDOW_DAYS,
};

use crate::auth::AuthUser;
use crate::domain::fx::currency_code;
use crate::error::ApiError;
use crate::state::AppState;

/// Changes the connection's settings: `reporting_currency`, what its subscription metrics
/// (MRR, ARR, movements, ARPU, LTV) are converted to, with the stored daily rates (`null` goes
/// back to the default: the account's default currency); `subscription_settings`, how those
/// metrics are defined (the fields given change; `null` goes back to every default).
#[utoipa::path(
    patch,
    path = "/api/v1/connections/{slug}",
    tag = "connections",
    operation_id = "update_connection",
    security(("bearer" = [])),
    params(("slug" = String, Path, description = "Data source slug", example = "demo")),
    request_body = UpdateConnectionRequest,
    responses(
        (status = 200, description = "Updated", body = ConnectionResponse),
        (status = 400, description = "`invalid_currency`: not a code of three letters; `invalid_settings`: a churn window out of 1..365 days", body = ErrorBody),
        (status = 404, description = "`unknown_source` or `not_connected`", body = ErrorBody)
    )
)]
pub async fn update_connection(
    user: AuthUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: crate::routes::extractors::Json<UpdateConnectionRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let (_, connection) = crate::lookup::user_connection(&state, &user, &slug).await?;
    // Everything is checked before anything is stored: a refused request changes nothing.
    let currency = request
        .reporting_currency
        .map(|currency| currency.map(|text| reporting_currency(&text)).transpose())
        .transpose()?;
    let settings = request
        .subscription_settings
        .map(|change| match change {
            None => Ok(SubscriptionSettings::default()),
            Some(change) => connection
                .subscription_settings
                .changed(&change)
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_settings",
                        format!(
                            "`subscription_settings.churn_window_days` is a number of days from \
                             1 to {MAX_CHURN_WINDOW_DAYS}."
                        ),
                    )
                }),
        })
        .transpose()?;
    state
        .repository
        .update_connection_settings(
            connection.id,
            currency.as_ref().map(Option::as_deref),
            settings.as_ref(),
        )
        .await?;
    let connection = state
        .repository
        .connection_by_id(connection.id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_connected", format!("{slug} is not connected.")))?;
    Ok(HttpResponse::Ok().json(super::connection_response(&connection)))
}

fn reporting_currency(text: &str) -> Result<String, ApiError> {
    currency_code(text).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_currency",
            "`reporting_currency` is an ISO 4217 code of three letters (`eur`), or null for the \
             account's default currency.",
        )
    })
}
