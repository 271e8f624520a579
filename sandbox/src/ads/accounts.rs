//! The four fixed Facebook ad accounts of the sandbox, their campaigns, ad sets and ads, and the calendar they
//! report in.
//!
//! Time zones are reported by IANA name, but every date is computed with a fixed UTC offset per account (no
//! daylight saving time, their standard times): -5 h for `America/New_York`, +1 h for `Europe/Paris`, +9 h for
//! `Asia/Tokyo`, +3 h for `Asia/Kuwait`. An account was created `age_days` before the sandbox's now; its
//! insights run from that local date to "today" (the local date of now).
//!
//! The structure (names, counts, objectives, start dates, the renamed campaign) is fixed; object ids are
//! 17-digit strings like Facebook's (`2385...`), derived from the seed.

use crate::analytics::properties::{iso_date, DAY};
use crate::rng::{hash, Draws};

const HOUR: i64 = 3_600;
const ID_SALT: u64 = 0x6164_735f_6964;
const STRENGTH_SALT: u64 = 0x6164_735f_7374;

/// An account's currency: its ISO code and how many decimals its minor unit has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Currency {
    Usd,
    Eur,
    Jpy,
    /// Kuwaiti dinar: 1,000 fils.
    Kwd,
}

impl Currency {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Jpy => "JPY",
            Currency::Kwd => "KWD",
        }
    }

    pub(crate) fn decimals(self) -> u32 {
        match self {
            Currency::Usd | Currency::Eur => 2,
            Currency::Jpy => 0,
            Currency::Kwd => 3,
        }
    }

    /// `minor` units as an exact decimal string with the currency's decimals: `14.35`, `1234`, `1.005`.
    pub(crate) fn format(self, minor: u64) -> String {
        let decimals = self.decimals();
        if decimals == 0 {
            return minor.to_string();
        }
        let unit = 10u64.pow(decimals);
        format!(
            "{}.{:0width$}",
            minor / unit,
            minor % unit,
            width = decimals as usize
        )
    }
}

/// What a campaign is for; it shapes its delivery (see `generator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Objective {
    Sales,
    Awareness,
    Leads,
    Traffic,
}

impl Objective {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Objective::Sales => "OUTCOME_SALES",
            Objective::Awareness => "OUTCOME_AWARENESS",
            Objective::Leads => "OUTCOME_LEADS",
            Objective::Traffic => "OUTCOME_TRAFFIC",
        }
    }
}

struct AdSetSpec {
    name: &'static str,
    ads: &'static [&'static str],
}

struct CampaignSpec {
    name: &'static str,
    /// The name it had before it was renamed, and how many days before today (local) the new name took effect.
    renamed: Option<(&'static str, i64)>,
    objective: Objective,
    /// Starts this share of the account's age after its creation (the first campaign at 0).
    start_share: f64,
    ad_sets: &'static [AdSetSpec],
}

struct AccountSpec {
    number: u64,
    name: &'static str,
    currency: Currency,
    timezone_name: &'static str,
    utc_offset_hours: i64,
    /// Created this many days before the sandbox's now.
    age_days: i64,
    business_id: &'static str,
    business_name: &'static str,
    /// Audience: ISO country codes with relative weights, and weights of the age buckets (`generator::AGES`).
    countries: &'static [(&'static str, u32)],
    ages: [u32; 6],
    campaigns: &'static [CampaignSpec],
}

