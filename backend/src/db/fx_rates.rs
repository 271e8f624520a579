//! Daily exchange rates: a connection's own (its provider's, kept once a day) and the
//! administrators' (a CSV, replaced whole). The SQL reads the same in both dialects; the day is a
//! `DATE` in PostgreSQL and `YYYY-MM-DD` text in SQLite, which sorts the same.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::DbResult;
use crate::db::row::row_struct;
use crate::domain::{ConnectionId, DailyRate, RatesSummary, RatesVersion, StoredRates};

#[async_trait]
pub trait FxRateStore {
    /// Takes the right to ask the provider for `day`'s rates of the connection: `true` for the
    /// first caller of the day, `false` for every other (on any replica).
    async fn claim_rates_day(&self, connection: ConnectionId, day: NaiveDate) -> DbResult<bool>;
    /// Stores the connection's rates of `day` (replacing what that day had), and the account's
    /// default currency when the provider told it, in one transaction.
    async fn store_connection_rates(
        &self,
        connection: ConnectionId,
        rates: &[DailyRate],
        account_currency: Option<&str>,
    ) -> DbResult<()>;
    /// Replaces every administrators' rate by `rates` in one transaction; how many are stored.
    async fn replace_admin_rates(&self, rates: &[DailyRate]) -> DbResult<u64>;
    /// The connection's own rates and the administrators' that involve one of `currencies`.
    async fn fx_rates(
        &self,
        connection: ConnectionId,
        currencies: &[String],
    ) -> DbResult<StoredRates>;
    /// What a converted series of the connection depends on of the rates.
    async fn rates_version(&self, connection: ConnectionId) -> DbResult<RatesVersion>;
    async fn admin_rates_summary(&self) -> DbResult<RatesSummary>;
}

/// Rows per INSERT: 5 binds each, far below both databases' limit on binds.
pub(super) const INSERT_BATCH: usize = 1_000;

pub(super) const CLAIM_DAY: &str = "UPDATE connections SET fx_rates_day = $2 \
     WHERE id = $1 AND (fx_rates_day IS NULL OR fx_rates_day < $2)";
pub(super) const DELETE_CONNECTION_DAY: &str =
    "DELETE FROM fx_rates WHERE connection_id = $1 AND day = $2";
pub(super) const SET_ACCOUNT_CURRENCY: &str =
    "UPDATE connections SET account_currency = $2 WHERE id = $1";
pub(super) const INSERT_RATES: &str =
    "INSERT INTO fx_rates (connection_id, day, base, currency, rate) ";
pub(super) const DELETE_ADMIN_RATES: &str = "DELETE FROM fx_rates WHERE connection_id IS NULL";
/// Both sources' rates of one currency (a rate against it as the base is read for the other
/// currency: a cross rate needs both currencies' rows of a base, or the base is one of them).
pub(super) const SELECT_RATES: &str =
    "SELECT connection_id, day, base, currency, rate FROM fx_rates \
     WHERE (connection_id = $1 OR connection_id IS NULL) AND currency = $2 ORDER BY day, id";
pub(super) const SELECT_VERSION: &str = "SELECT \
     (SELECT MAX(id) FROM fx_rates WHERE connection_id = $1) AS own_last_id, \
     (SELECT COUNT(*) FROM fx_rates WHERE connection_id IS NULL) AS admin_rates, \
     (SELECT MAX(id) FROM fx_rates WHERE connection_id IS NULL) AS admin_last_id";
pub(super) const SELECT_SUMMARY: &str =
    "SELECT COUNT(*), MIN(day), MAX(day) FROM fx_rates WHERE connection_id IS NULL";
pub(super) const SELECT_ADMIN_CURRENCIES: &str =
    "SELECT DISTINCT currency FROM fx_rates WHERE connection_id IS NULL ORDER BY currency";
pub(super) const SELECT_ADMIN_BASES: &str =
    "SELECT DISTINCT base FROM fx_rates WHERE connection_id IS NULL ORDER BY base";

row_struct! {
    pub(super) struct RateRow {
        pub connection_id: Option<i64>,
        pub day: NaiveDate,
        pub base: String,
        pub currency: String,
        pub rate: f64,
    }
}

row_struct! {
    pub(super) struct VersionRow {
        pub own_last_id: Option<i64>,
        pub admin_rates: i64,
        pub admin_last_id: Option<i64>,
    }
}

/// Sorts rows of several currencies into the two sources, each by day.
pub(super) fn stored_rates(rows: Vec<RateRow>) -> StoredRates {
    let mut stored = StoredRates::default();
    for row in rows {
        let rate = DailyRate {
            day: row.day,
            base: row.base,
            currency: row.currency,
            rate: row.rate,
        };
        let into = if row.connection_id.is_some() {
            &mut stored.own
        } else {
            &mut stored.admins
        };
        into.push(rate);
    }
    for rates in [&mut stored.own, &mut stored.admins] {
        rates.sort_by(|a, b| (a.day, &a.base, &a.currency).cmp(&(b.day, &b.base, &b.currency)));
    }
    stored
}

