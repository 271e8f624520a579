//! The raw data of every property: for each (property, local day), a deterministic set of "cells". A cell is a
//! bundle of sessions sharing one value of every dimension, with additive metrics. A report groups a day's
//! cells by the requested dimensions and sums them; users are derived per group (see `report`).
//!
//! Between 20 and 80 cells a day: about 40, times the weekday's weight (weekends lower), times growth (+60%
//! over 400 days since the property's creation), times `(size / 2000)^(1/4)` (clamped to 0.5..1.6), times
//! ±10% noise. Each cell has 30 to 90 sessions: the smallest group of any report has at least 30 sessions,
//! which keeps users strictly subadditive (see `report::active_users`).

use std::ops::AddAssign;

use super::properties::{Currency, Property};
use crate::rng::Draws;

const CELL_SALT: u64 = 0x0067_6134_6365_6c6c;
/// The fewest sessions a cell has.
pub(crate) const MIN_CELL_SESSIONS: i64 = 30;

/// The dimensions a report may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dimension {
    Date,
    DeviceCategory,
    Country,
    SessionDefaultChannelGroup,
    SessionSource,
    PagePath,
    OperatingSystem,
    Browser,
}

const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
const COUNTRIES: [&str; 8] = [
    "United States",
    "France",
    "Japan",
    "Germany",
    "United Kingdom",
    "Brazil",
    "India",
    "Canada",
];
const CHANNELS: [&str; 6] = [
    "Organic Search",
    "Direct",
    "Paid Search",
    "Referral",
    "Organic Social",
    "Email",
];
const SOURCES: [&str; 6] = [
    "google",
    "(direct)",
    "bing",
    "facebook.com",
    "newsletter",
    "t.co",
];
const PAGES: [&str; 10] = [
    "/",
    "/pricing",
    "/products",
    "/products/widget",
    "/cart",
    "/checkout",
    "/blog",
    "/blog/getting-started",
    "/blog/metrics-that-matter",
    "/about",
];
const SYSTEMS: [&str; 5] = ["Windows", "Macintosh", "iOS", "Android", "Linux"];
const BROWSERS: [&str; 4] = ["Chrome", "Safari", "Firefox", "Edge"];

impl Dimension {
    pub(crate) const ALL: [Dimension; 8] = [
        Dimension::Date,
        Dimension::DeviceCategory,
        Dimension::Country,
        Dimension::SessionDefaultChannelGroup,
        Dimension::SessionSource,
        Dimension::PagePath,
        Dimension::OperatingSystem,
        Dimension::Browser,
    ];

    /// The API name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dimension::Date => "date",
            Dimension::DeviceCategory => "deviceCategory",
            Dimension::Country => "country",
            Dimension::SessionDefaultChannelGroup => "sessionDefaultChannelGroup",
            Dimension::SessionSource => "sessionSource",
            Dimension::PagePath => "pagePath",
            Dimension::OperatingSystem => "operatingSystem",
            Dimension::Browser => "browser",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL
            .into_iter()
            .find(|dimension| dimension.name() == name)
    }

    /// Where a cell keeps this dimension's value; `None` for the date, which is the day's.
    pub(crate) fn slot(self) -> Option<usize> {
        match self {
            Dimension::Date => None,
            other => Some(other as usize - 1),
        }
    }

    /// The values a cell may have, indexed by what the cell stores.
    pub(crate) fn values(self) -> &'static [&'static str] {
        match self {
            Dimension::Date => &[],
            Dimension::DeviceCategory => &DEVICES,
            Dimension::Country => &COUNTRIES,
            Dimension::SessionDefaultChannelGroup => &CHANNELS,
            Dimension::SessionSource => &SOURCES,
            Dimension::PagePath => &PAGES,
            Dimension::OperatingSystem => &SYSTEMS,
            Dimension::Browser => &BROWSERS,
        }
    }
}

