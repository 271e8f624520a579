//! The product catalog: ten products, each with a monthly and a yearly price (price `2p` is product `p`'s
//! monthly price, `2p + 1` its yearly one, at ten monthly payments), and the tiers' quarterly prices (price
//! `20 + t` bills tier `t` every three months, at 10% off three monthly payments). These 25 prices are in USD;
//! as in Stripe, where a price has one currency, each has a EUR and a GBP counterpart of its own (price
//! `25 + i` is price `i` in EUR, `50 + i` in GBP: same product, interval and usage type), at an amount derived
//! from the USD one (see [`unit_amount`]). A subscription is billed with the prices of its customer's
//! currency (see [`in_currency`]).

use serde_json::{json, Value};

use super::timeline::DAY;
use super::{Generator, ObjectKind};

pub(crate) struct Product {
    pub name: &'static str,
    pub lookup: &'static str,
    pub description: &'static str,
    /// Monthly unit amount in cents (USD; the other currencies' follow from it, see [`unit_amount`]).
    pub monthly: i64,
    /// Sold per seat: subscriptions carry a quantity above one.
    pub per_seat: bool,
    /// Retired: no new subscriptions after the first months.
    pub legacy: bool,
}

const fn plan(
    name: &'static str,
    lookup: &'static str,
    description: &'static str,
    monthly: i64,
) -> Product {
    Product {
        name,
        lookup,
        description,
        monthly,
        per_seat: false,
        legacy: false,
    }
}

pub(crate) const PRODUCTS: [Product; 10] = [
    plan("Starter", "starter", "For side projects", 900),
    plan("Growth", "growth", "For growing teams", 2900),
    plan("Pro", "pro", "Advanced features", 7900),
    plan("Business", "business", "For established companies", 19900),
    plan(
        "Enterprise",
        "enterprise",
        "SSO, audit logs and an SLA",
        49900,
    ),
    Product {
        per_seat: true,
        ..plan("Extra seats", "seats", "One more team member", 1500)
    },
    plan(
        "Priority support",
        "support",
        "Answers within four hours",
        4900,
    ),
    plan(
        "Analytics add-on",
        "analytics",
        "Dashboards and exports",
        2500,
    ),
    plan("API access", "api", "Programmatic access", 9900),
    Product {
        legacy: true,
        ..plan("Basic (legacy)", "legacy_basic", "The original plan", 1900)
    },
];

/// The tiers a subscription can be upgraded along (product indices).
pub(crate) const TIERS: [usize; 5] = [0, 1, 2, 3, 4];

/// How often new subscriptions pick each product.
pub(crate) const SUBSCRIPTION_WEIGHTS: [u32; 10] = [30, 25, 15, 7, 2, 6, 4, 5, 3, 3];

/// The first quarterly price.
const QUARTERLY_BASE: usize = 2 * PRODUCTS.len();
/// Prices in one currency (the USD ones are `0..USD_PRICES`).
pub(crate) const USD_PRICES: usize = QUARTERLY_BASE + TIERS.len();
/// The currencies prices are published in, in the order their prices are numbered.
pub(crate) const CURRENCIES: [&str; 3] = ["usd", "eur", "gbp"];
/// Prices in the catalog, every currency.
pub(crate) const PRICES: usize = USD_PRICES * CURRENCIES.len();

/// The USD price a price is the counterpart of (itself for a USD price).
fn usd_price(price: usize) -> usize {
    price % USD_PRICES
}

/// The price's currency.
pub(crate) fn currency_of_price(price: usize) -> &'static str {
    CURRENCIES[(price / USD_PRICES) % CURRENCIES.len()]
}

/// Whether the catalog has prices in `currency` (subscriptions are only sold in those).
pub(crate) fn sells_in(currency: &str) -> bool {
    CURRENCIES.contains(&currency)
}

/// The counterpart of `price` in `currency` (same product and interval); `price`'s USD one when the catalog
/// has no price in `currency`.
pub(crate) fn in_currency(price: usize, currency: &str) -> usize {
    let slot = CURRENCIES.iter().position(|&c| c == currency).unwrap_or(0);
    usd_price(price) + slot * USD_PRICES
}

pub(crate) fn product_of_price(price: usize) -> usize {
    let price = usd_price(price);
    if price >= QUARTERLY_BASE {
        TIERS[(price - QUARTERLY_BASE) % TIERS.len()]
    } else {
        price / 2
    }
}

/// Months between two bills: 1, 3 or 12.
pub(crate) fn interval_months(price: usize) -> i64 {
    let price = usd_price(price);
    if price >= QUARTERLY_BASE {
        3
    } else if price % 2 == 1 {
        12
    } else {
        1
    }
}

