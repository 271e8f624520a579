//! Hand-computed expectations for each definition.

use crate::*;

const DAY: i64 = 86_400;
/// 2024-01-01T00:00:00Z: the baseline; day `k` covers `(T0 + k DAY, T0 + (k + 1) DAY]`.
const T0: i64 = 1_704_067_200;

/// An instant inside day `k`.
fn at(k: i64) -> i64 {
    T0 + k * DAY + 3_600
}

fn days(n: i64) -> Vec<i64> {
    (1..=n).map(|i| T0 + i * DAY).collect()
}

fn item(price: &str, amount: i64, quantity: i64, interval: Interval, count: u32) -> Item {
    Item::licensed(price, "usd", amount, quantity, interval, count)
}

fn monthly(price: &str, amount: i64) -> Item {
    item(price, amount, 1, Interval::Month, 1)
}

fn state(items: Vec<Item>, status: Status) -> SubscriptionState {
    SubscriptionState {
        items,
        status,
        discounts: Vec::new(),
    }
}

fn active(items: Vec<Item>) -> SubscriptionState {
    state(items, Status::Active)
}

fn hist(id: &str, customer: &str, changes: Vec<(i64, SubscriptionState)>) -> SubscriptionHistory {
    SubscriptionHistory {
        id: id.to_owned(),
        customer: customer.to_owned(),
        changes: changes
            .into_iter()
            .map(|(from, state)| Change { from, state })
            .collect(),
        canceled_at: None,
        trial: None,
    }
}

/// A customer's (of the same id) one monthly subscription to `price` in `currency`, active from
/// day 0.
fn monthly_in(id: &str, price: &str, currency: &str, amount: i64) -> SubscriptionHistory {
    hist(
        id,
        id,
        vec![(
            at(0),
            active(vec![Item::licensed(
                price,
                currency,
                amount,
                1,
                Interval::Month,
                1,
            )]),
        )],
    )
}

fn canceled() -> SubscriptionState {
    state(Vec::new(), Status::Canceled)
}

fn usd() -> FxRates {
    FxRates::new("usd")
}

fn run_with(
    histories: &[SubscriptionHistory],
    n: i64,
    kind: MetricKind,
    grouping: Grouping,
    fx: &FxRates,
    settings: &Settings,
) -> Series {
    compute_series(histories, &days(n), kind, grouping, fx, settings).unwrap()
}

fn run(histories: &[SubscriptionHistory], n: i64, kind: MetricKind) -> Series {
    run_with(
        histories,
        n,
        kind,
        Grouping::None,
        &usd(),
        &Settings::default(),
    )
}

fn ints(values: &[Option<Number>]) -> Vec<i64> {
    values
        .iter()
        .map(|v| v.unwrap().as_i64().unwrap())
        .collect()
}

fn floats(values: &[Option<Number>]) -> Vec<Option<f64>> {
    values.iter().map(|v| v.map(Number::as_f64)).collect()
}

fn mrr(histories: &[SubscriptionHistory], n: i64) -> Vec<i64> {
    ints(&run(histories, n, MetricKind::Mrr).total)
}

fn movement(series: &Series, name: &str) -> Vec<i64> {
    ints(&series.groups[name])
}

/// Every day, the movements sum to the change of MRR (total and groups).
fn assert_movements_add_up(
    histories: &[SubscriptionHistory],
    n: i64,
    fx: &FxRates,
    settings: &Settings,
) {
    let mrr = ints(&run_with(histories, n, MetricKind::Mrr, Grouping::None, fx, settings).total);
    let movements = run_with(
        histories,
        n,
        MetricKind::MrrMovements,
        Grouping::None,
        fx,
        settings,
    );
    let net = ints(&movements.total);
    for day in 1..n as usize {
        let sum: i64 = MOVEMENTS
            .iter()
            .map(|name| movement(&movements, name)[day])
            .sum();
        assert_eq!(sum, net[day], "day {day}");
        assert_eq!(net[day], mrr[day] - mrr[day - 1], "day {day}");
    }
}

#[test]
fn annual_plan_is_a_twelfth() {
    let h = hist(
        "s",
        "c",
        vec![(at(2), active(vec![item("p", 1_200, 1, Interval::Year, 1)]))],
    );
    assert_eq!(mrr(std::slice::from_ref(&h), 4), vec![0, 0, 100, 100]);
    assert_eq!(
        ints(&run(&[h], 4, MetricKind::Arr).total),
        vec![0, 0, 1_200, 1_200]
    );
}

#[test]
fn quarterly_weekly_and_daily_plans() {
    let quarterly = hist(
        "q",
        "c1",
        vec![(
            at(0),
            active(vec![item("p", 30_000, 1, Interval::Month, 3)]),
        )],
    );
    let weekly = hist(
        "w",
        "c2",
        vec![(at(0), active(vec![item("p", 1_200, 1, Interval::Week, 1)]))],
    );
    let daily = hist(
        "d",
        "c3",
        vec![(at(0), active(vec![item("p", 100, 1, Interval::Day, 1)]))],
    );
    assert_eq!(mrr(&[quarterly], 1), vec![10_000]);
    // 1,200 x 52 / 12 = 5,200; 100 x 365 / 12 = 3,041.67 -> 3,042.
    assert_eq!(mrr(&[weekly], 1), vec![5_200]);
    assert_eq!(mrr(&[daily], 1), vec![3_042]);
}

#[test]
fn half_even_per_subscription_before_summing() {
    // 100,000 every 3 months = 33,333.33 each: two subscriptions make 66,666, not 66,667.
    let q = |id: &str| {
        hist(
            id,
            id,
            vec![(
                at(0),
                active(vec![item("p", 100_000, 1, Interval::Month, 3)]),
            )],
        )
    };
    assert_eq!(mrr(&[q("a"), q("b")], 1), vec![66_666]);
    // Half a cent rounds to even: 1,001 / 2 = 500.5 -> 500; 1,003 / 2 = 501.5 -> 502.
    let two = |id: &str, amount| {
        hist(
            id,
            id,
            vec![(
                at(0),
                active(vec![item("p", amount, 1, Interval::Month, 2)]),
            )],
        )
    };
    assert_eq!(mrr(&[two("a", 1_001)], 1), vec![500]);
    assert_eq!(mrr(&[two("a", 1_003)], 1), vec![502]);
}

#[test]
fn quantity_change_is_expansion() {
    let h = hist(
        "s",
        "c",
        vec![
            (
                at(0),
                active(vec![item("seat", 1_000, 2, Interval::Month, 1)]),
            ),
            (
                at(3),
                active(vec![item("seat", 1_000, 5, Interval::Month, 1)]),
            ),
        ],
    );
    assert_eq!(
        mrr(std::slice::from_ref(&h), 5),
        vec![2_000, 2_000, 2_000, 5_000, 5_000]
    );
    let movements = run(&[h], 5, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "new"), vec![2_000, 0, 0, 0, 0]);
    assert_eq!(movement(&movements, "expansion"), vec![0, 0, 0, 3_000, 0]);
    assert_eq!(ints(&movements.total), vec![2_000, 0, 0, 3_000, 0]);
}

