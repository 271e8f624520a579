//! Keeping a provider's daily exchange rates: providers serve only today's rates, so each day's
//! are stored as they come, asked at most once a UTC day per connection (the day is claimed in
//! the database first, so concurrent sync runs and replicas ask once between them). A failed
//! request is not repeated that day: the previous day's rates go on applying.

use chrono::NaiveDate;
use secrecy::SecretString;

use crate::domain::{Connection, DailyRate};
use crate::providers::ResolvedProvider;
use crate::services::Services;

/// What one call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// The provider bills no subscriptions, or serves no rates.
    NotServed,
    /// Another run asked for today's rates already.
    AlreadyAsked,
    /// Stored this many rates.
    Stored(usize),
    /// The provider could not answer (logged).
    Failed,
}

/// Whether the sync of `object_name` keeps the day's rates: the subscriptions' only, since the
/// rates serve subscription metrics alone and one object's runs are enough to ask once a day
/// (the others would each claim the day again for nothing).
pub fn rides_on(provider: &ResolvedProvider, object_name: &str) -> bool {
    provider
        .provider
        .subscription_objects()
        .is_some_and(|objects| objects.subscriptions == object_name)
}

/// Stores today's rates of the connection's provider, unless they were asked for today.
pub async fn keep_daily_rates(
    services: &Services,
    provider: &ResolvedProvider,
    connection: &Connection,
    token: &SecretString,
) -> Kept {
    // Rates only serve subscription metrics.
    if provider.provider.subscription_objects().is_none() {
        return Kept::NotServed;
    }
    let today = chrono::Utc::now().date_naive();
    match services
        .repository
        .claim_rates_day(connection.id, today)
        .await
    {
        Ok(true) => {}
        Ok(false) => return Kept::AlreadyAsked,
        Err(error) => {
            tracing::warn!(connection = connection.id.0, error = %error, "could not claim the day's exchange rates");
            return Kept::Failed;
        }
    }
    let served = match provider
        .provider
        .exchange_rates(&services.http, provider, token)
        .await
    {
        Ok(Some(served)) => served,
        Ok(None) => return Kept::NotServed,
        Err(error) => {
            tracing::warn!(connection = connection.id.0, error = %error, "could not read the day's exchange rates");
            return Kept::Failed;
        }
    };
    // The provider's day: a sandbox whose clock runs ahead serves another day's rates.
    let day = chrono::DateTime::from_timestamp(served.at, 0).map_or(today, |at| at.date_naive());
    let rates = daily_rates(day, &served.base, served.rates);
    match services
        .repository
        .store_connection_rates(connection.id, &rates, served.account_currency.as_deref())
        .await
    {
        Ok(()) => Kept::Stored(rates.len()),
        Err(error) => {
            tracing::warn!(connection = connection.id.0, error = %error, "could not store the day's exchange rates");
            Kept::Failed
        }
    }
}

fn daily_rates(day: NaiveDate, base: &str, rates: Vec<(String, f64)>) -> Vec<DailyRate> {
    rates
        .into_iter()
        .map(|(currency, rate)| DailyRate {
            day,
            base: base.to_string(),
            currency,
            rate,
        })
        .collect()
}