/// The product's USD price billed every `months` (a monthly one when it has none for that interval).
pub(crate) fn price_for(product: usize, months: i64) -> usize {
    match months {
        12 => price_of(product, true),
        3 => TIERS
            .iter()
            .position(|&tier| tier == product)
            .map_or(price_of(product, false), |tier| QUARTERLY_BASE + tier),
        _ => price_of(product, false),
    }
}

/// Stripe's `recurring.interval` and `interval_count`, and the lookup key's label.
pub(crate) fn interval_of(price: usize) -> (&'static str, i64, &'static str) {
    match interval_months(price) {
        12 => ("year", 1, "yearly"),
        3 => ("month", 3, "quarterly"),
        _ => ("month", 1, "monthly"),
    }
}

/// The product's USD monthly or yearly price.
pub(crate) fn price_of(product: usize, yearly: bool) -> usize {
    product * 2 + usize::from(yearly)
}

/// A monthly amount of `usd` cents in `currency`, as a price list shows it: converted at the rate balance
/// transactions use, then rounded to a whole unit below 20 units (€8, £12) and to the nearest whole unit
/// ending in 9 from there on (€29, £159). USD amounts (and currencies without prices) are kept.
pub(crate) fn local_monthly(usd: i64, currency: &str) -> i64 {
    if currency == "usd" || !sells_in(currency) {
        return usd;
    }
    let units = usd as f64 / 100.0 / super::payments::usd_rate(currency);
    let whole = if units < 20.0 {
        units.round()
    } else {
        ((units - 9.0) / 10.0).round() * 10.0 + 9.0
    };
    whole.max(1.0) as i64 * 100
}

/// The price's unit amount in its currency's minor unit: the monthly amount (converted for EUR and GBP, see
/// [`local_monthly`]), ten times it for a yearly price, 2.7 times it for a quarterly one.
pub(crate) fn unit_amount(price: usize) -> i64 {
    let usd = PRODUCTS[product_of_price(price) % PRODUCTS.len()].monthly;
    let monthly = local_monthly(usd, currency_of_price(price));
    match interval_months(price) {
        12 => monthly * 10,
        3 => monthly * 27 / 10,
        _ => monthly,
    }
}

/// When price `index` is created: the catalog predates the first customer, products ten minutes apart, each
/// followed by its USD prices (the quarterly ones, added later, after the last product), then the EUR and GBP
/// prices a minute apart, ten minutes after the last quarterly one.
pub(crate) fn price_created(start: i64, index: u64) -> i64 {
    let usd = USD_PRICES as u64;
    if index < usd {
        start + 600 * (index / 2) as i64 + 120 + 60 * (index % 2) as i64
    } else {
        price_created(start, usd - 1) + 600 + 60 * (index - usd) as i64
    }
}

const EUR_BASE: u64 = USD_PRICES as u64;
const GBP_BASE: u64 = 2 * USD_PRICES as u64;

/// What happens to the catalog around the sandbox's start: (kind, index, seconds after `now`, deleted). A
/// product page is reworded before the start, a (USD) price gets a promotion, and the legacy plan is retired
/// (its prices in every currency, then itself, deleted).
pub(crate) const CATALOG_CHANGES: [(ObjectKind, u64, i64, bool); 9] = [
    (ObjectKind::Product, 7, -10 * DAY - 7_200, false),
    (ObjectKind::Price, 15, 20 * DAY + 600, false),
    (ObjectKind::Price, 18, 120 * DAY, true),
    (ObjectKind::Price, 19, 120 * DAY + 60, true),
    (ObjectKind::Price, EUR_BASE + 18, 120 * DAY + 10, true),
    (ObjectKind::Price, EUR_BASE + 19, 120 * DAY + 70, true),
    (ObjectKind::Price, GBP_BASE + 18, 120 * DAY + 20, true),
    (ObjectKind::Price, GBP_BASE + 19, 120 * DAY + 80, true),
    (ObjectKind::Product, 9, 120 * DAY + 120, true),
];

fn change_time(generator: &Generator, kind: ObjectKind, index: u64, deleted: bool) -> Option<i64> {
    CATALOG_CHANGES
        .iter()
        .find(|(k, i, _, d)| *k == kind && *i == index && *d == deleted)
        .map(|(_, _, offset, _)| generator.now + offset)
}

pub(crate) fn deleted_at(generator: &Generator, kind: ObjectKind, index: u64) -> Option<i64> {
    change_time(generator, kind, index, true)
}

fn updated_at(generator: &Generator, kind: ObjectKind, index: u64, at: i64) -> Option<i64> {
    change_time(generator, kind, index, false).filter(|&when| when <= at)
}

fn product(index: usize) -> &'static Product {
    &PRODUCTS[index % PRODUCTS.len()]
}