const SPECS: [AccountSpec; 4] = [
    AccountSpec {
        number: 1001,
        name: "Demo Shoes US",
        currency: Currency::Usd,
        timezone_name: "America/New_York",
        utc_offset_hours: -5,
        age_days: 1100,
        business_id: "2309000000001001",
        business_name: "Demo Shoes Inc.",
        countries: &[("US", 82), ("CA", 10), ("GB", 5), ("AU", 3)],
        ages: [14, 30, 24, 16, 10, 6],
        campaigns: &[
            CampaignSpec {
                name: "Spring Sale - Shoes",
                renamed: None,
                objective: Objective::Sales,
                start_share: 0.0,
                ad_sets: &[
                    AdSetSpec {
                        name: "Women 25-44 - Interests",
                        ads: &["Carousel - Runners", "Video - Trail 15s"],
                    },
                    AdSetSpec {
                        name: "Lookalike 1% - Buyers",
                        ads: &[
                            "Carousel - Runners",
                            "Static - Free Shipping",
                            "Reel - Unboxing",
                        ],
                    },
                ],
            },
            CampaignSpec {
                name: "Retargeting - Cart Abandoners",
                renamed: Some(("Retargeting - Visitors 30d", 20)),
                objective: Objective::Sales,
                start_share: 0.1,
                ad_sets: &[
                    AdSetSpec {
                        name: "Cart 7d",
                        ads: &["Dynamic - Product Catalog"],
                    },
                    AdSetSpec {
                        name: "Visitors 30d",
                        ads: &["Dynamic - Product Catalog", "Static - 10% Off"],
                    },
                ],
            },
            CampaignSpec {
                name: "Brand Awareness - Video",
                renamed: None,
                objective: Objective::Awareness,
                start_share: 0.3,
                ad_sets: &[AdSetSpec {
                    name: "Broad US 18-65",
                    ads: &["Video - Brand Story 30s"],
                }],
            },
            CampaignSpec {
                name: "Lead Gen - Newsletter",
                renamed: None,
                objective: Objective::Leads,
                start_share: 0.55,
                ad_sets: &[
                    AdSetSpec {
                        name: "Lookalike 3% - Subscribers",
                        ads: &["Lead Form - 15% Welcome", "Lead Form - Style Quiz"],
                    },
                    AdSetSpec {
                        name: "Interests - Running",
                        ads: &["Lead Form - 15% Welcome"],
                    },
                ],
            },
        ],
    },
    AccountSpec {
        number: 1002,
        name: "Demo Lunettes FR",
        currency: Currency::Eur,
        timezone_name: "Europe/Paris",
        utc_offset_hours: 1,
        age_days: 400,
        business_id: "2309000000001002",
        business_name: "Demo Lunettes SAS",
        countries: &[("FR", 72), ("BE", 12), ("CH", 9), ("CA", 5), ("LU", 2)],
        ages: [8, 22, 26, 22, 14, 8],
        campaigns: &[
            CampaignSpec {
                name: "Soldes d'hiver - Lunettes",
                renamed: None,
                objective: Objective::Sales,
                start_share: 0.0,
                ad_sets: &[AdSetSpec {
                    name: "Femmes 25-54 - Mode",
                    ads: &["Carrousel - Solaires", "Vidéo - Essayage"],
                }],
            },
            CampaignSpec {
                name: "Notoriété - Marque",
                renamed: Some(("Awareness - Marque FR", 45)),
                objective: Objective::Awareness,
                start_share: 0.05,
                ad_sets: &[
                    AdSetSpec {
                        name: "Large France",
                        ads: &["Vidéo - Atelier 20s", "Image - Collection Été"],
                    },
                    AdSetSpec {
                        name: "Paris & Lyon",
                        ads: &["Vidéo - Atelier 20s"],
                    },
                ],
            },
            CampaignSpec {
                name: "Retargeting - Panier",
                renamed: None,
                objective: Objective::Sales,
                start_share: 0.25,
                ad_sets: &[AdSetSpec {
                    name: "Panier 14j",
                    ads: &["Catalogue dynamique"],
                }],
            },
        ],
    },
    AccountSpec {
        number: 1003,
        name: "Demo Tokyo Ads",
        currency: Currency::Jpy,
        timezone_name: "Asia/Tokyo",
        utc_offset_hours: 9,
        age_days: 120,
        business_id: "2309000000001003",
        business_name: "Demo Tokyo K.K.",
        countries: &[("JP", 94), ("KR", 3), ("TW", 3)],
        ages: [16, 30, 24, 16, 9, 5],
        campaigns: &[
            CampaignSpec {
                name: "Summer Campaign - Tokyo",
                renamed: None,
                objective: Objective::Traffic,
                start_share: 0.0,
                ad_sets: &[
                    AdSetSpec {
                        name: "Tokyo 20-39",
                        ads: &["Reel - Street Style", "Image - New Arrivals"],
                    },
                    AdSetSpec {
                        name: "Kanto Broad",
                        ads: &["Image - New Arrivals"],
                    },
                ],
            },
            CampaignSpec {
                name: "Lead Gen - Store Visits",
                renamed: Some(("Store Visits - Q3", 30)),
                objective: Objective::Leads,
                start_share: 0.1,
                ad_sets: &[
                    AdSetSpec {
                        name: "Shibuya 5km",
                        ads: &["Lead Form - Coupon"],
                    },
                    AdSetSpec {
                        name: "Shinjuku 5km",
                        ads: &["Lead Form - Coupon", "Video - Store Tour"],
                    },
                ],
            },
        ],
    },
    AccountSpec {
        number: 1004,
        name: "Demo Kuwait",
        currency: Currency::Kwd,
        timezone_name: "Asia/Kuwait",
        utc_offset_hours: 3,
        age_days: 90,
        business_id: "2309000000001004",
        business_name: "Demo Perfumes W.L.L.",
        countries: &[("KW", 70), ("SA", 12), ("AE", 10), ("BH", 5), ("QA", 3)],
        ages: [10, 28, 28, 18, 10, 6],
        campaigns: &[
            CampaignSpec {
                name: "Ramadan Offers - Perfume",
                renamed: None,
                objective: Objective::Sales,
                start_share: 0.0,
                ad_sets: &[AdSetSpec {
                    name: "Kuwait City 25-54",
                    ads: &["Video - Oud Collection", "Carousel - Gift Sets"],
                }],
            },
            CampaignSpec {
                name: "Always On - Perfume",
                renamed: Some(("Launch - Perfume", 10)),
                objective: Objective::Sales,
                start_share: 0.2,
                ad_sets: &[AdSetSpec {
                    name: "Broad Kuwait",
                    ads: &["Image - Bestsellers"],
                }],
            },
            CampaignSpec {
                name: "Retargeting - Visitors",
                renamed: None,
                objective: Objective::Traffic,
                start_share: 0.4,
                ad_sets: &[
                    AdSetSpec {
                        name: "Visitors 30d",
                        ads: &["Dynamic - Catalog", "Static - Free Delivery"],
                    },
                    AdSetSpec {
                        name: "Engaged IG 60d",
                        ads: &["Reel - Behind the Scenes"],
                    },
                ],
            },
        ],
    },
];