impl From<VersionRow> for RatesVersion {
    fn from(row: VersionRow) -> Self {
        RatesVersion {
            own_last_id: row.own_last_id,
            admin_rates: row.admin_rates,
            admin_last_id: row.admin_last_id,
        }
    }
}

macro_rules! impl_fx_rate_store {
    ($repository:ty) => {
        #[async_trait::async_trait]
        impl $crate::db::fx_rates::FxRateStore for $repository {
            async fn claim_rates_day(
                &self,
                connection: $crate::domain::ConnectionId,
                day: chrono::NaiveDate,
            ) -> $crate::db::DbResult<bool> {
                let result = sqlx::query($crate::db::fx_rates::CLAIM_DAY)
                    .bind(connection.0)
                    .bind(day)
                    .execute(&self.pool)
                    .await?;
                Ok(result.rows_affected() == 1)
            }

            async fn store_connection_rates(
                &self,
                connection: $crate::domain::ConnectionId,
                rates: &[$crate::domain::DailyRate],
                account_currency: Option<&str>,
            ) -> $crate::db::DbResult<()> {
                use $crate::db::fx_rates as sql;
                let mut transaction = self.begin_write().await?;
                let mut days: Vec<chrono::NaiveDate> = rates.iter().map(|rate| rate.day).collect();
                days.sort_unstable();
                days.dedup();
                for day in days {
                    sqlx::query(sql::DELETE_CONNECTION_DAY)
                        .bind(connection.0)
                        .bind(day)
                        .execute(&mut *transaction)
                        .await?;
                }
                for chunk in rates.chunks(sql::INSERT_BATCH) {
                    let mut insert = sqlx::QueryBuilder::new(sql::INSERT_RATES);
                    insert.push_values(chunk, |mut row, rate| {
                        row.push_bind(Some(connection.0))
                            .push_bind(rate.day)
                            .push_bind(&rate.base)
                            .push_bind(&rate.currency)
                            .push_bind(rate.rate);
                    });
                    insert.build().execute(&mut *transaction).await?;
                }
                if let Some(currency) = account_currency {
                    sqlx::query(sql::SET_ACCOUNT_CURRENCY)
                        .bind(connection.0)
                        .bind(currency)
                        .execute(&mut *transaction)
                        .await?;
                }
                transaction.commit().await?;
                Ok(())
            }

            async fn replace_admin_rates(
                &self,
                rates: &[$crate::domain::DailyRate],
            ) -> $crate::db::DbResult<u64> {
                use $crate::db::fx_rates as sql;
                let mut transaction = self.begin_write().await?;
                sqlx::query(sql::DELETE_ADMIN_RATES)
                    .execute(&mut *transaction)
                    .await?;
                let mut stored = 0;
                for chunk in rates.chunks(sql::INSERT_BATCH) {
                    let mut insert = sqlx::QueryBuilder::new(sql::INSERT_RATES);
                    insert.push_values(chunk, |mut row, rate| {
                        row.push_bind(Option::<i64>::None)
                            .push_bind(rate.day)
                            .push_bind(&rate.base)
                            .push_bind(&rate.currency)
                            .push_bind(rate.rate);
                    });
                    stored += insert
                        .build()
                        .execute(&mut *transaction)
                        .await?
                        .rows_affected();
                }
                transaction.commit().await?;
                Ok(stored)
            }

            async fn fx_rates(
                &self,
                connection: $crate::domain::ConnectionId,
                currencies: &[String],
            ) -> $crate::db::DbResult<$crate::domain::StoredRates> {
                use $crate::db::fx_rates as sql;
                let mut rows = Vec::new();
                for currency in currencies {
                    let mut of_currency: Vec<sql::RateRow> = sqlx::query_as(sql::SELECT_RATES)
                        .bind(connection.0)
                        .bind(currency)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.append(&mut of_currency);
                }
                Ok(sql::stored_rates(rows))
            }

            async fn rates_version(
                &self,
                connection: $crate::domain::ConnectionId,
            ) -> $crate::db::DbResult<$crate::domain::RatesVersion> {
                let row: $crate::db::fx_rates::VersionRow =
                    sqlx::query_as($crate::db::fx_rates::SELECT_VERSION)
                        .bind(connection.0)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(row.into())
            }

            async fn admin_rates_summary(
                &self,
            ) -> $crate::db::DbResult<$crate::domain::RatesSummary> {
                use $crate::db::fx_rates as sql;
                let (rates, first_day, last_day): (
                    i64,
                    Option<chrono::NaiveDate>,
                    Option<chrono::NaiveDate>,
                ) = sqlx::query_as(sql::SELECT_SUMMARY)
                    .fetch_one(&self.pool)
                    .await?;
                let currencies: Vec<String> = sqlx::query_scalar(sql::SELECT_ADMIN_CURRENCIES)
                    .fetch_all(&self.pool)
                    .await?;
                let bases: Vec<String> = sqlx::query_scalar(sql::SELECT_ADMIN_BASES)
                    .fetch_all(&self.pool)
                    .await?;
                Ok($crate::domain::RatesSummary {
                    rates: u64::try_from(rates).unwrap_or(0),
                    bases,
                    currencies,
                    first_day,
                    last_day,
                })
            }
        }
    };
}

pub(super) use impl_fx_rate_store;
