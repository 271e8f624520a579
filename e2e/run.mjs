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
// page's cookies). Exits non-zero on the first failure, with a screenshot of the page.
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

/** Hovers a bar and reads its tooltip: every group row and the total, as numbers and as text. */
async function checkTooltip(card, series, day) {
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
    close(displayedNumber(totalText), series.labelY[day] / 100, 0.005),
    `tooltip ${date}: total text "${totalText}" is not ${series.labelY[day]} cents`,
  );
  const expectedGroups = Object.entries(series.labelZ).filter(([, values]) => (values[day] || 0) !== 0);
  check(rows.length === expectedGroups.length, `tooltip ${date}: ${rows.length} rows, ${expectedGroups.length} groups`);
  for (const [group, values] of expectedGroups) {
    const row = rows.find((r) => r.group === group);
    check(row, `tooltip ${date}: no row for ${group}`);
    check(close(row.value, values[day]), `tooltip ${date}: ${group} ${row.value} != ${values[day]}`);
    check(
      close(displayedNumber(row.text), values[day] / 100, 0.005),
      `tooltip ${date}: ${group} text "${row.text}" is not ${values[day]} cents`,
    );
    const symbol = CURRENCY_SYMBOLS[group];
    if (symbol) check(row.text.includes(symbol), `tooltip ${date}: ${group} "${row.text}" lacks ${symbol}`);
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
    await page.click('a[href="/sources"]');
    await page.waitForSelector('#connect-demo');
    await screenshot('sources');
    await page.click('#connect-demo');
    await page.waitForSelector('#approve');
    await screenshot('sandbox-consent');
    await page.click('#approve');
    await page.waitForURL(/\/sources\?connected=demo/);
    await page.waitForSelector('[data-testid=banner-ok]');
    await page.waitForSelector('[data-testid=sync-demo] [data-testid=sync-state]');
    await screenshot('connected');
    log('connected demo');

    // The sync: progress bars until every object is complete.
    await page.waitForFunction(
      () => {
        const state = document.querySelector('[data-testid=sync-demo] [data-testid=sync-state]');
        const objects = document.querySelectorAll('[data-testid=sync-demo] [data-testid=sync-object]');
        return (
          state &&
          state.dataset.state === 'idle' &&
          objects.length > 0 &&
          [...objects].every((o) => o.dataset.done === 'true')
        );
      },
      null,
      { timeout: SYNC_TIMEOUT_MS, polling: 500 },
    );
    const objects = await page.$$eval('[data-testid=sync-demo] [data-testid=sync-object]', (nodes) => nodes.length);
    await screenshot('synced');
    log(`sync finished: ${objects} objects complete`);

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
