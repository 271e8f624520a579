//! Customers, and the facts other objects borrow from them (currency, country, name, email).

use serde_json::{json, Value};

use super::timeline::DAY;
use super::{Generator, ObjectKind, SideId};
use crate::rng::Draws;

const FIRST_NAMES: [&str; 24] = [
    "Jenny", "Oliver", "Amelia", "Noah", "Sofia", "Liam", "Mia", "Lucas", "Emma", "Hugo", "Chloe",
    "Mateo", "Hannah", "Leon", "Isla", "Jack", "Aisha", "Ravi", "Yuki", "Elena", "Marco", "Freya",
    "Omar", "Lea",
];
const LAST_NAMES: [&str; 24] = [
    "Rosen", "Smith", "Müller", "Garcia", "Martin", "Brown", "Rossi", "Dubois", "Jansen",
    "Kowalski", "Nguyen", "Silva", "Taylor", "Schmidt", "Lopez", "Wilson", "Bernard", "Moreau",
    "Fischer", "Costa", "Khan", "Patel", "Tanaka", "Novak",
];
const EMAIL_DOMAINS: [&str; 6] = [
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "proton.me",
    "example.com",
];
const SIGNUP_CHANNELS: [&str; 4] = ["organic", "ads", "referral", "partner"];

/// The markets customers come from: (currency, weight, countries). Subscriptions are billed in the customer's
/// currency when the catalog has prices in it (USD, EUR and GBP, see [`super::catalog::CURRENCIES`]), so their
/// currencies follow these weights among those three; CAD customers only pay one-off.
const MARKETS: [(&str, u32, &[&str]); 4] = [
    (
        "usd",
        70,
        &["US", "US", "US", "US", "US", "US", "US", "MX", "BR", "AU"],
    ),
    ("eur", 15, &["DE", "FR", "NL", "ES", "IT", "IE", "BE", "AT"]),
    ("gbp", 8, &["GB"]),
    ("cad", 7, &["CA"]),
];

/// When customers change their email, after signing up (a share of them for each lag); an hour past the day
/// keeps these apart from other changes.
pub(crate) const UPDATE_LAGS: [i64; 3] = [5 * DAY + 3600, 61 * DAY + 3600, 250 * DAY + 3600];
const UPDATE_SHARES: [f64; 3] = [0.03, 0.02, 0.01];
/// When customers are deleted, after signing up: about 1.5% of them, within a year and a half.
pub(crate) const DELETE_LAGS: [i64; 2] = [95 * DAY + 9 * 3600, 400 * DAY + 9 * 3600];
const DELETE_SHARES: [f64; 2] = [0.008, 0.007];
const PLAN_SALT: u64 = 0x706c_616e;

/// What happens to a customer after signing up.
pub(crate) struct CustomerPlan {
    /// Which of [`UPDATE_LAGS`] the email changes after, and when.
    pub update: Option<(usize, i64)>,
    /// Which of [`DELETE_LAGS`] the customer is deleted after, and when. Only deletions after the sandbox's
    /// start happen: the generated past has none, so it reads as it always did.
    pub delete: Option<(usize, i64)>,
    pub deleted: Option<i64>,
}

/// Picks a class by cumulative shares from one uniform draw.
pub(crate) fn class_of(unit: f64, shares: &[f64]) -> Option<usize> {
    let mut bound = 0.0;
    for (class, share) in shares.iter().enumerate() {
        bound += share;
        if unit < bound {
            return Some(class);
        }
    }
    None
}

pub(crate) struct CustomerFacts {
    pub created: i64,
    pub currency: &'static str,
    pub country: &'static str,
    pub name: String,
    pub email: String,
    pub delinquent: bool,
    pub channel: &'static str,
    pub invoice_prefix: String,
    pub invoice_sequence: u64,
}

impl Generator {
    pub(crate) fn customer_plan(&self, index: u64) -> CustomerPlan {
        let mut draws = crate::rng::Draws::new(&[self.seed, 0x6375_7374, PLAN_SALT, index]);
        let update_class = class_of(draws.unit(), &UPDATE_SHARES);
        let delete_class = class_of(draws.unit(), &DELETE_SHARES);
        if update_class.is_none() && delete_class.is_none() {
            return CustomerPlan {
                update: None,
                delete: None,
                deleted: None,
            };
        }
        let created = self.created(ObjectKind::Customer, index);
        let delete = delete_class
            .map(|class| (class, created + DELETE_LAGS[class]))
            .filter(|&(_, at)| at > self.now && at < self.horizon);
        let update = update_class
            .map(|class| (class, created + UPDATE_LAGS[class]))
            .filter(|&(_, at)| delete.is_none_or(|(_, deleted)| at < deleted) && at < self.horizon);
        CustomerPlan {
            update,
            delete,
            deleted: delete.map(|(_, at)| at),
        }
    }