/// The additive metrics of a cell or of a group of cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Additive {
    pub sessions: u64,
    /// At most `sessions`.
    pub engaged_sessions: u64,
    pub screen_page_views: u64,
    pub event_count: u64,
    pub conversions: u64,
    pub new_users: u64,
    /// Seconds.
    pub user_engagement_duration: u64,
    /// Seconds; only reported divided by sessions (`averageSessionDuration`).
    pub session_duration: u64,
    /// Minor units of the property's currency (cents; whole yen).
    pub revenue: u64,
}

impl AddAssign for Additive {
    fn add_assign(&mut self, other: Additive) {
        self.sessions += other.sessions;
        self.engaged_sessions += other.engaged_sessions;
        self.screen_page_views += other.screen_page_views;
        self.event_count += other.event_count;
        self.conversions += other.conversions;
        self.new_users += other.new_users;
        self.user_engagement_duration += other.user_engagement_duration;
        self.session_duration += other.session_duration;
        self.revenue += other.revenue;
    }
}

/// Sessions sharing one value of every dimension but the date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cell {
    /// Indices into [`Dimension::values`], by [`Dimension::slot`].
    pub values: [u8; 7],
    pub metrics: Additive,
}

impl Cell {
    pub(crate) fn value(&self, dimension: Dimension) -> &'static str {
        dimension
            .slot()
            .and_then(|slot| dimension.values().get(usize::from(self.values[slot])))
            .map_or("", |value| value)
    }
}

/// Relative activity by weekday, Monday first.
const WEEKDAY_WEIGHT: [f64; 7] = [1.0, 1.05, 1.05, 1.0, 0.95, 0.7, 0.65];

/// Source indices (into [`SOURCES`]) and weights for a channel.
fn sources(channel: usize) -> (&'static [u8], &'static [u32]) {
    match channel {
        0 | 2 => (&[0, 2], &[85, 15]), // search: google, bing
        1 => (&[1], &[1]),             // (direct)
        3 | 4 => (&[3, 5], &[55, 45]), // referral and social: facebook.com, t.co
        _ => (&[4], &[1]),             // email: newsletter
    }
}

/// Operating system indices (into [`SYSTEMS`]) and weights for a device.
fn systems(device: usize) -> (&'static [u8], &'static [u32]) {
    match device {
        0 => (&[0, 1, 4], &[60, 32, 8]),
        1 => (&[2, 3], &[50, 50]),
        _ => (&[2, 3], &[60, 40]),
    }
}

/// Browser weights, in [`BROWSERS`] order, for an operating system.
fn browser_weights(system: u8) -> [u32; 4] {
    match system {
        0 => [65, 0, 10, 25],
        1 | 2 => [25, 70, 3, 2],
        3 => [90, 0, 5, 5],
        _ => [60, 0, 40, 0],
    }
}

fn pick(draws: &mut Draws, choices: (&[u8], &[u32])) -> u8 {
    let (values, weights) = choices;
    values.get(draws.weighted(weights)).copied().unwrap_or(0)
}

fn index(draws: &mut Draws, weights: &[u32]) -> u8 {
    u8::try_from(draws.weighted(weights)).unwrap_or(0)
}

/// How many cells a property has on a local day (0 outside its first and last day).
fn cell_count(draws: &mut Draws, size: u64, property: &Property, day: i64) -> usize {
    if day < property.first_day || day > property.last_day {
        return 0;
    }
    let weekday = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
    let age = (day - property.first_day) as f64;
    let growth = 1.0 + 0.6 * age / 400.0;
    let scale = (size as f64 / 2000.0).powf(0.25).clamp(0.5, 1.6);
    let noise = 0.9 + 0.2 * draws.unit();
    (40.0 * WEEKDAY_WEIGHT[weekday] * growth * scale * noise)
        .round()
        .clamp(20.0, 80.0) as usize
}

fn ratio(value: u64, share: f64) -> u64 {
    (value as f64 * share).round() as u64
}

