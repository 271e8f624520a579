use actix_web::{web, HttpResponse};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /metrics` on the metrics port (never the API's): every measure in Prometheus' text
/// format, the pool and the job queue read now.
pub async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .metrics
        .refresh(
            state.repository.as_ref(),
            state.settings.database.max_connections,
        )
        .await;
    let text = state.metrics.encode().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}