pub(crate) struct Campaign {
    pub id: String,
    /// The current name.
    pub name: &'static str,
    /// The name before the rename, and the first local day of the current name.
    pub renamed: Option<(&'static str, i64)>,
    pub objective: Objective,
    pub start_day: i64,
}

impl Campaign {
    /// The name the campaign had on local `day`.
    pub(crate) fn name_on(&self, day: i64) -> &'static str {
        match self.renamed {
            Some((old, from)) if day < from => old,
            _ => self.name,
        }
    }
}

pub(crate) struct AdSet {
    pub id: String,
    pub name: &'static str,
    pub campaign: usize,
}

pub(crate) struct Ad {
    pub id: String,
    pub name: &'static str,
    pub campaign: usize,
    pub ad_set: usize,
    /// Its position in the account: keys its draws.
    pub index: usize,
    /// The first local day it delivers.
    pub start_day: i64,
    /// Relative delivery volume, 0.6..1.4.
    pub strength: f64,
}

/// An ad account as the handlers use it.
pub(crate) struct Account {
    /// Position in [`Accounts`] (usage is counted per index).
    pub index: usize,
    /// `1001` (the node is `act_1001`).
    pub number: u64,
    pub name: &'static str,
    pub currency: Currency,
    pub timezone_name: &'static str,
    pub utc_offset: i64,
    pub business_id: &'static str,
    pub business_name: &'static str,
    pub countries: &'static [(&'static str, u32)],
    pub ages: [u32; 6],
    pub created_time: i64,
    /// Local days since 1970-01-01: the creation date and "today" in the account's time zone.
    pub first_day: i64,
    pub last_day: i64,
    pub campaigns: Vec<Campaign>,
    pub ad_sets: Vec<AdSet>,
    pub ads: Vec<Ad>,
}