fn with_discount(
    mut s: SubscriptionState,
    duration: CouponDuration,
    percent: Option<f64>,
    amount: Option<i64>,
    start: i64,
) -> SubscriptionState {
    s.discounts.push(Discount {
        id: "di".into(),
        coupon: Coupon {
            id: "co".into(),
            percent_off: percent,
            amount_off: amount,
            currency: amount.map(|_| "usd".into()),
            duration,
        },
        start,
        end: None,
    });
    s
}

#[test]
fn forever_coupon_lowers_mrr() {
    let s = with_discount(
        active(vec![monthly("p", 5_000)]),
        CouponDuration::Forever,
        Some(20.0),
        None,
        at(0),
    );
    let h = hist("s", "c", vec![(at(0), s)]);
    assert_eq!(mrr(std::slice::from_ref(&h), 400), vec![4_000; 400]);
    let ignored = Settings {
        ignore_discounts: true,
        ..Settings::default()
    };
    let series = run_with(&[h], 2, MetricKind::Mrr, Grouping::None, &usd(), &ignored);
    assert_eq!(ints(&series.total), vec![5_000, 5_000]);
}

#[test]
fn amount_off_is_per_billing_period() {
    // 1,200 off a yearly 12,000 invoice = 100 off a month: 1,000 - 100.
    let s = with_discount(
        active(vec![item("p", 12_000, 1, Interval::Year, 1)]),
        CouponDuration::Forever,
        None,
        Some(1_200),
        at(0),
    );
    assert_eq!(mrr(&[hist("s", "c", vec![(at(0), s)])], 1), vec![900]);
}

#[test]
fn repeating_coupon_expires_after_its_months() {
    // Starts 2024-01-01 01:00 for 3 months: ends 2024-04-01 01:00, inside day 91 (Jan 31 + Feb 29 + Mar 31).
    let s = with_discount(
        active(vec![monthly("p", 5_000)]),
        CouponDuration::Repeating { months: 3 },
        Some(20.0),
        None,
        at(0),
    );
    let h = hist("s", "c", vec![(at(0), s)]);
    let values = mrr(std::slice::from_ref(&h), 93);
    assert_eq!(values[0], 4_000);
    assert_eq!(values[90], 4_000);
    assert_eq!(values[91], 5_000);
    assert_eq!(values[92], 5_000);
    let movements = run(&[h], 93, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "expansion")[91], 1_000);
    assert_eq!(movement(&movements, "expansion").iter().sum::<i64>(), 1_000);
}

#[test]
fn once_coupon_does_not_lower_mrr_by_default() {
    let s = with_discount(
        active(vec![monthly("p", 5_000)]),
        CouponDuration::Once,
        Some(50.0),
        None,
        at(0),
    );
    let h = hist("s", "c", vec![(at(0), s)]);
    assert_eq!(mrr(std::slice::from_ref(&h), 3), vec![5_000; 3]);
    // With the setting, for one billing period (a month: 2024-02-01 01:00 is in day 31).
    let settings = Settings {
        once_discounts_lower_mrr: true,
        ..Settings::default()
    };
    let values =
        ints(&run_with(&[h], 32, MetricKind::Mrr, Grouping::None, &usd(), &settings).total);
    assert_eq!((values[0], values[30], values[31]), (2_500, 2_500, 5_000));
}

#[test]
fn trial_that_converts_is_new_on_conversion() {
    let mut h = hist(
        "s",
        "c",
        vec![
            (at(1), state(vec![monthly("p", 5_000)], Status::Trialing)),
            (at(15), active(vec![monthly("p", 5_000)])),
        ],
    );
    h.trial = Some((at(1), at(15)));
    let hs = [h];
    let values = mrr(&hs, 17);
    assert!(values[..15].iter().all(|&v| v == 0));
    assert_eq!((values[15], values[16]), (5_000, 5_000));
    let movements = run(&hs, 17, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "new")[15], 5_000);
    assert_eq!(movement(&movements, "new").iter().sum::<i64>(), 5_000);
    let new_customers = ints(&run(&hs, 17, MetricKind::NewCustomers).total);
    assert_eq!(new_customers.iter().sum::<i64>(), 1);
    assert_eq!(new_customers[15], 1);
    let trials = run(&hs, 17, MetricKind::Trials);
    assert_eq!(ints(&trials.total)[1], 1);
    assert_eq!(ints(&trials.groups["started"]), ints(&trials.total));
    let converted = ints(&trials.groups["converted"]);
    assert_eq!((converted[15], converted.iter().sum::<i64>()), (1, 1));
}

#[test]
fn trial_that_lapses_never_counts() {
    let mut h = hist(
        "s",
        "c",
        vec![
            (at(1), state(vec![monthly("p", 5_000)], Status::Trialing)),
            (at(15), canceled()),
        ],
    );
    h.trial = Some((at(1), at(15)));
    h.canceled_at = Some(at(7));
    let hs = [h];
    assert_eq!(mrr(&hs, 20), vec![0; 20]);
    let trials = run(&hs, 20, MetricKind::Trials);
    assert_eq!(ints(&trials.total).iter().sum::<i64>(), 1);
    assert_eq!(ints(&trials.groups["converted"]).iter().sum::<i64>(), 0);
    assert_eq!(
        ints(&run(&hs, 20, MetricKind::NewCustomers).total)
            .iter()
            .sum::<i64>(),
        0
    );
    assert_eq!(
        ints(&run(&hs, 20, MetricKind::ChurnedCustomers).total)
            .iter()
            .sum::<i64>(),
        0
    );
}

#[test]
fn upgrade_is_expansion_and_downgrade_contraction() {
    let h = hist(
        "s",
        "c",
        vec![
            (at(0), active(vec![monthly("growth", 2_900)])),
            (at(2), active(vec![monthly("pro", 7_900)])),
            (at(4), active(vec![monthly("starter", 900)])),
        ],
    );
    let movements = run(&[h], 5, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "expansion"), vec![0, 0, 5_000, 0, 0]);
    assert_eq!(
        movement(&movements, "contraction"),
        vec![0, 0, 0, 0, -7_000]
    );
    assert_eq!(movement(&movements, "churn"), vec![0; 5]);
}

