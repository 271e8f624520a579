//! The raw delivery of every ad: for each (ad, local day), a deterministic set of "cells". A cell is delivery to
//! one (country, age bucket, gender, publisher platform) with additive metrics (impressions, clicks, spend in
//! minor units, actions and their values). Insights rows are sums of cells (see `insights`), so every additive
//! metric of a coarser row is exactly the sum of the finer rows it contains.
//!
//! An ad delivers from its start day to the account's today, except on about 4% of days (never its first),
//! when it has no delivery and so no row. A delivering day has 1 to 20 cells: about 5 times the ad's strength,
//! times the weekday's weight (weekends lower), times growth (+50% a year, up to two years), times ±20% noise.
//! Each cell has at least 30 impressions, which keeps reach strictly subadditive (see `insights::reach`).

use std::ops::AddAssign;

use super::accounts::{Account, Ad, Currency, Objective};
use crate::rng::Draws;

const CELL_SALT: u64 = 0x6164_735f_6365_6c6c;
/// The fewest impressions a cell has.
pub(crate) const MIN_CELL_IMPRESSIONS: u64 = 30;

pub(crate) const AGES: [&str; 6] = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
pub(crate) const GENDERS: [&str; 3] = ["female", "male", "unknown"];
pub(crate) const PLATFORMS: [&str; 4] = ["audience_network", "facebook", "instagram", "messenger"];
const GENDER_WEIGHTS: [u32; 3] = [49, 46, 5];
const PLATFORM_WEIGHTS: [u32; 4] = [6, 50, 40, 4];

/// Relative delivery by weekday, Monday first.
const WEEKDAY_WEIGHT: [f64; 7] = [1.0, 1.05, 1.05, 1.0, 0.95, 0.75, 0.7];

/// The additive metrics of a cell, and of any sum of cells. Money is in the account currency's minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Additive {
    pub impressions: u64,
    pub clicks: u64,
    pub spend: u64,
    pub link_clicks: u64,
    pub add_to_cart: u64,
    pub purchases: u64,
    pub leads: u64,
    pub add_to_cart_value: u64,
    pub purchase_value: u64,
}

impl AddAssign for Additive {
    fn add_assign(&mut self, other: Additive) {
        self.impressions += other.impressions;
        self.clicks += other.clicks;
        self.spend += other.spend;
        self.link_clicks += other.link_clicks;
        self.add_to_cart += other.add_to_cart;
        self.purchases += other.purchases;
        self.leads += other.leads;
        self.add_to_cart_value += other.add_to_cart_value;
        self.purchase_value += other.purchase_value;
    }
}

/// Delivery to one audience segment on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// Indices into the account's countries, [`AGES`], [`GENDERS`] and [`PLATFORMS`].
    pub country: u8,
    pub age: u8,
    pub gender: u8,
    pub platform: u8,
    pub metrics: Additive,
}

/// Prices by currency, in minor units: cost per thousand impressions, and an order's value.
fn prices(currency: Currency) -> ((i64, i64), (i64, i64)) {
    match currency {
        Currency::Usd => ((500, 1_400), (3_500, 14_000)),
        Currency::Eur => ((450, 1_200), (8_000, 25_000)),
        Currency::Jpy => ((600, 1_600), (3_000, 18_000)),
        Currency::Kwd => ((1_200, 3_500), (12_000, 60_000)),
    }
}

/// (impression volume, click-through rate range) by objective.
fn shape(objective: Objective) -> (f64, (f64, f64)) {
    match objective {
        Objective::Sales => (1.0, (0.008, 0.025)),
        Objective::Awareness => (2.2, (0.002, 0.008)),
        Objective::Leads => (0.8, (0.008, 0.02)),
        Objective::Traffic => (1.2, (0.015, 0.04)),
    }
}

fn index(draws: &mut Draws, weights: &[u32]) -> u8 {
    u8::try_from(draws.weighted(weights)).unwrap_or(0)
}

fn share(value: u64, share: f64) -> u64 {
    (value as f64 * share).round() as u64
}

/// How many cells an ad has on a local day: 0 outside its delivery and on its days off.
fn cell_count(draws: &mut Draws, account: &Account, ad: &Ad, day: i64) -> usize {
    if day < ad.start_day || day > account.last_day {
        return 0;
    }
    if day > ad.start_day && draws.chance(0.04) {
        return 0;
    }
    let weekday = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
    let age = (day - account.first_day).min(730) as f64;
    let growth = 1.0 + 0.5 * age / 365.0;
    let noise = 0.8 + 0.4 * draws.unit();
    (5.0 * ad.strength * WEEKDAY_WEIGHT[weekday] * growth * noise)
        .round()
        .clamp(1.0, 20.0) as usize
}

