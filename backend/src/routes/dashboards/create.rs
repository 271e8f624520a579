use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateDashboardRequest, Dashboard, ErrorBody};

use super::{check_total_days, owned_metric_ids};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Create a dashboard.
#[utoipa::path(
    post,
    path = "/api/v1/dashboards",
    tag = "dashboards",
    operation_id = "create_dashboard",
    security(("bearer" = [])),
    request_body = CreateDashboardRequest,
    responses(
        (status = 201, description = "Created", body = Dashboard),
        (status = 400, description = "`invalid_name`, `unknown_metric`, `invalid_total_days`", body = ErrorBody)
    )
)]
pub async fn create_dashboard(
    user: AuthUser,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<CreateDashboardRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    let name = validate_display_name(&request.name, "name")?;
    let days = check_total_days(request.default_total_days.unwrap_or(30))?;
    let metric_ids = owned_metric_ids(&state, &user, &request.metric_ids).await?;
    let dashboard = state
        .repository
        .create_dashboard(user.id, &name, &metric_ids, days)
        .await?;
    Ok(HttpResponse::Created().json(dashboard.to_response()))
}
