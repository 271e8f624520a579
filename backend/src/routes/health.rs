use std::time::Duration;

use actix_web::{web, HttpResponse};
use allmetrics_common::{HealthStatus, ReadinessStatus};

use crate::state::AppState;

/// How long readiness waits for the database before calling it unreachable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Liveness: the process is up and serving.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = HealthStatus))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok".into(),
    })
}

/// Readiness: 200 while the database answers, 503 while it does not (and 200 again once it is
/// back, with no restart).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve", body = ReadinessStatus),
        (status = 503, description = "The database does not answer", body = ReadinessStatus)
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = tokio::time::timeout(READINESS_TIMEOUT, state.repository.ping()).await;
    match ping {
        Ok(Ok(())) => HttpResponse::Ok().json(ReadinessStatus {
            status: "ok".into(),
            database: "ok".into(),
        }),
        failure => {
            let reason = match failure {
                Ok(Err(error)) => error.to_string(),
                _ => "timed out".to_string(),
            };
            tracing::warn!(reason, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable().json(ReadinessStatus {
                status: "unavailable".into(),
                database: "unreachable".into(),
            })
        }
    }
}