    /// The customer's currency alone (the first of its draws), without building its facts.
    pub(crate) fn customer_currency(&self, index: u64) -> &'static str {
        let mut draws = self.draws(ObjectKind::Customer, index);
        MARKETS[draws.weighted(&MARKETS.map(|(_, weight, _)| weight))].0
    }

    pub(crate) fn customer_facts(&self, index: u64) -> CustomerFacts {
        let mut draws = self.draws(ObjectKind::Customer, index);
        let market = &MARKETS[draws.weighted(&MARKETS.map(|(_, weight, _)| weight))];
        let countries = market.2;
        let country = countries[draws.below(countries.len() as u64) as usize];
        let first = draws.pick(&FIRST_NAMES);
        let last = draws.pick(&LAST_NAMES);
        let domain = draws.pick(&EMAIL_DOMAINS);
        let email = format!(
            "{}.{}{}@{domain}",
            ascii_lower(first),
            ascii_lower(last),
            index % 1000
        );
        CustomerFacts {
            created: self.created(ObjectKind::Customer, index),
            currency: market.0,
            country,
            name: format!("{first} {last}"),
            email,
            delinquent: draws.chance(0.03),
            channel: draws.pick(&SIGNUP_CHANNELS),
            invoice_prefix: format!("{:08X}", draws.next_u64() as u32),
            invoice_sequence: 1 + draws.below(24),
        }
    }

    /// A customer created at or before `t`: uniformly among them, or biased toward recent sign-ups (who are
    /// the ones starting subscriptions). `None` when nobody had signed up yet.
    pub(crate) fn customer_before(&self, t: i64, draws: &mut Draws, recent: bool) -> Option<u64> {
        let existing = self.count_until(ObjectKind::Customer, t);
        Generator::customer_among(existing, draws, recent)
    }

    /// [`Generator::customer_before`] once the number of customers by then is known.
    pub(crate) fn customer_among(existing: u64, draws: &mut Draws, recent: bool) -> Option<u64> {
        if existing == 0 {
            return None;
        }
        if recent {
            let back = (existing as f64 * draws.unit().powi(3)) as u64;
            Some(existing - 1 - back.min(existing - 1))
        } else {
            Some(draws.below(existing))
        }
    }

    /// Which card pays: the customer's own, or for a guest checkout a one-off card (numbered in a range
    /// customer indices never reach).
    pub(crate) fn payment_method_key(customer: Option<u64>, charge: u64) -> u64 {
        customer.unwrap_or(super::MAX_SIZE + charge)
    }

    pub(crate) fn payment_method_id(&self, customer: Option<u64>, charge: u64) -> String {
        self.side_id(
            SideId::PaymentMethod,
            Generator::payment_method_key(customer, charge),
        )
    }
}

/// Names are ASCII but for umlauts; emails keep ASCII only.
fn ascii_lower(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ü' => 'u',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

pub(crate) fn customer_json(generator: &Generator, index: u64, at: i64) -> Value {
    let facts = generator.customer_facts(index);
    let updated = generator
        .customer_plan(index)
        .update
        .is_some_and(|(_, when)| when <= at);
    // A changed email moves to a work address; the metadata says since when.
    let (email, metadata) = if updated {
        let local = facts.email.split('@').next().unwrap_or_default();
        (
            format!("{local}@work.example.com"),
            json!({ "signup_channel": facts.channel, "email_changed": "true" }),
        )
    } else {
        (
            facts.email.clone(),
            json!({ "signup_channel": facts.channel }),
        )
    };
    json!({
        "id": generator.id(ObjectKind::Customer, index),
        "object": "customer",
        "address": {
            "city": null,
            "country": facts.country,
            "line1": null,
            "line2": null,
            "postal_code": null,
            "state": null,
        },
        "balance": 0,
        "created": facts.created,
        "currency": facts.currency,
        "default_source": null,
        "delinquent": facts.delinquent,
        "description": null,
        "discount": null,
        "email": email,
        "invoice_prefix": facts.invoice_prefix,
        "invoice_settings": {
            "custom_fields": null,
            "default_payment_method": generator.payment_method_id(Some(index), 0),
            "footer": null,
            "rendering_options": null,
        },
        "livemode": false,
        "metadata": metadata,
        "name": facts.name,
        "next_invoice_sequence": facts.invoice_sequence,
        "phone": null,
        "preferred_locales": [],
        "shipping": null,
        "tax_exempt": "none",
        "test_clock": null,
    })
}