#[test]
fn cancelling_one_of_two_subscriptions_is_contraction() {
    let a = hist(
        "a",
        "c",
        vec![
            (at(0), active(vec![monthly("p", 3_000)])),
            (at(2), canceled()),
        ],
    );
    let b = hist("b", "c", vec![(at(0), active(vec![monthly("q", 2_000)]))]);
    let hs = [a, b];
    let movements = run(&hs, 3, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "contraction"), vec![0, 0, -3_000]);
    assert_eq!(movement(&movements, "churn"), vec![0; 3]);
    assert_eq!(movement(&movements, "new"), vec![5_000, 0, 0]);
    assert_eq!(
        ints(&run(&hs, 3, MetricKind::ChurnedCustomers).total),
        vec![0; 3]
    );
    assert_eq!(
        ints(&run(&hs, 3, MetricKind::ActiveSubscribers).total),
        vec![2, 2, 1]
    );
    assert_eq!(
        ints(&run(&hs, 3, MetricKind::ActiveCustomers).total),
        vec![1, 1, 1]
    );
}

#[test]
fn cancellation_at_period_end_churns_when_it_ends_or_when_asked() {
    let mut h = hist(
        "s",
        "c",
        vec![
            (at(0), active(vec![monthly("p", 5_000)])),
            (at(20), canceled()),
        ],
    );
    h.canceled_at = Some(at(5));
    let hs = [h];
    let churn = movement(&run(&hs, 22, MetricKind::MrrMovements), "churn");
    assert_eq!(churn[20], -5_000);
    assert_eq!(churn.iter().sum::<i64>(), -5_000);
    assert_eq!(
        ints(&run(&hs, 22, MetricKind::ChurnedCustomers).total)[20],
        1
    );
    let on_request = Settings {
        churn_at: ChurnAt::Cancellation,
        ..Settings::default()
    };
    let series = run_with(
        &hs,
        22,
        MetricKind::MrrMovements,
        Grouping::None,
        &usd(),
        &on_request,
    );
    let churn = movement(&series, "churn");
    assert_eq!(churn[5], -5_000);
    assert_eq!(churn.iter().sum::<i64>(), -5_000);
}

#[test]
fn unpaid_churns_and_past_due_counts() {
    let h = |status| {
        hist(
            "s",
            "c",
            vec![
                (at(0), active(vec![monthly("p", 5_000)])),
                (at(3), state(vec![monthly("p", 5_000)], status)),
            ],
        )
    };
    assert_eq!(mrr(&[h(Status::Unpaid)], 4), vec![5_000, 5_000, 5_000, 0]);
    let churn = movement(
        &run(&[h(Status::Unpaid)], 4, MetricKind::MrrMovements),
        "churn",
    );
    assert_eq!(churn, vec![0, 0, 0, -5_000]);
    assert_eq!(mrr(&[h(Status::PastDue)], 4), vec![5_000; 4]);
    let strict = Settings {
        past_due_counts: false,
        ..Settings::default()
    };
    let series = run_with(
        &[h(Status::PastDue)],
        4,
        MetricKind::Mrr,
        Grouping::None,
        &usd(),
        &strict,
    );
    assert_eq!(ints(&series.total), vec![5_000, 5_000, 5_000, 0]);
    let lenient = Settings {
        unpaid_counts: true,
        ..Settings::default()
    };
    let series = run_with(
        &[h(Status::Unpaid)],
        4,
        MetricKind::Mrr,
        Grouping::None,
        &usd(),
        &lenient,
    );
    assert_eq!(ints(&series.total), vec![5_000; 4]);
}

#[test]
fn paused_counts_zero() {
    let h = hist(
        "s",
        "c",
        vec![
            (at(0), active(vec![monthly("p", 5_000)])),
            (at(2), state(vec![monthly("p", 5_000)], Status::Paused)),
            (at(4), active(vec![monthly("p", 5_000)])),
        ],
    );
    let movements = run(std::slice::from_ref(&h), 5, MetricKind::MrrMovements);
    assert_eq!(mrr(&[h], 5), vec![5_000, 5_000, 0, 0, 5_000]);
    assert_eq!(movement(&movements, "churn")[2], -5_000);
    assert_eq!(movement(&movements, "reactivation")[4], 5_000);
}

#[test]
fn a_customer_coming_back_is_reactivation() {
    let a = hist(
        "a",
        "c",
        vec![
            (at(0), active(vec![monthly("p", 3_000)])),
            (at(5), canceled()),
        ],
    );
    let b = hist("b", "c", vec![(at(10), active(vec![monthly("p", 4_000)]))]);
    let hs = [a, b];
    let movements = run(&hs, 12, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "reactivation")[10], 4_000);
    assert_eq!(movement(&movements, "new").iter().sum::<i64>(), 3_000);
    assert_eq!(movement(&movements, "churn")[5], -3_000);
    let new_customers = ints(&run(&hs, 12, MetricKind::NewCustomers).total);
    assert_eq!(new_customers.iter().sum::<i64>(), 1);
    // MRR before the days counts too: a customer active before the baseline who returns is reactivated.
    let old = hist(
        "o",
        "d",
        vec![
            (T0 - 40 * DAY, active(vec![monthly("p", 1_000)])),
            (T0 - 10 * DAY, canceled()),
        ],
    );
    let back = hist("n", "d", vec![(at(3), active(vec![monthly("p", 1_000)]))]);
    let movements = run(&[old, back], 4, MetricKind::MrrMovements);
    assert_eq!(movement(&movements, "reactivation")[3], 1_000);
    assert_eq!(movement(&movements, "new")[3], 0);
}

#[test]
fn metered_and_free_items_are_excluded() {
    let mut metered = monthly("api_calls", 7);
    metered.usage_type = UsageType::Metered;
    metered.quantity = 10_000;
    let h = hist(
        "s",
        "c",
        vec![(
            at(0),
            active(vec![monthly("p", 5_000), metered, monthly("free", 0)]),
        )],
    );
    assert_eq!(mrr(&[h], 1), vec![5_000]);
}

#[test]
fn rate_changes_go_to_fx_and_movements_add_up() {
    let eur = |amount, quantity| Item::licensed("e", "eur", amount, quantity, Interval::Month, 1);
    let h = hist(
        "s",
        "c",
        vec![
            (T0 - DAY, active(vec![eur(10_000, 1)])),
            (at(3), active(vec![eur(10_000, 2)])),
        ],
    );
    // 1.1 until day 2, 1.2 from day 3 (the rate at each day end).
    let fx = FxRates::new("usd")
        .with("EUR", T0, 1.1)
        .with("eur", T0 + 4 * DAY, 1.2);
    let series = run_with(
        std::slice::from_ref(&h),
        5,
        MetricKind::Mrr,
        Grouping::None,
        &fx,
        &Settings::default(),
    );
    assert_eq!(
        ints(&series.total),
        vec![11_000, 11_000, 11_000, 24_000, 24_000]
    );
    let movements = run_with(
        std::slice::from_ref(&h),
        5,
        MetricKind::MrrMovements,
        Grouping::None,
        &fx,
        &Settings::default(),
    );
    // Day 3: 10,000 EUR at 1.2 - at 1.1 = 1,000 fx; the extra 10,000 EUR at today's rate = 12,000.
    assert_eq!(movement(&movements, "fx"), vec![0, 0, 0, 1_000, 0]);
    assert_eq!(movement(&movements, "expansion"), vec![0, 0, 0, 12_000, 0]);
    assert_eq!(ints(&movements.total), vec![0, 0, 0, 13_000, 0]);
    assert_movements_add_up(&[h], 5, &fx, &Settings::default());
}

