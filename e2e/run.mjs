// End-to-end test of the allmetrics web app in Chromium, against a running server.
//
//   E2E_BASE_URL   the server, e.g. http://127.0.0.1:8000 (required)
//   E2E_ARTIFACTS  where screenshots go (default: a new folder in the system temp dir);
//                  keep it outside the repository
//   E2E_CHROMIUM   the browser (default /usr/bin/chromium)
//
// The story: register, connect Demo through the sandbox's consent page, wait for the sync on
// /sources, build "Charges: sum of amount by currency" in the metric builder, save it to the home
// dashboard, step back 30 days and forward again, and check every bar and a few tooltips against
// GET /api/v1/metrics/{id}/series for the same window (fetched from inside the page, with the
// page's cookies). Then a report source: connect Demo Analytics, pick the property "Demo Web
// Store", wait for its sync, build "sum of sessions by deviceCategory" and check its chart against
// GET /connect/query/demo-analytics with the same choices. Then an ads source: connect Demo Ads,
// pick the ad account "Demo Tokyo Ads", wait for its sync, build "sum of spend by campaign_id" and
// check its chart (in yen) against GET /connect/query/demo-ads, now and 30 days back; then the
// card's access warnings (expiring, needs reconnect) and a reconnect. Exits non-zero on the first
// failure, with a screenshot of the page.
//
// playwright-core comes from e2e/node_modules (`npm ci` here) or from the working directory.

import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// playwright-core from e2e/node_modules, or from the working directory's node_modules (so the
// package can be installed once outside the clone and the test run from there).
function loadPlaywright() {
  const bases = [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href];
  for (const base of bases) {
    try {
      return createRequire(base)('playwright-core');
    } catch {
      // try the next place
    }
  }
  console.error('playwright-core is missing: run `npm ci` in e2e/ (or run from a folder that has it)');
  process.exit(2);
}
const { chromium } = loadPlaywright();

const BASE = (process.env.E2E_BASE_URL || '').replace(/\/+$/, '');
if (!BASE) {
  console.error('E2E_BASE_URL is required (e.g. http://127.0.0.1:8000)');
  process.exit(2);
}
const ARTIFACTS = process.env.E2E_ARTIFACTS || mkdtempSync(join(tmpdir(), 'allmetrics-e2e-'));
mkdirSync(ARTIFACTS, { recursive: true });
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const SYNC_TIMEOUT_MS = Number(process.env.E2E_SYNC_TIMEOUT_MS || 180_000);

const CURRENCY_SYMBOLS = { usd: '$', eur: '€', gbp: '£', cad: 'CA$' };

let shot = 0;
let page;
const pageErrors = [];

function log(message) {
  console.log(`[e2e] ${message}`);
}

function fail(message) {
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) fail(message);
}

async function screenshot(name) {
  shot += 1;
  const path = join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log(`screenshot ${path}`);
}

/** Digits of a displayed amount as a number: "$1,234.50" -> 1234.5, "-€3.00" -> -3. */
function displayedNumber(text) {
  const negative = /^\s*-/.test(text);
  const digits = text.replace(/[^0-9.]/g, '');
  const value = Number(digits);
  return negative ? -value : value;
}

function close(a, b, tolerance = 1e-6) {
  return Math.abs(a - b) <= tolerance;
}

/** The window the dashboard shows, from the period control's data attributes. */
async function currentWindow() {
  return page.$eval('[data-testid=period-control]', (el) => ({
    totalDays: Number(el.dataset.totalDays),
    end: el.dataset.end,
    tz: el.dataset.tz,
  }));
}

async function apiSeries(metricId, window) {
  const query = new URLSearchParams({
    total_days: String(window.totalDays),
    end: window.end,
    tz: window.tz,
  });
  return page.evaluate(async (url) => {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }, `/api/v1/metrics/${metricId}/series?${query}`);
}

/** Waits until the card's chart shows the window ending on `end` and is not reloading. */
async function waitForChart(card, window) {
  await page.waitForFunction(
    ({ selector, end, days }) => {
      const root = document.querySelector(selector);
      if (!root || root.querySelector('.card-body.reloading')) return false;
      const bars = root.querySelectorAll('[data-testid=bar]');
      return bars.length === days && bars[bars.length - 1].dataset.date === end;
    },
    { selector: card, end: window.end, days: window.totalDays },
    { timeout: 30_000 },
  );
}

/** Every bar against the API: dates, totals, and each group's segment. */
async function checkBars(card, series) {
  const bars = await page.$$eval(`${card} [data-testid=bar]`, (nodes) =>
    nodes.map((bar) => ({
      date: bar.dataset.date,
      total: Number(bar.dataset.total),
      segments: [...bar.querySelectorAll('rect.segment')].map((rect) => ({
        group: rect.dataset.group,
        value: Number(rect.dataset.value),
        height: Number(rect.getAttribute('height')),
      })),
    })),
  );
  check(bars.length === series.labelX.length, `bars: ${bars.length}, days: ${series.labelX.length}`);
  let drawn = 0;
  bars.forEach((bar, day) => {
    check(bar.date === series.labelX[day], `bar ${day}: date ${bar.date} != ${series.labelX[day]}`);
    check(close(bar.total, series.labelY[day]), `bar ${bar.date}: total ${bar.total} != ${series.labelY[day]}`);
    for (const [group, values] of Object.entries(series.labelZ)) {
      const expected = values[day] || 0;
      const segment = bar.segments.find((s) => s.group === group);
      if (expected === 0) {
        check(!segment, `bar ${bar.date}: ${group} drawn for a zero`);
      } else {
        check(segment, `bar ${bar.date}: no segment for ${group} (${expected})`);
        check(close(segment.value, expected), `bar ${bar.date}: ${group} ${segment.value} != ${expected}`);
        check(segment.height > 0, `bar ${bar.date}: ${group} has no height`);
        drawn += 1;
      }
    }
    const stacked = bar.segments.reduce((sum, s) => sum + s.value, 0);
    // The metric sums amounts: the groups add up to the day's total.
    check(close(stacked, series.labelY[day], 1e-3), `bar ${bar.date}: segments ${stacked} != ${series.labelY[day]}`);
  });
  return drawn;
}

