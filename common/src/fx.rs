//! Exchange rates the administrators upload (`/api/v1/admin/fx-rates`).

use serde::{Deserialize, Serialize};

/// What the administrators' exchange rates hold: `GET /api/v1/admin/fx-rates`, and the answer of
/// `PUT` (what was stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "rates": 730, "bases": ["usd"], "currencies": ["eur", "gbp"],
    "first_day": "2025-12-01", "last_day": "2026-11-30"
})))]
pub struct FxRatesSummary {
    /// How many daily rates are stored.
    pub rates: u64,
    /// The currencies the rates are stated against (one unit of the base buys `rate` units of
    /// the currency).
    pub bases: Vec<String>,
    /// The currencies with rates, lower case, in order.
    pub currencies: Vec<String>,
    /// The first and last day with a rate (ISO dates, UTC); `null` when there is none.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
}
