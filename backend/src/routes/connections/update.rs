use actix_web::{web, HttpResponse};
use allmetrics_common::{ConnectionResponse, ErrorBody, UpdateConnectionRequest};

use crate::auth::AuthUser;
use crate::domain::fx::currency_code;
use crate::error::ApiError;
use crate::state::AppState;

/// Changes the connection's settings: `reporting_currency`, what its subscription metrics
/// (MRR, ARR, movements, ARPU, LTV) are converted to, with the stored daily rates. `null` goes
/// back to the default: the account's default currency.
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
        (status = 400, description = "`invalid_currency`: not a code of three letters", body = ErrorBody),
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
    if let Some(currency) = request.reporting_currency {
        let currency = currency
            .map(|text| {
                currency_code(&text).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_currency",
                        "`reporting_currency` is an ISO 4217 code of three letters (`eur`), or \
                         null for the account's default currency.",
                    )
                })
            })
            .transpose()?;
        state
            .repository
            .set_reporting_currency(connection.id, currency.as_deref())
            .await?;
    }
    let connection = state
        .repository
        .connection_by_id(connection.id)
        .await?
        .ok_or_else(|| ApiError::not_found("not_connected", format!("{slug} is not connected.")))?;
    Ok(HttpResponse::Ok().json(super::connection_response(&connection)))
}