/**
 * How a chart's values read: money in cents with each group's currency symbol (groups named by
 * currency), plain numbers, or money of one currency (the series' `meta.currency`) with its symbol
 * on every row and the total, and exactly `decimals` decimals.
 */
const CENTS = { unit: 100, symbolOf: (group) => CURRENCY_SYMBOLS[group] };
const NUMBERS = { unit: 1, symbolOf: () => undefined };
const YEN = { unit: 1, symbolOf: () => '¥', total: '¥', decimals: 0 };

/** Checks a displayed amount's symbol and decimals against a money format. */
function checkMoneyText(text, symbol, money, what) {
  if (symbol) check(text.includes(symbol), `${what} "${text}" lacks ${symbol}`);
  if (money.decimals !== undefined) {
    const fraction = /\.(\d+)/.exec(text);
    const decimals = fraction ? fraction[1].length : 0;
    check(decimals === money.decimals, `${what} "${text}" has ${decimals} decimals, not ${money.decimals}`);
  }
}

/** Hovers a bar and reads its tooltip: every group row and the total, as numbers and as text. */
async function checkTooltip(card, series, day, money = CENTS) {
  const hit = page.locator(`${card} [data-testid=bar][data-day="${day}"] rect.hit`);
  await hit.hover();
  const tooltip = page.locator(`${card} [data-testid=chart-tooltip]`);
  await tooltip.waitFor({ state: 'visible', timeout: 5_000 });
  const rows = await tooltip.locator('[data-testid=tooltip-row]').evaluateAll((nodes) =>
    nodes.map((row) => ({
      group: row.dataset.group,
      value: Number(row.dataset.value),
      text: row.querySelector('td').textContent,
    })),
  );
  const totalRow = tooltip.locator('[data-testid=tooltip-total]');
  const total = Number(await totalRow.getAttribute('data-value'));
  const totalText = await totalRow.locator('td').textContent();
  const date = series.labelX[day];
  check(close(total, series.labelY[day]), `tooltip ${date}: total ${total} != ${series.labelY[day]}`);
  check(
    close(displayedNumber(totalText), series.labelY[day] / money.unit, 0.005),
    `tooltip ${date}: total text "${totalText}" is not ${series.labelY[day]} (/${money.unit})`,
  );
  checkMoneyText(totalText, money.total, money, `tooltip ${date}: total`);
  // An ungrouped series (no labelZ, e.g. MRR) is drawn as one group, its total.
  const ungrouped = Object.keys(series.labelZ).length === 0;
  const expectedGroups = ungrouped
    ? []
    : Object.entries(series.labelZ).filter(([, values]) => (values[day] || 0) !== 0);
  if (ungrouped) {
    check(rows.length <= 1, `tooltip ${date}: ${rows.length} rows for an ungrouped series`);
    for (const row of rows) check(close(row.value, series.labelY[day]), `tooltip ${date}: row ${row.value} != total`);
  }
  check(ungrouped || rows.length === expectedGroups.length, `tooltip ${date}: ${rows.length} rows, ${expectedGroups.length} groups`);
  for (const [group, values] of expectedGroups) {
    const row = rows.find((r) => r.group === group);
    check(row, `tooltip ${date}: no row for ${group}`);
    check(close(row.value, values[day]), `tooltip ${date}: ${group} ${row.value} != ${values[day]}`);
    check(
      close(displayedNumber(row.text), values[day] / money.unit, 0.005),
      `tooltip ${date}: ${group} text "${row.text}" is not ${values[day]} (/${money.unit})`,
    );
    checkMoneyText(row.text, money.symbolOf(group), money, `tooltip ${date}: ${group}`);
  }
  return { date, rows: rows.length, total: totalText };
}

