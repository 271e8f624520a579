use actix_web::{web, HttpResponse};
use allmetrics_common::{ErrorBody, FxRatesSummary};

use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::state::AppState;

/// What the administrators' exchange rates hold: how many, against which bases, of which
/// currencies, from which day to which (admin only).
#[utoipa::path(
    get,
    path = "/api/v1/admin/fx-rates",
    tag = "admin",
    operation_id = "admin_get_fx_rates",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored rates", body = FxRatesSummary),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody)
    )
)]
pub async fn get_fx_rates(
    _admin: AdminUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let summary = state.repository.admin_rates_summary().await?;
    Ok(HttpResponse::Ok().json(super::summary_response(summary)))
}
