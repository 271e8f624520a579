use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use allmetrics_common::{ErrorBody, FxRatesSummary};
use futures_util::StreamExt;

use crate::auth::AdminUser;
use crate::domain::fx::currency_code;
use crate::error::ApiError;
use crate::fx::csv;
use crate::state::AppState;

/// The largest CSV taken (about 400,000 lines of `2026-11-30,eur,0.923456`).
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRatesQuery {
    /// The currency the rates are stated against (default `usd`): on each line, one unit of
    /// it buys `rate` units of `currency`.
    pub base: Option<String>,
}

/// Replaces every administrators' exchange rate (admin only). The body is CSV
/// (`Content-Type: text/csv`, at most 10 MB and 100,000 rates): the header
/// `date,currency,rate`, then one line per day and currency, e.g. `2026-11-30,eur,0.92`: on that
/// day (UTC) one unit of the base (`usd`, or the `base` parameter) buys 0.92 units of `eur`, as
/// Stripe's exchange rates state it. A rate applies from the start of its day until the next day
/// with a rate of that currency. Subscription metrics use a connection's own daily rates
/// (Stripe's) first and these for the days and currencies those lack. The upload replaces the
/// previous one whole, or changes nothing when a line is wrong; a header alone removes them all.
#[utoipa::path(
    put,
    path = "/api/v1/admin/fx-rates",
    tag = "admin",
    operation_id = "admin_replace_fx_rates",
    security(("bearer" = [])),
    params(ReplaceRatesQuery),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "`date,currency,rate` then e.g. `2026-11-30,eur,0.92`",
        example = "date,currency,rate\n2026-11-30,eur,0.92\n2026-11-30,gbp,0.79\n"
    ),
    responses(
        (status = 200, description = "Stored: what the rates now hold", body = FxRatesSummary),
        (status = 400, description = "`invalid_csv` (the message names the line), `invalid_currency` (the base)", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 10 MB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not `text/csv`", body = ErrorBody)
    )
)]
pub async fn replace_fx_rates(
    _admin: AdminUser,
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<ReplaceRatesQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let base = match query.base.as_deref() {
        None => "usd".to_string(),
        Some(text) => currency_code(text).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_currency",
                "`base` is an ISO 4217 code of three letters (`usd`).",
            )
        })?,
    };
    if !request.content_type().eq_ignore_ascii_case("text/csv") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the rates as CSV with `Content-Type: text/csv`.",
        ));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The CSV is over 10 MB.",
        )
    };
    if request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|length| length > MAX_BODY_BYTES)
    {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::bad_request(
                "invalid_csv",
                format!("The body could not be read: {error}"),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let rates = csv::parse(&body, &base).map_err(|error| {
        ApiError::bad_request("invalid_csv", format!("The CSV is not valid: {error}."))
    })?;
    state.repository.replace_admin_rates(&rates).await?;
    let summary = state.repository.admin_rates_summary().await?;
    Ok(HttpResponse::Ok().json(super::summary_response(summary)))
}