/** The CSV export: one line per day, the groups as columns, the day's total last. */
async function checkCsv(card, series) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`${card} [data-testid=export-csv]`),
  ]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.split('\r\n').filter((line) => line.length > 0);
  const header = lines[0].split(',');
  check(header[0] === 'date' && header[header.length - 1] === 'total', `CSV header: ${lines[0]}`);
  check(lines.length === series.labelX.length + 1, `CSV: ${lines.length - 1} rows for ${series.labelX.length} days`);
  const groups = header.slice(1, -1);
  check(
    groups.length === Object.keys(series.labelZ).length && groups.every((g) => g in series.labelZ),
    `CSV groups ${groups} != ${Object.keys(series.labelZ)}`,
  );
  lines.slice(1).forEach((line, day) => {
    const cells = line.split(',');
    check(cells[0] === series.labelX[day], `CSV row ${day}: date ${cells[0]}`);
    check(close(Number(cells[cells.length - 1]), series.labelY[day]), `CSV ${cells[0]}: total ${cells.at(-1)}`);
    groups.forEach((group, i) => {
      check(close(Number(cells[i + 1]), series.labelZ[group][day] || 0), `CSV ${cells[0]}: ${group} ${cells[i + 1]}`);
    });
  });
  log(`CSV export ${download.suggestedFilename()}: ${lines.length - 1} days x ${groups.length} groups match the API`);
}

/** The whole chart and tooltips of up to three busy days, against the API, for the shown window. */
async function verifyWindow(card, metricId, label) {
  const window = await currentWindow();
  await waitForChart(card, window);
  const series = await apiSeries(metricId, window);
  check(series.meta.to === window.end, `API window ends ${series.meta.to}, page shows ${window.end}`);
  const drawn = await checkBars(card, series);
  const busy = series.labelY
    .map((value, day) => ({ value, day }))
    .filter((d) => d.value !== 0)
    .sort((a, b) => b.value - a.value);
  const days = [busy[0], busy[Math.floor(busy.length / 2)], busy[busy.length - 1]].filter(Boolean);
  const tips = [];
  for (const { day } of days) tips.push(await checkTooltip(card, series, day));
  const records = await page.$eval(`${card} [data-testid=metric-records]`, (el) => el.textContent);
  check(
    Number(records.replace(/[^0-9]/g, '')) === series.meta.records,
    `records "${records}" != ${series.meta.records}`,
  );
  log(
    `${label}: ${window.totalDays} days to ${window.end} (${window.tz}): ${series.labelX.length} bars, ` +
      `${drawn} segments, ${series.meta.records} records match the API; tooltips ` +
      tips.map((t) => `${t.date} ${t.total}`).join(', '),
  );
  await page.mouse.move(0, 0);
  return { window, series };
}

/** `GET /connect/query/{slug}` from inside the page (with its cookies). */
async function apiQuery(slug, params) {
  const query = new URLSearchParams(params);
  return page.evaluate(async (url) => {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }, `/connect/query/${encodeURIComponent(slug)}?${query}`);
}

/** Waits until the metric builder's preview shows `description` (its SVG's <desc>), loaded. */
async function waitForPreview(description) {
  await page.waitForFunction(
    (wanted) => {
      const preview = document.querySelector('[data-testid=preview]');
      if (!preview || preview.querySelector('.reloading')) return false;
      const desc = preview.querySelector('svg desc');
      return desc && desc.textContent.startsWith(wanted) && preview.querySelector('[data-testid=bar]');
    },
    description,
    { timeout: 30_000 },
  );
}

/** Connects a source from /sources through the sandbox's consent page (`#approve`). */
async function connectThroughConsent(slug, shots = {}) {
  await page.click('a[href="/sources"]');
  await page.waitForSelector(`#connect-${slug}`);
  if (shots.sources) await screenshot(shots.sources);
  await page.click(`#connect-${slug}`);
  await page.waitForSelector('#approve');
  if (shots.consent) await screenshot(shots.consent);
  await page.click('#approve');
  await page.waitForURL(new RegExp(`/sources\\?connected=${slug}(&|$)`));
  await page.waitForSelector('[data-testid=banner-ok]');
  log(`connected ${slug}`);
}

/**
 * A source card's account picker, shown at once after connecting: its chip asks for the
 * `noun`, nothing syncs yet, it lists every label of `listed` (or `label (parent)`), and choosing
 * the id `pick` shows that account on the card. Returns what the card says about it.
 */
async function chooseAccount(slug, { noun, listed, pick, shot }) {
  const sourceCard = `[data-testid=source-card][data-slug="${slug}"]`;
  const select = `${sourceCard} [data-testid=account-select]`;
  await page.waitForSelector(`${select} option`, { state: 'attached' });
  const chip = await page.textContent(`${sourceCard} [data-testid=connection-state]`);
  check(new RegExp(`choose an? ${noun}`, 'i').test(chip), `the card says "${chip}" before the ${noun} is chosen`);
  check(!(await page.$(`[data-testid="sync-${slug}"]`)), `a sync panel shows before the ${noun} is chosen`);
  const options = await page.$$eval(`${select} option`, (nodes) =>
    nodes.map((o) => ({ id: o.value, label: o.textContent.trim() })),
  );
  for (const label of listed) {
    check(
      options.some((o) => o.label === label || o.label.startsWith(`${label} (`)),
      `the picker lacks "${label}": ${JSON.stringify(options)}`,
    );
  }
  await page.selectOption(select, pick);
  await screenshot(shot);
  await page.click(`${sourceCard} [data-testid=choose-account]`);
  await page.waitForSelector(`${sourceCard} [data-testid=account-name]`);
  const chosen = {
    name: (await page.textContent(`${sourceCard} [data-testid=account-name]`)).trim(),
    id: await page.getAttribute(`${sourceCard} [data-testid=account-name]`, 'data-account-id'),
    tz: (await page.textContent(`${sourceCard} [data-testid=account-time-zone]`)).trim(),
    currency: (await page.textContent(`${sourceCard} [data-testid=account-currency]`)).trim(),
  };
  check(chosen.id === pick, `the card shows ${noun} ${chosen.id} after choosing ${pick}`);
  log(`chose ${noun} ${chosen.id} ${chosen.name} (${chosen.tz}, ${chosen.currency})`);
  return chosen;
}