#[test]
fn missing_rate_is_an_error() {
    let h = hist(
        "s",
        "c",
        vec![(
            at(0),
            active(vec![Item::licensed("e", "eur", 100, 1, Interval::Month, 1)]),
        )],
    );
    let error = compute_series(
        &[h],
        &days(2),
        MetricKind::Mrr,
        Grouping::None,
        &usd(),
        &Settings::default(),
    );
    assert_eq!(
        error,
        Err(SeriesError::MissingRate {
            currency: "eur".into()
        })
    );
}

#[test]
fn grouped_by_currency_without_rates_keeps_the_groups_and_the_counts() {
    let histories = [
        monthly_in("a", "a", "eur", 100),
        monthly_in("b", "b", "usd", 300),
    ];
    let of = |kind| {
        compute_series(
            &histories,
            &days(2),
            kind,
            Grouping::Currency,
            &usd(),
            &Settings::default(),
        )
        .unwrap()
    };
    let mrr = of(MetricKind::Mrr);
    assert_eq!(mrr.total, vec![None, None], "no rate of the euro: no total");
    assert_eq!(mrr.groups["eur"], vec![Some(Number::Int(100)); 2]);
    assert_eq!(mrr.groups["usd"], vec![Some(Number::Int(300)); 2]);
    let customers = of(MetricKind::ActiveCustomers);
    assert_eq!(customers.total, vec![Some(Number::Int(2)); 2]);
    assert_eq!(customers.groups["eur"], vec![Some(Number::Int(1)); 2]);
    let movements = of(MetricKind::MrrMovements);
    assert_eq!(movements.total, vec![None, None]);
    assert!(movements.groups.is_empty());
    // Ungrouped, the total is what is asked for: the rate is missing.
    assert!(matches!(
        compute_series(
            &histories,
            &days(2),
            MetricKind::ActiveCustomers,
            Grouping::None,
            &usd(),
            &Settings::default(),
        ),
        Err(SeriesError::MissingRate { .. })
    ));
}

#[test]
fn grouped_by_currency_in_own_currencies() {
    let hs = [
        monthly_in("a", "p", "usd", 5_000),
        monthly_in("b", "p", "eur", 4_000),
        monthly_in("c", "p", "gbp", 3_000),
    ];
    let fx = FxRates::new("usd")
        .with("eur", T0, 1.1)
        .with("gbp", T0, 1.25);
    let series = run_with(
        &hs,
        2,
        MetricKind::Mrr,
        Grouping::Currency,
        &fx,
        &Settings::default(),
    );
    assert_eq!(ints(&series.groups["usd"]), vec![5_000, 5_000]);
    assert_eq!(ints(&series.groups["eur"]), vec![4_000, 4_000]);
    assert_eq!(ints(&series.groups["gbp"]), vec![3_000, 3_000]);
    assert_eq!(series.groups.len(), 3);
    // The total is converted: 5,000 + 4,400 + 3,750.
    assert_eq!(ints(&series.total), vec![13_150, 13_150]);
    let customers = run_with(
        &hs,
        2,
        MetricKind::ActiveCustomers,
        Grouping::Currency,
        &fx,
        &Settings::default(),
    );
    assert_eq!(ints(&customers.groups["eur"]), vec![1, 1]);
    assert_eq!(ints(&customers.total), vec![3, 3]);
}

#[test]
fn grouped_by_plan() {
    let mut two = active(vec![monthly("price_a", 3_000), monthly("price_b", 2_000)]);
    two = with_discount(two, CouponDuration::Forever, Some(10.0), None, at(0));
    let hs = [
        hist("s1", "c1", vec![(at(0), two)]),
        hist(
            "s2",
            "c2",
            vec![(at(0), active(vec![monthly("price_a", 1_000)]))],
        ),
    ];
    let series = run_with(
        &hs,
        1,
        MetricKind::Mrr,
        Grouping::Plan,
        &usd(),
        &Settings::default(),
    );
    // 4,500 split 3:2 -> 2,700 + 1,800.
    assert_eq!(ints(&series.groups["price_a"]), vec![3_700]);
    assert_eq!(ints(&series.groups["price_b"]), vec![1_800]);
    assert_eq!(ints(&series.total), vec![5_500]);
    let subscribers = run_with(
        &hs,
        1,
        MetricKind::ActiveSubscribers,
        Grouping::Plan,
        &usd(),
        &Settings::default(),
    );
    assert_eq!(ints(&subscribers.groups["price_a"]), vec![2]);
    assert_eq!(ints(&subscribers.groups["price_b"]), vec![1]);
}

#[test]
fn churn_rates_arpu_and_ltv() {
    // Ten customers at 1,000 from before the days; one churns on day 35, one contracts by 500 on day 36.
    let mut hs: Vec<SubscriptionHistory> = (0..10)
        .map(|i| {
            hist(
                &format!("s{i}"),
                &format!("c{i}"),
                vec![(T0 - 5 * DAY, active(vec![monthly("p", 1_000)]))],
            )
        })
        .collect();
    hs[0].changes.push(Change {
        from: at(35),
        state: canceled(),
    });
    hs[1].changes.push(Change {
        from: at(36),
        state: active(vec![monthly("p", 500)]),
    });
    let n = 40;
    let customer_churn = floats(&run(&hs, n, MetricKind::CustomerChurnRate).total);
    let revenue_churn = floats(&run(&hs, n, MetricKind::RevenueChurnRate).total);
    let arpu = floats(&run(&hs, n, MetricKind::Arpu).total);
    let ltv = floats(&run(&hs, n, MetricKind::Ltv).total);
    // No value 30 days before until day 29 (its window starts at the baseline).
    assert_eq!(customer_churn[28], None);
    assert_eq!(customer_churn[29], Some(0.0));
    assert_eq!(ltv[29], None, "no churn, no LTV");
    assert_eq!(customer_churn[34], Some(0.0));
    assert_eq!(customer_churn[35], Some(0.1));
    assert_eq!(revenue_churn[35], Some(0.1));
    assert_eq!(revenue_churn[36], Some(0.15));
    assert_eq!(arpu[0], Some(1_000.0));
    assert_eq!(arpu[35], Some(1_000.0));
    assert_eq!(arpu[36], Some(8_500.0 / 9.0));
    assert_eq!(ltv[35], Some(10_000.0));
    // Net of expansion: an expansion of 1,000 on day 37 brings revenue churn down to 500 / 10,000.
    hs[2].changes.push(Change {
        from: at(37),
        state: active(vec![monthly("p", 2_000)]),
    });
    let net = Settings {
        revenue_churn_net_of_expansion: true,
        ..Settings::default()
    };
    let series = run_with(
        &hs,
        n,
        MetricKind::RevenueChurnRate,
        Grouping::None,
        &usd(),
        &net,
    );
    assert_eq!(floats(&series.total)[37], Some(0.05));
    assert_eq!(
        floats(&run(&hs, n, MetricKind::RevenueChurnRate).total)[37],
        Some(0.15)
    );
}