/// A 17-digit Facebook-like object id.
fn object_id(seed: u64, account: u64, kind: u64, index: usize) -> String {
    (23_850_000_000_000_000
        + hash(&[seed, ID_SALT, account, kind, index as u64]) % 10_000_000_000_000)
        .to_string()
}

impl Account {
    fn new(seed: u64, now: i64, index: usize, spec: &AccountSpec) -> Self {
        let utc_offset = spec.utc_offset_hours * HOUR;
        let created_time = now - spec.age_days * DAY;
        let first_day = (created_time + utc_offset).div_euclid(DAY);
        let last_day = (now + utc_offset).div_euclid(DAY);
        let mut campaigns = Vec::new();
        let mut ad_sets = Vec::new();
        let mut ads = Vec::new();
        for (c, campaign) in spec.campaigns.iter().enumerate() {
            let start_day = first_day + (spec.age_days as f64 * campaign.start_share) as i64;
            campaigns.push(Campaign {
                id: object_id(seed, spec.number, 1, c),
                name: campaign.name,
                renamed: campaign
                    .renamed
                    .map(|(old, days_ago)| (old, last_day - days_ago)),
                objective: campaign.objective,
                start_day,
            });
            for (s, ad_set) in campaign.ad_sets.iter().enumerate() {
                let set_index = ad_sets.len();
                ad_sets.push(AdSet {
                    id: object_id(seed, spec.number, 2, set_index),
                    name: ad_set.name,
                    campaign: c,
                });
                for (a, name) in ad_set.ads.iter().enumerate() {
                    let ad_index = ads.len();
                    let mut draws =
                        Draws::new(&[seed, STRENGTH_SALT, spec.number, ad_index as u64]);
                    ads.push(Ad {
                        id: object_id(seed, spec.number, 3, ad_index),
                        name,
                        campaign: c,
                        ad_set: set_index,
                        index: ad_index,
                        start_day: (start_day + 2 * s as i64 + 3 * a as i64).min(last_day),
                        strength: 0.6 + 0.8 * draws.unit(),
                    });
                }
            }
        }
        Account {
            index,
            number: spec.number,
            name: spec.name,
            currency: spec.currency,
            timezone_name: spec.timezone_name,
            utc_offset,
            business_id: spec.business_id,
            business_name: spec.business_name,
            countries: spec.countries,
            ages: spec.ages,
            created_time,
            first_day,
            last_day,
            campaigns,
            ad_sets,
            ads,
        }
    }

    /// `act_1001`
    pub(crate) fn node_id(&self) -> String {
        format!("act_{}", self.number)
    }

    /// `2023-01-05T19:00:00-0500`: Facebook's timestamps, in the account's offset.
    pub(crate) fn timestamp(&self, unix: i64) -> String {
        let local = unix + self.utc_offset;
        let seconds = local.rem_euclid(DAY);
        let offset_minutes = self.utc_offset / 60;
        format!(
            "{}T{:02}:{:02}:{:02}{}{:02}{:02}",
            iso_date(local.div_euclid(DAY)),
            seconds / HOUR,
            seconds % HOUR / 60,
            seconds % 60,
            if offset_minutes < 0 { '-' } else { '+' },
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        )
    }

    /// When a campaign was created: 09:00 local on its first day.
    pub(crate) fn campaign_created(&self, campaign: &Campaign) -> i64 {
        campaign.start_day * DAY + 9 * HOUR - self.utc_offset
    }

    pub(crate) fn public(&self) -> crate::AdAccount {
        crate::AdAccount {
            id: self.node_id(),
            account_id: self.number.to_string(),
            name: self.name.to_owned(),
            currency: self.currency.code().to_owned(),
            timezone_name: self.timezone_name.to_owned(),
            utc_offset_seconds: self.utc_offset,
            created_time: self.created_time,
            first_date: iso_date(self.first_day),
            last_date: iso_date(self.last_day),
            business_id: self.business_id.to_owned(),
        }
    }
}