/**
 * Waits until a source card's sync is idle with every object complete (the sync panel's data),
 * then checks the sync API agrees and read `object`. Returns the objects synced.
 */
async function waitForSync(slug, object) {
  await page.waitForSelector(`[data-testid="sync-${slug}"] [data-testid=sync-state]`);
  await page.waitForFunction(
    (slug) => {
      const panel = document.querySelector(`[data-testid="sync-${slug}"]`);
      const state = panel && panel.querySelector('[data-testid=sync-state]');
      const objects = panel ? panel.querySelectorAll('[data-testid=sync-object]') : [];
      return (
        state &&
        state.dataset.state === 'idle' &&
        objects.length > 0 &&
        [...objects].every((o) => o.dataset.done === 'true')
      );
    },
    slug,
    { timeout: SYNC_TIMEOUT_MS, polling: 500 },
  );
  const sync = await page.evaluate(async (url) => (await fetch(url)).json(), `/api/v1/connections/${slug}/sync`);
  check(sync.state === 'idle', `the sync API says ${sync.state} while the page says idle`);
  const objects = Object.keys(sync.objects || {});
  if (object) check(objects.includes(object), `the sync read ${objects.join(', ')}, not ${object}`);
  log(`${slug} sync finished: ${objects.length} objects complete (${objects.join(', ')})`);
  return objects;
}

/**
 * Opens the metric builder on `choices` (a query's `object_name`, `operator`) of `slug` and
 * waits until `value_field` and `field_name` can be chosen (left to the caller).
 */
async function openBuilder(slug, choices) {
  await page.click('a[href="/metrics/new"]');
  await page.waitForSelector(`#builder-source option[value="${slug}"]`, { state: 'attached' });
  await page.selectOption('#builder-source', slug);
  await page.waitForSelector(`#builder-object option[value="${choices.object_name}"]`, { state: 'attached' });
  await page.selectOption('#builder-object', choices.object_name);
  await page.selectOption('#builder-operator', choices.operator);
  await page.waitForSelector(`#builder-value-field option[value="${choices.value_field}"]`, { state: 'attached' });
  await page.waitForSelector(`#builder-group-by option[value="${choices.field_name}"]`, { state: 'attached' });
}

/** Chooses the value field and grouping of `choices` and waits for the preview to show them. */
async function chooseValueAndGroup(choices) {
  await page.selectOption('#builder-value-field', choices.value_field);
  await page.selectOption('#builder-group-by', choices.field_name);
  const verb = { sum: 'Sum', average: 'Average', min: 'Minimum', max: 'Maximum' }[choices.operator];
  await waitForPreview(`${verb} of ${choices.value_field} by ${choices.field_name}`);
}

/** Names the metric in the builder, saves it to the home dashboard, and returns its card. */
async function saveMetric(slug, choices, name, shot) {
  await page.fill('#builder-name', name);
  await screenshot(shot);
  await page.click('#builder-save');
  await page.waitForURL(`${BASE}/`);
  const metrics = await page.evaluate(async () => (await fetch('/api/v1/metrics')).json());
  const metric = metrics.find((m) => m.name === name);
  check(metric, `the metric "${name}" was not saved`);
  check(
    metric.source === slug && Object.entries(choices).every(([key, value]) => metric[key] === value),
    `saved as ${JSON.stringify(metric)}, not ${JSON.stringify(choices)}`,
  );
  const card = `[data-testid=metric-card][data-metric-id="${metric.id}"]`;
  await page.waitForSelector(`${card} [data-testid=bar]`);
  return card;
}

/**
 * A report source's metric card against `GET /connect/query/{slug}` with the same choices and
 * the dashboard's window: every bar (date, total, each group's segment), the tooltips of the
 * busiest and the quietest day (read with `money`), the days note (`sourceTz`), the card's total
 * and, for money, `meta.currency`. Ends with a screenshot of the card, the busiest day hovered.
 */