pub(crate) fn product_json(generator: &Generator, index: usize, at: i64) -> Value {
    let product = product(index);
    let created = generator.created(ObjectKind::Product, index as u64);
    let updated = updated_at(generator, ObjectKind::Product, index as u64, at);
    let description = match updated {
        Some(_) => format!("{}, now with alerts", product.description),
        None => product.description.to_owned(),
    };
    json!({
        "id": generator.id(ObjectKind::Product, index as u64),
        "object": "product",
        "active": !product.legacy,
        "created": created,
        "default_price": generator.id(ObjectKind::Price, price_of(index, false) as u64),
        "description": description,
        "images": [],
        "livemode": false,
        "marketing_features": [],
        "metadata": {},
        "name": product.name,
        "package_dimensions": null,
        "shippable": null,
        "statement_descriptor": null,
        "tax_code": null,
        "type": "service",
        "unit_label": if product.per_seat { Value::from("seat") } else { Value::Null },
        "updated": updated.unwrap_or(created),
        "url": null,
    })
}

pub(crate) fn price_json(generator: &Generator, index: usize, at: i64) -> Value {
    let product_index = product_of_price(index);
    let metadata = if updated_at(generator, ObjectKind::Price, index as u64, at).is_some() {
        json!({ "promotion": "two_months_free" })
    } else {
        json!({})
    };
    let product = product(product_index);
    let amount = unit_amount(index);
    let (interval, interval_count, label) = interval_of(index);
    let currency = currency_of_price(index);
    // Lookup keys are unique in an account: the USD price keeps the plain one.
    let (lookup_key, nickname) = if currency == "usd" {
        (
            format!("{}_{label}", product.lookup),
            format!("{} {label}", product.name),
        )
    } else {
        (
            format!("{}_{label}_{currency}", product.lookup),
            format!(
                "{} {label} ({})",
                product.name,
                currency.to_ascii_uppercase()
            ),
        )
    };
    json!({
        "id": generator.id(ObjectKind::Price, index as u64),
        "object": "price",
        "active": !product.legacy,
        "billing_scheme": "per_unit",
        "created": generator.created(ObjectKind::Price, index as u64),
        "currency": currency,
        "custom_unit_amount": null,
        "livemode": false,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": nickname,
        "product": generator.id(ObjectKind::Product, product_index as u64),
        "recurring": {
            "interval": interval,
            "interval_count": interval_count,
            "meter": null,
            "trial_period_days": null,
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": null,
        "transform_quantity": null,
        "type": "recurring",
        "unit_amount": amount,
        "unit_amount_decimal": amount.to_string(),
    })
}

/// The legacy `plan` object Stripe still embeds in subscription items (same id as the price).
pub(crate) fn plan_json(generator: &Generator, index: usize) -> Value {
    let product = product(product_of_price(index));
    let amount = unit_amount(index);
    json!({
        "id": generator.id(ObjectKind::Price, index as u64),
        "object": "plan",
        "active": !product.legacy,
        "amount": amount,
        "amount_decimal": amount.to_string(),
        "billing_scheme": "per_unit",
        "created": generator.created(ObjectKind::Price, index as u64),
        "currency": currency_of_price(index),
        "interval": interval_of(index).0,
        "interval_count": interval_of(index).1,
        "livemode": false,
        "metadata": {},
        "meter": null,
        "nickname": null,
        "product": generator.id(ObjectKind::Product, product_of_price(index) as u64),
        "tiers_mode": null,
        "transform_usage": null,
        "trial_period_days": null,
        "usage_type": "licensed",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eur_and_gbp_amounts_are_price_points() {
        let monthly = |currency: &str| -> Vec<i64> {
            PRODUCTS
                .iter()
                .map(|product| local_monthly(product.monthly, currency) / 100)
                .collect()
        };
        assert_eq!(monthly("eur"), [8, 29, 69, 189, 459, 14, 49, 19, 89, 18]);
        assert_eq!(monthly("gbp"), [7, 19, 59, 159, 389, 12, 39, 20, 79, 15]);
        assert_eq!(local_monthly(2900, "usd"), 2900);
        assert_eq!(local_monthly(2900, "cad"), 2900);
    }

    #[test]
    fn counterparts_share_product_and_interval() {
        for price in 0..USD_PRICES {
            assert_eq!(currency_of_price(price), "usd");
            for currency in CURRENCIES {
                let counterpart = in_currency(price, currency);
                assert_eq!(currency_of_price(counterpart), currency);
                assert_eq!(product_of_price(counterpart), product_of_price(price));
                assert_eq!(interval_months(counterpart), interval_months(price));
                assert_eq!(in_currency(counterpart, "usd"), price);
                assert_eq!(unit_amount(counterpart) % 10, 0);
            }
            assert_eq!(in_currency(price, "cad"), price);
        }
        assert_eq!(in_currency(PRICES - 1, "eur"), 2 * USD_PRICES - 1);
    }
}