#[test]
fn no_customers_means_no_arpu() {
    let series = run(&[], 3, MetricKind::Arpu);
    assert_eq!(series.total, vec![None; 3]);
    assert_eq!(ints(&run(&[], 3, MetricKind::Mrr).total), vec![0; 3]);
}

#[test]
fn kinds_keep_their_names_and_series_serialize() {
    let names: Vec<&str> = MetricKind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(
        names,
        [
            "mrr",
            "arr",
            "mrr_movements",
            "active_subscribers",
            "active_customers",
            "new_customers",
            "churned_customers",
            "customer_churn_rate",
            "revenue_churn_rate",
            "arpu",
            "ltv",
            "trials"
        ]
    );
    for kind in MetricKind::ALL {
        assert_eq!(kind.as_str().parse::<MetricKind>(), Ok(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert!("churn".parse::<MetricKind>().is_err());
    let h = hist("s", "c", vec![(at(0), active(vec![monthly("p", 1_000)]))]);
    let movements = run(&[h], 2, MetricKind::MrrMovements);
    let keys: Vec<&String> = movements.groups.keys().collect();
    assert_eq!(
        keys,
        [
            "churn",
            "contraction",
            "expansion",
            "fx",
            "new",
            "reactivation"
        ]
    );
    assert_eq!(
        serde_json::to_value(&movements).unwrap()["groups"]["new"],
        serde_json::json!([1_000, 0])
    );
}

#[test]
fn timeline_merges_and_gives_customer_changes() {
    let a = hist("a", "c", vec![(at(1), active(vec![monthly("p", 1_000)]))]);
    let b = hist("b", "c", vec![(at(2), active(vec![monthly("p", 500)]))]);
    let b2 = hist("b", "c", vec![(at(3), active(vec![monthly("p", 700)]))]);
    let settings = Settings::default();
    let d = days(5);
    let mut timeline = MrrTimeline::build(&[a.clone(), b], &d, &settings).unwrap();
    timeline
        .merge(MrrTimeline::build(std::slice::from_ref(&b2), &d, &settings).unwrap())
        .unwrap();
    assert_eq!(timeline.tracks.len(), 2);
    let whole = MrrTimeline::build(&[a, b2], &d, &settings).unwrap();
    assert_eq!(timeline, whole);
    let changes: Vec<(usize, i64)> = timeline
        .customer_changes()
        .iter()
        .map(|c| (c.day, c.mrr))
        .collect();
    assert_eq!(changes, vec![(1, 1_000), (3, 1_700)]);
    let other_days = MrrTimeline::build(&[], &days(4), &settings).unwrap();
    assert_eq!(timeline.merge(other_days), Err(SeriesError::MismatchedDays));
    assert_eq!(
        MrrTimeline::build(&[], &[3, 2], &settings),
        Err(SeriesError::BadDayEnds)
    );
}

/// A deterministic pseudo-random generator for the large test.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// `count` random subscriptions of about 0.7 x `count` customers over two years in three
/// currencies, and a rate a day of the two foreign ones.
fn random_histories(seed: u64, count: u64, n: i64) -> (Vec<SubscriptionHistory>, FxRates) {
    let mut rng = Lcg(seed);
    let currencies = ["usd", "eur", "gbp"];
    let customers = (count * 7 / 10).max(1);
    let histories: Vec<SubscriptionHistory> = (0..count)
        .map(|i| {
            let currency = currencies[rng.below(3) as usize];
            let price = format!("price_{}", rng.below(20));
            let yearly = rng.below(5) == 0;
            let amount = 500 + 100 * rng.below(100) as i64;
            let it = |quantity| {
                if yearly {
                    Item::licensed(&price, currency, amount * 10, quantity, Interval::Year, 1)
                } else {
                    Item::licensed(&price, currency, amount, quantity, Interval::Month, 1)
                }
            };
            let start = T0 - 200 * DAY + rng.below(900) as i64 * DAY + rng.below(DAY as u64) as i64;
            let mut changes = vec![(start, active(vec![it(1)]))];
            if rng.below(3) == 0 {
                changes.push((
                    start + rng.below(200) as i64 * DAY + 1,
                    active(vec![it(1 + rng.below(5) as i64)]),
                ));
            }
            if rng.below(2) == 0 {
                changes.push((start + 201 * DAY + rng.below(300) as i64 * DAY, canceled()));
            }
            hist(
                &format!("sub_{i}"),
                &format!("cus_{}", rng.below(customers)),
                changes,
            )
        })
        .collect();
    let mut fx = FxRates::new("usd");
    for day in 0..=n {
        fx.insert(
            "eur",
            T0 + day * DAY,
            1.05 + 0.1 * (day as f64 / 50.0).sin(),
        );
        fx.insert(
            "gbp",
            T0 + day * DAY,
            1.25 + 0.05 * (day as f64 / 30.0).cos(),
        );
    }
    (histories, fx)
}

#[test]
fn ten_thousand_subscriptions_over_two_years() {
    let n = 730;
    let (histories, fx) = random_histories(7, 10_000, n);
    let started = std::time::Instant::now();
    let timeline = MrrTimeline::build(&histories, &days(n), &Settings::default()).unwrap();
    let all =
        all_series_from_timeline(&timeline, Grouping::None, &fx, &Settings::default()).unwrap();
    let by_plan =
        all_series_from_timeline(&timeline, Grouping::Plan, &fx, &Settings::default()).unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs() < 20, "took {elapsed:?}");
    let mrr = ints(&all[&MetricKind::Mrr].total);
    let movements = &all[&MetricKind::MrrMovements];
    let net = ints(&movements.total);
    for day in 1..n as usize {
        let sum: i64 = MOVEMENTS
            .iter()
            .map(|name| movement(movements, name)[day])
            .sum();
        assert_eq!(sum, net[day]);
        assert_eq!(net[day], mrr[day] - mrr[day - 1], "day {day}");
    }
    assert!(movement(movements, "fx").iter().any(|&v| v != 0));
    assert!(movement(movements, "churn").iter().any(|&v| v < 0));
    assert!(mrr.iter().all(|&v| v > 0));
    assert_eq!(ints(&by_plan[&MetricKind::Mrr].total), mrr);
    assert_eq!(by_plan[&MetricKind::Mrr].groups.len(), 20);
}

mod stripe_json {
    use super::*;
    use serde_json::{json, Value};

    fn price(id: &str, amount: i64, interval: &str) -> Value {
        json!({
            "id": id,
            "object": "price",
            "active": true,
            "billing_scheme": "per_unit",
            "currency": "usd",
            "recurring": {
                "interval": interval,
                "interval_count": 1,
                "meter": null,
                "trial_period_days": null,
                "usage_type": "licensed",
            },
            "type": "recurring",
            "unit_amount": amount,
            "unit_amount_decimal": amount.to_string(),
        })
    }

    /// A classic (2023 API) line item: expanded price, `proration`, `subscription`.
    fn classic_line(
        sub: &str,
        price: Value,
        amount: i64,
        proration: bool,
        period: (i64, i64),
    ) -> Value {
        json!({
            "id": "il_x",
            "object": "line_item",
            "amount": amount,
            "currency": "usd",
            "discount_amounts": [],
            "period": { "start": period.0, "end": period.1 },
            "plan": null,
            "price": price,
            "proration": proration,
            "quantity": 1,
            "subscription": sub,
            "subscription_item": "si_x",
            "type": if proration { "invoiceitem" } else { "subscription" },
        })
    }

    fn invoice(id: &str, sub: &str, created: i64, lines: Vec<Value>) -> Value {
        json!({
            "id": id,
            "object": "invoice",
            "created": created,
            "currency": "usd",
            "customer": "cus_1",
            "subscription": sub,
            "lines": { "object": "list", "data": lines, "has_more": false },
        })
    }

    fn subscription(id: &str, customer: &str, items: Value, extra: Value) -> Value {
        let mut sub = json!({
            "id": id,
            "object": "subscription",
            "customer": customer,
            "currency": "usd",
            "cancel_at_period_end": false,
            "canceled_at": null,
            "discount": null,
            "discounts": [],
            "ended_at": null,
            "items": { "object": "list", "data": items, "has_more": false },
            "pause_collection": null,
            "status": "active",
            "trial_start": null,
            "trial_end": null,
        });
        if let (Some(fields), Some(extra)) = (sub.as_object_mut(), extra.as_object()) {
            for (key, value) in extra {
                fields.insert(key.clone(), value.clone());
            }
        }
        sub
    }

    /// The sandbox's subscription item: price and plan objects, quantity, current period.
    fn item_json(sub: &str, price_json: Value, quantity: i64, period: (i64, i64)) -> Value {
        json!({
            "id": "si_1",
            "object": "subscription_item",
            "current_period_start": period.0,
            "current_period_end": period.1,
            "discounts": [],
            "price": price_json,
            "quantity": quantity,
            "subscription": sub,
        })
    }

    fn daily_mrr(history: &SubscriptionHistory, n: i64, settings: &Settings) -> Vec<i64> {
        let series = compute_series(
            std::slice::from_ref(history),
            &days(n),
            MetricKind::Mrr,
            Grouping::None,
            &usd(),
            settings,
        )
        .unwrap();
        ints(&series.total)
    }

    fn expect(segments: &[(i64, i64)], n: i64) -> Vec<i64> {
        // (from day, value) segments.
        (0..n)
            .map(|day| {
                segments
                    .iter()
                    .rev()
                    .find(|(from, _)| *from <= day)
                    .map_or(0, |(_, value)| *value)
            })
            .collect()
    }

    #[test]
    fn two_invoices_and_a_proration() {
        let growth = price("price_growth", 2_900, "month");
        let pro = price("price_pro", 7_900, "month");
        let sub = subscription(
            "sub_1",
            "cus_1",
            json!([item_json("sub_1", pro.clone(), 1, (at(31), at(60)))]),
            json!({ "start_date": at(0), "created": at(0), "current_period_start": at(31) }),
        );
        let invoices = vec![
            invoice(
                "in_1",
                "sub_1",
                at(0),
                vec![classic_line(
                    "sub_1",
                    growth.clone(),
                    2_900,
                    false,
                    (at(0), at(31)),
                )],
            ),
            invoice(
                "in_2",
                "sub_1",
                at(31),
                vec![
                    classic_line("sub_1", growth, -1_900, true, (at(10), at(31))),
                    classic_line("sub_1", pro.clone(), 5_100, true, (at(10), at(31))),
                    classic_line("sub_1", pro, 7_900, false, (at(31), at(60))),
                ],
            ),
            // Another subscription's invoice is ignored.
            invoice(
                "in_3",
                "sub_other",
                at(5),
                vec![classic_line(
                    "sub_other",
                    price("price_x", 99_900, "month"),
                    99_900,
                    false,
                    (at(5), at(36)),
                )],
            ),
        ];
        let history = rebuild_history(&sub, &invoices, &[], &PriceBook::new()).unwrap();
        assert_eq!(history.customer, "cus_1");
        let settings = Settings::default();
        assert_eq!(
            daily_mrr(&history, 40, &settings),
            expect(&[(0, 2_900), (10, 7_900)], 40)
        );
        let movements = compute_series(
            &[history],
            &days(40),
            MetricKind::MrrMovements,
            Grouping::None,
            &usd(),
            &settings,
        )
        .unwrap();
        assert_eq!(movement(&movements, "new")[0], 2_900);
        assert_eq!(movement(&movements, "expansion")[10], 5_000);
        assert_eq!(movement(&movements, "expansion").iter().sum::<i64>(), 5_000);
    }

    /// A renewal voided while collection was paused leaves its period out of MRR; the periods
    /// billed before and after count, and a pause set during a billed period changes nothing.
    #[test]
    fn a_renewal_voided_while_paused_is_not_mrr() {
        let growth = price("price_growth", 3_000, "month");
        let sub = subscription(
            "sub_1",
            "cus_1",
            json!([item_json("sub_1", growth.clone(), 1, (at(60), at(90)))]),
            json!({
                "start_date": at(0),
                "created": at(0),
                "current_period_start": at(60),
                "pause_collection": { "behavior": "void", "resumes_at": null },
            }),
        );
        let line = |from: i64, to: i64| {
            classic_line("sub_1", growth.clone(), 3_000, false, (at(from), at(to)))
        };
        let mut voided = invoice("in_2", "sub_1", at(30), vec![line(30, 60)]);
        voided["status"] = json!("void");
        voided["billing_reason"] = json!("subscription_cycle");
        let mut current = invoice("in_3", "sub_1", at(60), vec![line(60, 90)]);
        current["status"] = json!("paid");
        let mut invoices = vec![
            invoice("in_1", "sub_1", at(0), vec![line(0, 30)]),
            voided,
            // Paid: the current period is billed although collection is paused now.
            current,
        ];
        let history = rebuild_history(&sub, &invoices, &[], &PriceBook::new()).unwrap();
        assert_eq!(
            daily_mrr(&history, 80, &Settings::default()),
            expect(&[(0, 3_000), (30, 0), (60, 3_000)], 80)
        );
        // Not paid yet: the renewal of a paused subscription is voided later, not billed.
        invoices[2]["status"] = json!("open");
        let history = rebuild_history(&sub, &invoices, &[], &PriceBook::new()).unwrap();
        assert_eq!(
            daily_mrr(&history, 80, &Settings::default()),
            expect(&[(0, 3_000), (30, 0)], 80)
        );
    }

    /// A card that fails on a renewal: the invoice stays open; without events (older than 30 days), the
    /// subscription was past due from the first attempt and unpaid once the two weeks of retries ran out.
    #[test]
    fn a_renewal_left_open_turns_unpaid_when_the_retries_run_out() {
        let growth = price("price_growth", 3_000, "month");
        let line = |from: i64, to: i64| {
            classic_line("sub_1", growth.clone(), 3_000, false, (at(from), at(to)))
        };
        let renewal = |id: &str, from: i64, status: &str| {
            let mut invoice = invoice(id, "sub_1", at(from), vec![line(from, from + 30)]);
            invoice["status"] = json!(status);
            invoice["billing_reason"] = json!("subscription_cycle");
            invoice["collection_method"] = json!("charge_automatically");
            invoice["status_transitions"] = json!({ "finalized_at": at(from) + 3_600 });
            invoice
        };
        let invoices = vec![
            invoice("in_1", "sub_1", at(0), vec![line(0, 30)]),
            renewal("in_2", 30, "paid"),
            // Finalized (first attempt) at day 60 + 2 h; retries end at day 74 + 2 h.
            renewal("in_3", 60, "open"),
            renewal("in_4", 90, "open"),
        ];
        let with = |status: &str, ended: Option<i64>| {
            subscription(
                "sub_1",
                "cus_1",
                json!([item_json("sub_1", growth.clone(), 1, (at(90), at(120)))]),
                json!({
                    "start_date": at(0),
                    "created": at(0),
                    "current_period_start": at(90),
                    "status": status,
                    "ended_at": ended,
                    "canceled_at": ended,
                }),
            )
        };
        let settings = Settings::default();
        let mrr_of = |sub: &Value, events: &[Value]| {
            let history = rebuild_history(sub, &invoices, events, &PriceBook::new()).unwrap();
            daily_mrr(&history, 130, &settings)
        };
        // Unpaid now: from the end of the retries.
        let unpaid = with("unpaid", None);
        assert_eq!(mrr_of(&unpaid, &[]), expect(&[(0, 3_000), (74, 0)], 130));
        // Canceled later: unpaid in between all the same.
        let canceled = with("canceled", Some(at(110)));
        assert_eq!(mrr_of(&canceled, &[]), expect(&[(0, 3_000), (74, 0)], 130));
        // Still retrying (past due counts): nothing lost yet.
        let past_due = with("past_due", None);
        assert_eq!(mrr_of(&past_due, &[]), expect(&[(0, 3_000)], 130));
        // An event tells the moment: it wins over the default schedule.
        let event = json!({
            "id": "evt_1",
            "type": "customer.subscription.updated",
            "created": at(70),
            "data": { "object": unpaid, "previous_attributes": { "status": "past_due" } },
        });
        assert_eq!(
            mrr_of(&unpaid, &[event]),
            expect(&[(0, 3_000), (70, 0)], 130)
        );
        // Past due not counted: from the first attempt.
        let strict = Settings {
            past_due_counts: false,
            ..Settings::default()
        };
        let history = rebuild_history(&unpaid, &invoices, &[], &PriceBook::new()).unwrap();
        assert_eq!(
            daily_mrr(&history, 130, &strict),
            expect(&[(0, 3_000), (60, 0)], 130)
        );
    }

    /// The sandbox's shapes: line items name their price in `pricing.price_details` and their subscription
    /// in `parent.subscription_item_details`; an update event with previous `items`; a trial; a
    /// cancellation at period end; then unpaid.
    #[test]
    fn sandbox_shapes_with_trial_upgrade_event_and_cancellation() {
        let growth = price("price_2", 2_900, "month");
        let pro = price("price_4", 7_900, "month");
        let book = PriceBook::from_prices(&[growth.clone(), pro.clone()]);
        let line = json!({
            "id": "il_1",
            "object": "line_item",
            "amount": 2_900,
            "currency": "usd",
            "discount_amounts": [],
            "discounts": [],
            "parent": {
                "invoice_item_details": null,
                "subscription_item_details": {
                    "invoice_item": null,
                    "proration": false,
                    "proration_details": { "credited_items": null },
                    "subscription": "sub_2",
                    "subscription_item": "si_1",
                },
                "type": "subscription_item_details",
            },
            "period": { "end": at(45), "start": at(14) },
            "pricing": {
                "price_details": { "price": "price_2", "product": "prod_1" },
                "type": "price_details",
                "unit_amount_decimal": "2900",
            },
            "quantity": 1,
            "subscription": "sub_2",
        });
        let invoices = vec![json!({
            "id": "in_1",
            "object": "invoice",
            "created": at(14),
            "customer": "cus_2",
            "parent": {
                "quote_details": null,
                "subscription_details": { "metadata": {}, "subscription": "sub_2" },
                "type": "subscription_details",
            },
            "lines": { "object": "list", "data": [line], "has_more": false },
        })];
        let now_extra = json!({
            "start_date": at(0),
            "created": at(0),
            "trial_start": at(0),
            "trial_end": at(14),
            "cancel_at_period_end": true,
            "cancel_at": at(76),
            "canceled_at": at(40),
            "status": "unpaid",
        });
        let items_now = json!([item_json("sub_2", pro.clone(), 1, (at(45), at(76)))]);
        let sub = subscription("sub_2", "cus_2", items_now.clone(), now_extra.clone());
        let upgraded = subscription(
            "sub_2",
            "cus_2",
            items_now,
            json!({ "status": "active", "start_date": at(0) }),
        );
        let events = vec![
            json!({
                "id": "evt_1",
                "object": "event",
                "created": at(30),
                "type": "customer.subscription.updated",
                "data": {
                    "object": upgraded,
                    "previous_attributes": {
                        "items": { "object": "list", "data": [item_json("sub_2", growth, 1, (at(14), at(45)))] },
                        "metadata": {},
                    },
                },
            }),
            json!({
                "id": "evt_2",
                "object": "event",
                "created": at(50),
                "type": "customer.subscription.updated",
                "data": {
                    "object": sub.clone(),
                    "previous_attributes": { "status": "active" },
                },
            }),
        ];
        let history = rebuild_history(&sub, &invoices, &events, &book).unwrap();
        assert_eq!(history.trial, Some((at(0), at(14))));
        let settings = Settings::default();
        assert_eq!(
            daily_mrr(&history, 60, &settings),
            expect(&[(0, 0), (14, 2_900), (30, 7_900), (50, 0)], 60)
        );
        let on_request = Settings {
            churn_at: ChurnAt::Cancellation,
            ..Settings::default()
        };
        assert_eq!(
            daily_mrr(&history, 60, &on_request),
            expect(&[(0, 0), (14, 2_900), (30, 7_900), (40, 0)], 60)
        );
        let trials = compute_series(
            &[history],
            &days(60),
            MetricKind::Trials,
            Grouping::None,
            &usd(),
            &settings,
        )
        .unwrap();
        assert_eq!(ints(&trials.groups["converted"])[14], 1);
    }

    #[test]
    fn current_state_discounts_pauses_and_ends() {
        let plan = price("price_y", 12_000, "year");
        let discount = json!({
            "id": "di_1",
            "object": "discount",
            "coupon": {
                "id": "co_1",
                "object": "coupon",
                "amount_off": null,
                "currency": null,
                "duration": "repeating",
                "duration_in_months": 1,
                "percent_off": 50.0,
            },
            "start": at(0),
            "end": null,
        });
        // A yearly plan at 1,000 a month, half off for a month (until 2024-02-01 01:00, day 31), paused
        // from the current period's start (day 40), ended on day 50.
        let sub = subscription(
            "sub_3",
            "cus_3",
            json!([item_json("sub_3", plan, 1, (at(40), at(405)))]),
            json!({
                "start_date": at(0),
                "current_period_start": at(40),
                "discount": discount,
                "pause_collection": { "behavior": "void", "resumes_at": null },
                "ended_at": at(50),
                "canceled_at": at(50),
                "status": "canceled",
            }),
        );
        let history = rebuild_history(&sub, &[], &[], &PriceBook::new()).unwrap();
        assert_eq!(
            daily_mrr(&history, 55, &Settings::default()),
            expect(&[(0, 500), (31, 1_000), (40, 0)], 55)
        );
        let paused_count = Settings {
            paused_counts: true,
            ..Settings::default()
        };
        assert_eq!(
            daily_mrr(&history, 55, &paused_count),
            expect(&[(0, 500), (31, 1_000), (50, 0)], 55)
        );
        // Incomplete subscriptions never count; JSON that is not a subscription is refused.
        let incomplete = subscription(
            "sub_4",
            "cus_4",
            json!([item_json(
                "sub_4",
                price("price_m", 900, "month"),
                1,
                (at(0), at(31))
            )]),
            json!({ "start_date": at(0), "status": "incomplete_expired", "ended_at": at(1) }),
        );
        let history = rebuild_history(&incomplete, &[], &[], &PriceBook::new()).unwrap();
        assert_eq!(daily_mrr(&history, 5, &Settings::default()), vec![0; 5]);
        assert_eq!(
            rebuild_history(&json!({ "object": "invoice" }), &[], &[], &PriceBook::new()),
            Err(StripeError::NotASubscription)
        );
    }

    /// The sandbox's pause: `customer.subscription.paused` and `resumed` events (no previous attributes),
    /// and an `updated` event setting `pause_collection`.
    #[test]
    fn pause_events() {
        let items = json!([item_json(
            "sub_5",
            price("price_m", 900, "month"),
            2,
            (at(31), at(60))
        )]);
        let sub = subscription(
            "sub_5",
            "cus_5",
            items.clone(),
            json!({ "start_date": at(0) }),
        );
        let paused = subscription(
            "sub_5",
            "cus_5",
            items,
            json!({ "start_date": at(0), "pause_collection": { "behavior": "void", "resumes_at": null } }),
        );
        let event = |created: i64, kind: &str, object: &Value, previous: Option<Value>| {
            let mut data = json!({ "object": object });
            if let Some(previous) = previous {
                data["previous_attributes"] = previous;
            }
            json!({ "id": "evt", "object": "event", "created": created, "type": kind, "data": data })
        };
        let events = vec![
            event(at(5), "customer.subscription.paused", &paused, None),
            event(at(8), "customer.subscription.resumed", &sub, None),
            event(
                at(12),
                "customer.subscription.updated",
                &paused,
                Some(json!({ "pause_collection": null })),
            ),
        ];
        let history = rebuild_history(&paused, &[], &events, &PriceBook::new()).unwrap();
        assert_eq!(
            daily_mrr(&history, 15, &Settings::default()),
            expect(&[(0, 1_800), (5, 0), (8, 1_800), (12, 0)], 15)
        );
    }
}

#[test]
fn sweeps_of_customers_apart_add_up_to_the_sweep_of_all() {
    let n = 200;
    let settings = Settings::default();
    for seed in [1, 2, 3] {
        let (histories, mut fx) = random_histories(seed, 600, n);
        let whole = MrrTimeline::build(&histories, &days(n), &settings).unwrap();
        // Three parts, each with every subscription of its customers.
        let part_of = |history: &SubscriptionHistory| {
            history.customer.bytes().map(u64::from).sum::<u64>() % 3
        };
        let parts: Vec<MrrTimeline> = (0..3)
            .map(|part| {
                let mine: Vec<SubscriptionHistory> = histories
                    .iter()
                    .filter(|history| part_of(history) == part)
                    .cloned()
                    .collect();
                MrrTimeline::build(&mine, &days(n), &settings).unwrap()
            })
            .collect();
        for grouping in [Grouping::None, Grouping::Currency, Grouping::Plan] {
            let expected = Sweeps::run(&whole, grouping, &fx).unwrap();
            let mut summed = Sweeps::run(&parts[0], grouping, &fx).unwrap();
            for part in &parts[1..] {
                summed
                    .add(Sweeps::run(part, grouping, &fx).unwrap())
                    .unwrap();
            }
            assert_eq!(summed, expected, "seed {seed}, {grouping:?}");
            assert_eq!(
                summed.all_series(grouping, &settings),
                all_series_from_timeline(&whole, grouping, &fx, &settings).unwrap()
            );
        }
        // Without the rates of one currency, grouped by currency: the parts without it
        // convert, the others do not, and the sum's amounts are not the total's either.
        fx = FxRates::new("usd");
        for day in 0..=n {
            fx.insert("eur", T0 + day * DAY, 1.1);
        }
        let expected = Sweeps::run(&whole, Grouping::Currency, &fx).unwrap();
        let mut summed = Sweeps::run(&parts[0], Grouping::Currency, &fx).unwrap();
        for part in &parts[1..] {
            summed
                .add(Sweeps::run(part, Grouping::Currency, &fx).unwrap())
                .unwrap();
        }
        assert_eq!(
            summed.all_series(Grouping::Currency, &settings),
            expected.all_series(Grouping::Currency, &settings)
        );
    }
}