async function checkQueryCard(card, slug, choices, { sourceTz, money = NUMBERS, currency, label, shot }) {
  const window = await currentWindow();
  await waitForChart(card, window);
  const series = await apiQuery(slug, {
    ...choices,
    total_days: String(window.totalDays),
    end: window.end,
    tz: window.tz,
  });
  check(series.meta.to === window.end, `API window ends ${series.meta.to}, page shows ${window.end}`);
  check(series.meta.source_tz === sourceTz, `meta.source_tz is ${series.meta.source_tz}, not ${sourceTz}`);
  if (currency) check(series.meta.currency === currency, `meta.currency is ${series.meta.currency}, not ${currency}`);
  const groups = Object.keys(series.labelZ);
  check(groups.length > 1, `${choices.value_field} by ${choices.field_name} has groups ${groups.join(', ')}`);
  const drawn = await checkBars(card, series);
  check(drawn > 0, `the ${label} chart draws no segment`);
  const busy = series.labelY
    .map((value, day) => ({ value, day }))
    .filter((d) => d.value !== 0)
    .sort((a, b) => b.value - a.value);
  const tips = [];
  for (const { day } of [busy[0], busy[busy.length - 1]].filter(Boolean)) {
    tips.push(await checkTooltip(card, series, day, money));
  }
  const note = await page.$eval(`${card} [data-testid=series-source-tz]`, (el) => el.dataset.tz);
  check(note === sourceTz, `the card notes days in ${note}`);
  const totalNode = `${card} [data-testid=metric-total]`;
  const total = Number(await page.getAttribute(totalNode, 'data-value'));
  const sum = series.labelY.reduce((a, b) => a + b, 0);
  check(close(total, sum, 1e-6), `the card's total ${total} != ${sum}`);
  const totalText = (await page.textContent(totalNode)).trim();
  checkMoneyText(totalText, money.total, money, "the card's total");
  log(
    `${label}: ${window.totalDays} days to ${window.end} (${window.tz}): ${series.labelX.length} bars, ` +
      `${drawn} segments over ${groups.join(' / ')} match /connect/query; total ${totalText}; tooltips ` +
      tips.map((t) => `${t.date} ${t.total}`).join(', '),
  );
  await page.locator(`${card} [data-testid=bar][data-day="${busy[0].day}"] rect.hit`).hover();
  await page.locator(card).scrollIntoViewIfNeeded();
  await screenshot(shot);
  await page.mouse.move(0, 0);
  return { window, series };
}

/**
 * The second story: a report source. Connect Demo Analytics (the sandbox's GA4) through the same
 * consent page, pick the property "Demo Web Store" in the card's picker, wait for its sync, build
 * "sessions by device category" (checking on the way that revenue reads as dollars and that a
 * unique-users sum across groups is refused with the API's message), save it to the home
 * dashboard and check its chart against `GET /connect/query/demo-analytics` with the same choices.
 */
async function analyticsScenario() {
  const slug = 'demo-analytics';
  const sourceCard = `[data-testid=source-card][data-slug="${slug}"]`;
  await connectThroughConsent(slug);

  // The property picker: shown at once, nothing syncs before a choice.
  const chosen = await chooseAccount(slug, {
    noun: 'property',
    listed: ['Demo Web Store (Demo Company)', 'Demo Mobile App (Demo Company)', 'Demo Tokyo Shop (Demo Japan)'],
    pick: '250001',
    shot: 'analytics-picker',
  });
  check(
    chosen.name === 'Demo Web Store (Demo Company)' && chosen.tz === 'America/Los_Angeles' && chosen.currency === 'USD',
    `the card shows the chosen property as ${JSON.stringify(chosen)}`,
  );

  // Its sync, as the first story's: the panel until every report is complete, then the API agrees.
  await waitForSync(slug, 'device');

  // "Change property" opens the same picker, with the warning; cancelled here.
  await page.click(`${sourceCard} [data-testid=change-account]`);
  await page.waitForSelector(`${sourceCard} [data-testid=account-change-warning]`);
  const warning = await page.textContent(`${sourceCard} [data-testid=account-change-warning]`);
  check(/deletes/i.test(warning) && warning.includes('Demo Web Store'), `change warning: "${warning}"`);
  const preselected = await page.$eval(`${sourceCard} [data-testid=account-select]`, (el) => el.value);
  check(preselected === '250001', `the change picker starts on ${preselected}, not the current property`);
  await screenshot('analytics-synced-change');
  await page.click(`${sourceCard} [data-testid=cancel-account]`);
  await page.waitForSelector(`${sourceCard} [data-testid=account-picker]`, { state: 'detached' });

  // The builder: Demo Analytics -> device -> sum.
  const choices = { object_name: 'device', operator: 'sum', value_field: 'sessions', field_name: 'deviceCategory' };
  await openBuilder(slug, choices);
  await page.waitForSelector('#builder-value-field option[value=totalRevenue]', { state: 'attached' });

  // Revenue is money of the property's currency (meta.currency): the tooltip reads in dollars.
  await chooseValueAndGroup({ ...choices, value_field: 'totalRevenue' });
  const revenue = await page.$$eval('[data-testid=preview] [data-testid=bar]', (bars) =>
    bars.map((b) => ({ day: Number(b.dataset.day), total: Number(b.dataset.total) })),
  );
  const richest = revenue.reduce((best, bar) => (bar.total > best.total ? bar : best), revenue[0]);
  check(richest && richest.total > 0, 'the preview shows no revenue in 30 days');
  await page.locator(`[data-testid=preview] [data-testid=bar][data-day="${richest.day}"] rect.hit`).hover();
  const revenueText = await page.textContent('[data-testid=preview] [data-testid=tooltip-total] td');
  check(
    revenueText.includes('$') && close(displayedNumber(revenueText), richest.total / 100, 0.005),
    `revenue of ${richest.total} cents reads "${revenueText}"`,
  );
  const days = await page.$eval('[data-testid=preview] [data-testid=series-source-tz]', (el) => el.textContent);
  check(days === 'days in America/Los_Angeles', `the preview notes "${days}"`);
  await page.mouse.move(0, 0);
  log(`preview: revenue reads as money (${revenueText}); ${days}`);

  // Unique users do not add up across groups: the API's message shows as the preview's error.
  await page.selectOption('#builder-value-field', 'activeUsers');
  await page.selectOption('#builder-group-by', { index: 0 });
  const refusal = await page.waitForSelector('[data-testid=preview] [data-testid=error]');
  const refusalText = await refusal.textContent();
  check(/unique users/.test(refusalText), `the non-additive refusal reads "${refusalText}"`);
  await screenshot('analytics-non-additive');
  log(`non-additive sum refused: ${refusalText.trim().slice(0, 80)}…`);

  // The metric: sum of sessions by deviceCategory, checked on the home dashboard.
  await chooseValueAndGroup(choices);
  const card = await saveMetric(slug, choices, 'Sessions by device category', 'analytics-builder');
  await checkQueryCard(card, slug, choices, {
    sourceTz: 'America/Los_Angeles',
    label: 'analytics',
    shot: 'analytics-metric',
  });
}