/// The cells of `ad` of `account` on local `day`: a pure function of `(seed, account, ad, day)`.
pub(crate) fn cells(seed: u64, account: &Account, ad: &Ad, day: i64) -> Vec<Cell> {
    let mut draws = Draws::new(&[seed, CELL_SALT, account.number, ad.index as u64, day as u64]);
    let count = cell_count(&mut draws, account, ad, day);
    let objective = account
        .campaigns
        .get(ad.campaign)
        .map_or(Objective::Sales, |campaign| campaign.objective);
    let (volume, (ctr_low, ctr_high)) = shape(objective);
    let ((cpm_low, cpm_high), (order_low, order_high)) = prices(account.currency);
    let country_weights: Vec<u32> = account.countries.iter().map(|(_, w)| *w).collect();
    (0..count)
        .map(|_| {
            let country = index(&mut draws, &country_weights);
            let age = index(&mut draws, &account.ages);
            let gender = index(&mut draws, &GENDER_WEIGHTS);
            let platform = index(&mut draws, &PLATFORM_WEIGHTS);
            let impressions = MIN_CELL_IMPRESSIONS
                + draws.exponential(180.0 * ad.strength * volume).round() as u64;
            let ctr = ctr_low + (ctr_high - ctr_low) * draws.unit();
            let clicks = share(impressions, ctr * (0.5 + draws.unit())).min(impressions);
            let spend = (impressions as f64 * draws.between(cpm_low, cpm_high) as f64 / 1000.0)
                .round() as u64;
            let link_clicks = share(clicks, 0.6 + 0.35 * draws.unit());
            let (add_to_cart, leads) = match objective {
                Objective::Sales | Objective::Traffic => {
                    (share(link_clicks, 0.15 * draws.unit()), 0)
                }
                Objective::Leads => (0, share(link_clicks, 0.05 + 0.2 * draws.unit())),
                Objective::Awareness => (share(link_clicks, 0.04 * draws.unit()), 0),
            };
            let purchases = share(add_to_cart, 0.2 + 0.4 * draws.unit());
            let add_to_cart_value = (0..add_to_cart)
                .map(|_| draws.between(order_low, order_high) as u64)
                .sum();
            let purchase_value = (0..purchases)
                .map(|_| draws.between(order_low, order_high) as u64)
                .sum();
            Cell {
                country,
                age,
                gender,
                platform,
                metrics: Additive {
                    impressions,
                    clicks,
                    spend,
                    link_clicks,
                    add_to_cart,
                    purchases,
                    leads,
                    add_to_cart_value,
                    purchase_value,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ads::accounts::Accounts;

    const NOW: i64 = 1_767_225_600;

    #[test]
    fn cells_are_deterministic_bounded_and_consistent() {
        let accounts = Accounts::new(42, NOW);
        for account in accounts.all() {
            let mut delivering = 0;
            let mut days = 0;
            for ad in &account.ads {
                assert!(!cells(42, account, ad, ad.start_day).is_empty());
                assert!(cells(42, account, ad, ad.start_day - 1).is_empty());
                assert!(cells(42, account, ad, account.last_day + 1).is_empty());
                for day in (ad.start_day..=account.last_day).rev().take(120) {
                    let cells = cells(42, account, ad, day);
                    days += 1;
                    delivering += usize::from(!cells.is_empty());
                    assert!(cells.len() <= 20);
                    assert_eq!(cells, super::cells(42, account, ad, day));
                    for cell in &cells {
                        let m = cell.metrics;
                        assert!(m.impressions >= MIN_CELL_IMPRESSIONS);
                        assert!(m.clicks <= m.impressions && m.link_clicks <= m.clicks);
                        assert!(m.purchases <= m.add_to_cart);
                        assert!(usize::from(cell.country) < account.countries.len());
                    }
                }
            }
            assert!(delivering * 100 > days * 90, "{delivering} of {days}");
            let ad = &account.ads[0];
            assert_ne!(
                cells(42, account, ad, account.last_day),
                cells(43, account, ad, account.last_day)
            );
        }
    }

    #[test]
    fn weekends_are_quieter() {
        let accounts = Accounts::new(42, NOW);
        let us = &accounts.all()[0];
        let mut by_weekday = [0u64; 7];
        for ad in &us.ads {
            for day in ad.start_day..=us.last_day {
                let impressions: u64 = cells(42, us, ad, day)
                    .iter()
                    .map(|c| c.metrics.impressions)
                    .sum();
                by_weekday[((day + 3).rem_euclid(7)) as usize] += impressions;
            }
        }
        assert!(by_weekday[6] * 10 < by_weekday[2] * 8, "{by_weekday:?}");
    }
}