/// Every account, in id order.
pub(crate) struct Accounts(Vec<Account>);

impl Accounts {
    /// The accounts of a sandbox whose data ends at `now` (unix seconds).
    pub(crate) fn new(seed: u64, now: i64) -> Self {
        Accounts(
            SPECS
                .iter()
                .enumerate()
                .map(|(index, spec)| Account::new(seed, now, index, spec))
                .collect(),
        )
    }

    pub(crate) fn all(&self) -> &[Account] {
        &self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The account of a node id (`act_1001`), exactly as written.
    pub(crate) fn find(&self, node: &str) -> Option<&Account> {
        self.0.iter().find(|account| account.node_id() == node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z
    const NOW: i64 = 1_767_225_600;

    #[test]
    fn accounts_start_at_their_age_and_end_today_in_their_zone() {
        let accounts = Accounts::new(42, NOW);
        let dates: Vec<(String, String)> = accounts
            .all()
            .iter()
            .map(|a| (iso_date(a.first_day), iso_date(a.last_day)))
            .collect();
        // Midnight UTC is still the previous day in New York.
        assert_eq!(
            dates,
            [
                ("2022-12-27".to_owned(), "2025-12-31".to_owned()),
                ("2024-11-27".to_owned(), "2026-01-01".to_owned()),
                ("2025-09-03".to_owned(), "2026-01-01".to_owned()),
                ("2025-10-03".to_owned(), "2026-01-01".to_owned()),
            ]
        );
        assert!(accounts.find("act_1004").is_some());
        assert!(accounts.find("1004").is_none());
        assert!(accounts.find("act_1005").is_none());
        let us = &accounts.all()[0];
        assert_eq!(us.timestamp(NOW), "2025-12-31T19:00:00-0500");
        assert_eq!(accounts.all()[3].timestamp(NOW), "2026-01-01T03:00:00+0300");
    }

    #[test]
    fn structure_is_fixed_with_unique_long_ids_per_seed() {
        for seed in [1, 42] {
            let accounts = Accounts::new(seed, NOW);
            let mut ids = Vec::new();
            for account in accounts.all() {
                assert!((2..=4).contains(&account.campaigns.len()));
                assert_eq!(account.ads[0].start_day, account.first_day);
                assert_eq!(account.campaigns[0].start_day, account.first_day);
                let renamed: Vec<&Campaign> = account
                    .campaigns
                    .iter()
                    .filter(|c| c.renamed.is_some())
                    .collect();
                assert_eq!(renamed.len(), 1);
                let (old, from) = renamed[0].renamed.unwrap_or_default();
                assert!(renamed[0].start_day < from && from <= account.last_day);
                assert_eq!(renamed[0].name_on(from - 1), old);
                assert_eq!(renamed[0].name_on(from), renamed[0].name);
                for campaign in &account.campaigns {
                    let sets = account
                        .ad_sets
                        .iter()
                        .filter(|s| std::ptr::eq(&account.campaigns[s.campaign], campaign));
                    assert!((1..=3).contains(&sets.count()));
                }
                ids.extend(account.campaigns.iter().map(|c| c.id.clone()));
                ids.extend(account.ad_sets.iter().map(|s| s.id.clone()));
                ids.extend(account.ads.iter().map(|a| a.id.clone()));
            }
            assert!(ids
                .iter()
                .all(|id| id.len() == 17 && id.starts_with("2385")));
            let count = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), count);
        }
        assert_ne!(
            Accounts::new(1, NOW).all()[0].ads[0].id,
            Accounts::new(2, NOW).all()[0].ads[0].id
        );
    }

    #[test]
    fn money_is_exact_in_minor_units() {
        assert_eq!(Currency::Usd.format(123_405), "1234.05");
        assert_eq!(Currency::Eur.format(7), "0.07");
        assert_eq!(Currency::Usd.format(0), "0.00");
        assert_eq!(Currency::Jpy.format(123_405), "123405");
        assert_eq!(Currency::Kwd.format(1_005), "1.005");
        assert_eq!(Currency::Kwd.format(42), "0.042");
    }
}