/** `Nov 24, 2026`: a day of the browser's calendar as the web app writes it. */
function calendarLabel(date) {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${months[date.getMonth()]} ${date.getDate()}, ${date.getFullYear()}`;
}

/**
 * The card's access warnings. A real token lives 60 days, so the page is told (by rewriting the
 * answer of `GET /api/v1/sources`) that the connection expired 2 days ago (`needs_reconnect`),
 * then that it expires in 5 days (`expiring`: the sync panel and "Change ad account" stay). Both
 * say it with the date of `expires_at` and offer Reconnect, the connect flow's link; the real
 * reconnect through the consent page then keeps the chosen ad account.
 */
async function checkAccessWarnings(slug, accountId) {
  const sourceCard = `[data-testid=source-card][data-slug="${slug}"]`;
  const cases = [
    {
      status: 'needs_reconnect',
      days: -2,
      text: (date) => `Facebook access expired on ${date}: reconnect to resume syncing.`,
      chip: 'Needs reconnect',
    },
    {
      status: 'expiring',
      days: 5,
      text: (date) => `Facebook access expires on ${date}: reconnect to keep syncing.`,
      chip: 'Expires soon',
    },
  ];
  for (const { status, days, text, chip } of cases) {
    const expiresAt = new Date(Date.now() + days * 86_400_000);
    await page.route('**/api/v1/sources', async (route) => {
      const response = await route.fetch();
      const sources = await response.json();
      for (const source of sources) {
        if (source.slug === slug && source.connection) {
          source.connection.status = status;
          source.connection.expires_at = expiresAt.toISOString();
        }
      }
      await route.fulfill({ response, json: sources });
    });
    await page.goto(`${BASE}/sources`);
    const warning = await page.waitForSelector(`${sourceCard} [data-testid=access-warning]`);
    const said = (await warning.textContent()).trim();
    const wanted = text(calendarLabel(expiresAt));
    check(said === wanted, `${status}: the card warns "${said}", not "${wanted}"`);
    const chipText = (await page.textContent(`${sourceCard} [data-testid=connection-state]`)).trim();
    check(chipText === chip, `${status}: the chip says "${chipText}", not "${chip}"`);
    const href = await page.getAttribute(`#reconnect-${slug}`, 'href');
    check(href === `/connect/authorize/${slug}`, `${status}: Reconnect goes to ${href}`);
    const syncing = Boolean(await page.$(`[data-testid="sync-${slug}"]`));
    const changing = Boolean(await page.$(`${sourceCard} [data-testid=change-account]`));
    if (status === 'expiring') check(syncing && changing, 'an expiring card hides its sync panel or "Change"');
    else check(!changing, 'a card that needs a reconnect offers to change its ad account');
    await page.locator(sourceCard).scrollIntoViewIfNeeded();
    await screenshot(`ads-${status.replace('_', '-')}`);
    await page.unroute('**/api/v1/sources');
    log(`${status}: "${said}" with Reconnect`);
  }

  // Reconnect for real (the page still shows the expiring card): the consent page, then the
  // card is back to normal on the same ad account.
  await page.click(`#reconnect-${slug}`);
  await page.waitForSelector('#approve');
  await page.click('#approve');
  await page.waitForURL(new RegExp(`/sources\\?connected=${slug}(&|$)`));
  await page.waitForSelector(`${sourceCard} [data-testid=account-name]`);
  const kept = await page.getAttribute(`${sourceCard} [data-testid=account-name]`, 'data-account-id');
  check(kept === accountId, `after reconnecting the card reads ${kept}, not ${accountId}`);
  const chipText = (await page.textContent(`${sourceCard} [data-testid=connection-state]`)).trim();
  check(chipText === 'Connected', `after reconnecting the chip says "${chipText}"`);
  check(!(await page.$(`${sourceCard} [data-testid=access-warning]`)), 'the warning stays after reconnecting');
  log(`reconnected ${slug}: still ${kept}, no warning`);
}

/**
 * The third story: an ads source. Connect Demo Ads (the sandbox's Facebook Ads) through the
 * consent page, pick the ad account "Demo Tokyo Ads" (JPY, 120 days of history, so its sync is
 * short), wait for its sync, save "spend by campaign" to the home dashboard and check its chart
 * against `GET /connect/query/demo-ads` (money in yen, campaigns under their current names);
 * then the card's access warnings and a reconnect.
 */