/// The cells of `property` on local `day` (days since 1970-01-01 in its time zone): a pure function of
/// `(seed, size, property, day)`.
pub(crate) fn cells(seed: u64, size: u64, property: &Property, day: i64) -> Vec<Cell> {
    let mut draws = Draws::new(&[seed, CELL_SALT, property.id, day as u64]);
    let count = cell_count(&mut draws, size, property, day);
    (0..count)
        .map(|_| {
            let device = index(&mut draws, &property.devices);
            let channel = index(&mut draws, &[35, 25, 12, 8, 12, 8]);
            let source = pick(&mut draws, sources(usize::from(channel)));
            let system = pick(&mut draws, systems(usize::from(device)));
            let values = [
                device,
                index(&mut draws, &property.countries),
                channel,
                source,
                index(&mut draws, &[30, 12, 10, 8, 6, 5, 10, 8, 6, 5]),
                system,
                index(&mut draws, &browser_weights(system)),
            ];
            let sessions = draws.between(MIN_CELL_SESSIONS, 90) as u64;
            let engaged_sessions = ratio(sessions, 0.45 + 0.3 * draws.unit());
            let screen_page_views = sessions + ratio(sessions, 0.3 + 2.2 * draws.unit());
            let event_count = screen_page_views * 3 + draws.below(sessions + 1);
            let conversions = ratio(sessions, 0.05 * draws.unit());
            let new_users = ratio(sessions, 0.15 + 0.2 * draws.unit());
            let user_engagement_duration = engaged_sessions * draws.between(40, 180) as u64;
            let session_duration =
                user_engagement_duration + sessions * draws.between(10, 60) as u64;
            let (low, high) = match property.currency {
                Currency::Usd | Currency::Eur => (1_999, 14_999),
                Currency::Jpy => (1_500, 20_000),
            };
            let revenue = (0..conversions)
                .map(|_| draws.between(low, high) as u64)
                .sum();
            Cell {
                values,
                metrics: Additive {
                    sessions,
                    engaged_sessions,
                    screen_page_views,
                    event_count,
                    conversions,
                    new_users,
                    user_engagement_duration,
                    session_duration,
                    revenue,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::properties::Properties;

    const NOW: i64 = 1_767_225_600;

    #[test]
    fn cells_are_deterministic_bounded_and_consistent() {
        let properties = Properties::new(NOW);
        for property in properties.all() {
            for day in property.first_day..=property.last_day {
                let cells = cells(42, 2000, property, day);
                assert!((20..=80).contains(&cells.len()), "{}", cells.len());
                assert_eq!(cells, super::cells(42, 2000, property, day));
                for cell in &cells {
                    let m = cell.metrics;
                    assert!(m.sessions >= MIN_CELL_SESSIONS as u64);
                    assert!(m.engaged_sessions <= m.sessions);
                    assert!(m.new_users <= m.sessions);
                    assert!(m.screen_page_views >= m.sessions);
                    assert!(m.session_duration >= m.user_engagement_duration);
                    for dimension in Dimension::ALL.into_iter().skip(1) {
                        assert!(!cell.value(dimension).is_empty());
                    }
                }
            }
            assert!(cells(42, 2000, property, property.first_day - 1).is_empty());
            assert!(cells(42, 2000, property, property.last_day + 1).is_empty());
            assert_ne!(
                cells(42, 2000, property, property.last_day),
                cells(43, 2000, property, property.last_day)
            );
        }
    }

    #[test]
    fn weekends_are_quieter() {
        let properties = Properties::new(NOW);
        let store = &properties.all()[0];
        let mut by_weekday = [0usize; 7];
        for day in store.first_day..=store.last_day {
            by_weekday[((day + 3).rem_euclid(7)) as usize] += cells(42, 2000, store, day).len();
        }
        assert!(by_weekday[6] * 10 < by_weekday[2] * 8, "{by_weekday:?}");
    }
}