async function adsScenario() {
  const slug = 'demo-ads';
  await connectThroughConsent(slug);
  const chosen = await chooseAccount(slug, {
    noun: 'ad account',
    listed: ['Demo Shoes US', 'Demo Lunettes FR', 'Demo Tokyo Ads', 'Demo Kuwait'],
    pick: 'act_1003',
    shot: 'ads-picker',
  });
  check(
    chosen.name.startsWith('Demo Tokyo Ads') && chosen.tz === 'Asia/Tokyo' && chosen.currency === 'JPY',
    `the card shows the chosen ad account as ${JSON.stringify(chosen)}`,
  );
  await waitForSync(slug, 'campaigns');
  await screenshot('ads-synced');

  const choices = { object_name: 'campaigns', operator: 'sum', value_field: 'spend', field_name: 'campaign_id' };
  await openBuilder(slug, choices);
  await chooseValueAndGroup(choices);
  const card = await saveMetric(slug, choices, 'Ad spend by campaign', 'ads-builder');
  const yen = { sourceTz: 'Asia/Tokyo', money: YEN, currency: 'jpy' };
  const current = await checkQueryCard(card, slug, choices, { ...yen, label: 'ads', shot: 'ads-metric' });
  // "Lead Gen - Store Visits" was "Store Visits - Q3" until 30 days ago: 30 days back, its rows
  // carry both names, and it is still one group under its current name.
  await page.click('#step-back-30');
  await page.waitForFunction(
    (end) => document.querySelector('[data-testid=period-control]').dataset.end !== end,
    current.window.end,
  );
  const back = await checkQueryCard(card, slug, choices, {
    ...yen,
    label: 'ads, back 30 days',
    shot: 'ads-back-30-days',
  });
  const byName = await apiQuery(slug, {
    ...choices,
    field_name: 'campaign_name',
    total_days: String(back.window.totalDays),
    end: back.window.end,
    tz: back.window.tz,
  });
  check('Store Visits - Q3' in byName.labelZ, `no row named "Store Visits - Q3" 30 days back: the rename moved`);
  for (const { window, series } of [current, back]) {
    const groups = Object.keys(series.labelZ).sort();
    check(
      JSON.stringify(groups) === JSON.stringify(['Lead Gen - Store Visits', 'Summer Campaign - Tokyo']),
      `spend by campaign_id to ${window.end} is grouped as ${groups.join(', ')}`,
    );
  }

  await checkAccessWarnings(slug, chosen.id);
}

/** Connecting Demo made a "Subscriptions" dashboard: MRR, its movements, churn and ARPU. */
async function subscriptionsScenario() {
  const dashboards = await page.evaluate(async () => (await fetch('/api/v1/dashboards')).json());
  const subscriptions = dashboards.find((d) => d.name === 'Subscriptions');
  check(subscriptions, `no Subscriptions dashboard after connecting Demo: ${dashboards.map((d) => d.name)}`);
  check(subscriptions.metric_ids.length === 4, `the Subscriptions dashboard has ${subscriptions.metric_ids.length} metrics`);
  await page.goto(`${BASE}/dashboards/${subscriptions.id}`);
  await page.waitForSelector('[data-testid=dashboard] [data-testid=metric-card] [data-testid=bar]');
  const [mrr, movements] = subscriptions.metric_ids;
  const mrrCard = `[data-testid=metric-card][data-metric-id="${mrr}"]`;
  const first = await verifyWindow(mrrCard, mrr, 'Subscriptions: MRR');
  check(first.series.meta.kind === 'mrr' && first.series.labelY.some((v) => v > 0), 'MRR is empty');
  const summary = await page.$eval(`${mrrCard} [data-testid=metric-total]`, (el) => el.textContent).catch(() => '');
  const movementsCard = `[data-testid=metric-card][data-metric-id="${movements}"]`;
  await waitForChart(movementsCard, first.window);
  const moves = await apiSeries(movements, first.window);
  check(
    ['churn', 'contraction', 'expansion', 'fx', 'new', 'reactivation'].every((g) => g in moves.labelZ),
    `movements groups: ${Object.keys(moves.labelZ)}`,
  );
  await checkBars(movementsCard, moves);
  await screenshot('subscriptions-dashboard');
  log(`Subscriptions dashboard: MRR ${first.series.labelY.at(-1)} ${first.series.meta.currency} ${summary}; movements drawn`);

  // The definitions are the connection's settings, changed on its card.
  await page.goto(`${BASE}/sources`);
  const settings = '[data-testid=source-card][data-slug=demo] [data-testid=subscription-settings]';
  await page.click(`${settings} summary`);
  await page.selectOption(`${settings} select[name=churn_at]`, 'cancellation');
  await page.uncheck(`${settings} input[data-setting=past_due_counts]`);
  await page.fill(`${settings} input[name=churn_window_days]`, '28');
  await page.click(`${settings} button[type=submit]`);
  await page.waitForSelector(`${settings} [data-testid=settings-saved]`);
  await screenshot('subscription-settings');
  const connections = await page.evaluate(async () => (await fetch('/api/v1/connections')).json());
  const stored = connections.find((c) => c.source === 'demo').subscription_settings;
  check(
    stored.churn_at === 'cancellation' && stored.past_due_counts === false && stored.churn_window_days === 28,
    `the settings saved are ${JSON.stringify(stored)}`,
  );
  const changed = await apiSeries(mrr, first.window);
  check(changed.labelY.length === first.series.labelY.length, 'the MRR window after the settings changed');
  // Back to the defaults for what follows.
  const reset = await page.evaluate(async () => {
    const csrf = document.cookie.split('; ').find((c) => c.startsWith('allmetrics_csrf='))?.split('=')[1] ?? '';
    const response = await fetch('/api/v1/connections/demo', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'x-csrf-token': decodeURIComponent(csrf) },
      body: JSON.stringify({ subscription_settings: null }),
    });
    return response.status;
  });
  check(reset === 200, `resetting the settings answered ${reset}`);
  log(`subscription settings saved from the card: ${JSON.stringify(stored)}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    // Register (then the app signs in and goes home).
    const email = `e2e-${Date.now()}@example.com`;
    const password = 'e2e correct horse battery';
    await page.goto(`${BASE}/register`);
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.fill('#password-confirm', password);
    await screenshot('register');
    await page.click('#register-submit');
    await page.waitForURL(`${BASE}/`);
    await page.waitForSelector('[data-testid=user-email]');
    await page.waitForSelector('[data-testid=dashboard]');
    await screenshot('home-empty');
    log(`registered ${email}`);

    // The session survives a reload.
    await page.reload();
    await page.waitForSelector('[data-testid=user-email]');

    // Connect Demo through the sandbox's consent page.
    await connectThroughConsent('demo', { sources: 'sources', consent: 'sandbox-consent' });
    await page.waitForSelector('[data-testid=sync-demo] [data-testid=sync-state]');
    await screenshot('connected');

    // The sync: progress bars until every object is complete.
    await waitForSync('demo');
    await screenshot('synced');

    // The metric builder: source -> object -> operator -> value field -> group by.
    await page.click('a[href="/metrics/new"]');
    await page.waitForSelector('#builder-source option[value=demo]', { state: 'attached' });
    await page.selectOption('#builder-source', 'demo');
    await page.waitForSelector('#builder-object option[value=Charge]', { state: 'attached' });
    await page.selectOption('#builder-object', 'Charge');
    await page.selectOption('#builder-operator', 'sum');
    await page.waitForSelector('#builder-value-field option[value=amount]', { state: 'attached' });
    await page.selectOption('#builder-value-field', 'amount');
    await page.waitForSelector('#builder-group-by option[value=currency]', { state: 'attached' });
    await page.selectOption('#builder-group-by', 'currency');
    await page.waitForFunction(() => {
      const legend = [...document.querySelectorAll('[data-testid=preview] [data-testid=legend-item]')];
      return legend.some((item) => item.dataset.group === 'usd');
    });
    await page.fill('#builder-name', 'Charges: sum of amount by currency');
    const dashboard = await page.$eval('#builder-dashboard', (el) => el.options[el.selectedIndex].textContent);
    check(/home/i.test(dashboard), `the builder adds to "${dashboard}", not the home dashboard`);
    await screenshot('builder');
    await page.click('#builder-save');
    await page.waitForURL(`${BASE}/`);
    const card = '[data-testid=metric-card]';
    await page.waitForSelector(`${card} [data-testid=bar]`);
    const metricId = Number(await page.getAttribute(card, 'data-metric-id'));
    check(metricId > 0, 'the saved metric has no id on its card');
    log(`saved metric ${metricId} to the home dashboard`);

    // The current window, then 30 days back, then forward again.
    const first = await verifyWindow(card, metricId, 'current window');
    await screenshot('home-metric');
    await checkTooltip(card, first.series, first.series.labelY.findIndex((v) => v !== 0));
    await screenshot('tooltip');

    await page.click('#step-back-30');
    await page.waitForFunction(
      (end) => document.querySelector('[data-testid=period-control]').dataset.end !== end,
      first.window.end,
    );
    const back = await verifyWindow(card, metricId, 'back 30 days');
    check(back.window.totalDays === first.window.totalDays, 'stepping changed the window length');
    await screenshot('back-30-days');

    await page.click('#step-forward-30');
    await page.waitForFunction(
      (end) => document.querySelector('[data-testid=period-control]').dataset.end === end,
      first.window.end,
    );
    const again = await verifyWindow(card, metricId, 'forward 30 days');
    check(again.window.end === first.window.end, 'forward did not return to the first window');
    await screenshot('forward-again');
    await checkCsv(card, again.series);

    // Keyboard: focusing a bar shows its tooltip; arrows move between days.
    await page.focus(`${card} rect.hit[tabindex="0"]`);
    await page.keyboard.press('ArrowLeft');
    await page.waitForSelector(`${card} [data-testid=chart-tooltip]`);
    const focused = await page.evaluate(() => document.activeElement.closest('[data-testid=bar]').dataset.day);
    check(Number(focused) === again.series.labelX.length - 2, `ArrowLeft focused day ${focused}`);
    await screenshot('keyboard-focus');

    await subscriptionsScenario();
    await analyticsScenario();
    await adsScenario();

    check(pageErrors.length === 0, `errors in the page: ${pageErrors.join('; ')}`);
    log(`passed; screenshots in ${ARTIFACTS}`);
  } catch (error) {
    await screenshot('failure').catch(() => {});
    console.error(`[e2e] FAILED: ${error.message}`);
    if (pageErrors.length) console.error(`[e2e] page errors: ${pageErrors.join('; ')}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

await main();
