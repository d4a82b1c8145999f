// Each role's main journey in a real browser (Debian's chromium through playwright-core), language
// switching, refused access, a phone-sized screen; screenshots of every main page in test/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildWebApp } from '../src/web/index.js';
import { ensureSong } from './helpers/catalogue.js';
import {
  PASSWORD,
  PERIOD,
  SCREENSHOT_DIR,
  USERS,
  launchChromium,
  makeWorld,
  type UserName,
  type World,
} from './helpers/browser.js';

let w: World;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // the real default: Secure, __Host- cookies (browsers accept them from http://127.0.0.1)
  w = await makeWorld({ config: { secureCookies: true } });
  ({ app } = await buildWebApp({
    store: w.store,
    index: w.index,
    evidenceDirs: [w.evidenceDir],
    uploadDir: w.uploadDir,
    config: w.config,
    now: w.now,
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  ({ browser, close: closeBrowser } = await launchChromium());
  // last month is accrued before anyone looks
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await logIn(page, 'operator');
  await page.fill('#a-period', PERIOD);
  await Promise.all([page.waitForURL(/\/operator/), page.click('button:has-text("Run the accrual")')]);
  const flash = await page.textContent('.flash');
  if (!/Accrual of 2026-02: run 1/.test(flash ?? '')) throw new Error(`the accrual did not run: ${flash}`);
  await ctx.close();
});

afterAll(async () => {
  await closeBrowser?.();
  await app?.close();
  await w?.close();
});

async function context(opts: { phone?: boolean; lang?: 'kk' | 'ru' | 'en' } = {}): Promise<BrowserContext> {
  const ctx = await browser.newContext({
    viewport: opts.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
  });
  if (opts.lang) await ctx.addCookies([{ name: 'tyndau-lang', value: opts.lang, url: base }]);
  return ctx;
}

async function logIn(page: Page, user: UserName): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#username', USERS[user].username);
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.click('button[type=submit]'),
  ]);
}

async function shot(page: Page, name: string): Promise<void> {
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  try {
    await page.screenshot({ path, fullPage: true });
  } catch {
    // headless chromium sometimes cannot capture a very tall page at once (a long cabinet on a
    // phone-sized viewport): keep the visible part rather than fail the journey over a picture
    await page.screenshot({ path });
  }
}

/** An element's text with its whitespace collapsed, as a reader sees it. */
async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? '').replace(/\s+/g, ' ').trim();
}

/** No sideways scrolling: the page fits its screen. */
async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1,
  );
}

describe('in a real browser', () => {
  it('a reviewer confirms detections in bulk, hears the air-check beside the reference, reads the day', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    await logIn(page, 'reviewer');
    expect(new URL(page.url()).pathname).toBe('/review');
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === '__Host-tyndau-session')!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });
    await expect.poll(() => page.locator('tbody tr').count()).toBe(2); // two pending on its CMO's channels
    await shot(page, 'review-queue');
    await page.check(`input[name=ids][value=${w.det.a1}]`);
    await page.check(`input[name=ids][value=${w.det.b1}]`);
    await page.fill('#note-bulk', 'both clearly audible');
    await Promise.all([page.waitForURL(`${base}/review`), page.click('button[value=confirm]')]);
    expect(await page.textContent('.flash')).toContain('2 detection(s) updated.');
    expect(await page.locator('tbody tr').count()).toBe(0);
    await page.selectOption('#f-status', 'confirmed');
    await page.click('text=Show');
    expect(await page.locator(`a[href="/review/detections/${w.det.a1}"]`).count()).toBe(1);

    await page.goto(`${base}/review/detections/${w.det.a1}`);
    const evidence = page.locator('audio').first();
    expect(await evidence.getAttribute('src')).toMatch(
      new RegExp(`/api/v1/detections/${w.det.a1}/evidence#t=2\\.0$`),
    );
    // the browser fetches and decodes the clip (with range requests)
    const loaded = await evidence.evaluate(
      (a: HTMLAudioElement) =>
        new Promise<number>((resolve, reject) => {
          a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
          a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code}`)), {
            once: true,
          });
          a.preload = 'metadata';
          a.load();
        }),
    );
    expect(loaded).toBeGreaterThan(5);
    const history = await text(page, 'main ol');
    expect(history).toMatch(/confirmed — reviewer, 10 Mar 2026, 12:00:00: .*both clearly audible/);
    await shot(page, 'review-detection');

    await page.click('text=Day timeline');
    expect(new URL(page.url()).searchParams.get('date')).toBe('2026-02-03');
    expect(await page.locator('svg rect.det-confirmed').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('svg rect.gap').count()).toBe(1);
    expect(await page.textContent('main')).toContain('Stream down');
    await shot(page, 'review-timeline');
    await ctx.close();
  });

  it('a registrar enrols a recording by upload and imports a CSV with a per-row report', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    await logIn(page, 'registrar');
    await page.fill('#c-q', 'samaly');
    await page.click('button:has-text("Search")');
    expect(await page.locator('tbody tr').count()).toBe(1);
    await shot(page, 'catalogue-search');

    await page.goto(`${base}/catalogue/enrol`);
    await page.fill('#e-title', 'Jańa án');
    await page.fill('#e-isrc', 'KZ-T01-26-00088');
    await page.setInputFiles('#e-file', ensureSong(902, 6, 8000));
    await page.click('button:has-text("Upload and enrol")');
    await expect.poll(() => page.textContent('.flash')).toContain('Recording KZT012600088 enrolled');
    await shot(page, 'catalogue-enrol');
    // the same audio again under another id is a duplicate
    await page.fill('#e-title', 'Copy');
    await page.fill('#e-id', 'copy-of-jana-an');
    await page.setInputFiles('#e-file', ensureSong(902, 6, 8000));
    await page.click('button:has-text("Upload and enrol")');
    await expect.poll(() => page.textContent('.flash')).toContain('already enrolled as KZT012600088');

    await page.goto(`${base}/catalogue/import`);
    await page.setInputFiles('#i-file', {
      name: 'holders.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('id,kind,name\nrh-web-1,person,Web Person\nrh-web-2,alien,Bad Kind\n'),
    });
    await page.click('button:has-text("Import")');
    await expect.poll(() => page.textContent('main')).toContain('1 accepted');
    const rows = (await page.locator('main table tbody tr').allTextContents()).map((r) =>
      r.replace(/\s+/g, ' '),
    );
    expect(rows[0]).toMatch(/2\s*accepted/);
    expect(rows[1]).toMatch(/3\s*rejected.*kind/);
    await shot(page, 'catalogue-import-report');
    await ctx.close();
  });

  it('an author sees where its works aired and traces an amount back to the airplay, rule and share', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    await logIn(page, 'composer1');
    expect(new URL(page.url()).pathname).toBe('/cabinet');
    expect(await page.textContent('main')).toContain('February 2026');
    expect(await page.locator('main table').first().locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('audio').count()).toBeGreaterThan(0);
    await shot(page, 'cabinet');
    await page.locator('a:has-text("How?")').first().click();
    await page.waitForURL(/\/cabinet\/lines\/\d+$/);
    const chain = await text(page, 'ol.chain');
    expect(chain).toMatch(/Airplay:.*Demo Radio FM/);
    expect(chain).toMatch(/Tariff rule:.*version 1/);
    expect(chain).toMatch(/Share:.*Aigerim Nurlanovna \(demo\): 50\.00 % of/);
    expect(chain).toMatch(/Ledger entry:.*hash/);
    await shot(page, 'cabinet-line');
    await ctx.close();
  });

  it('a broadcaster disputes one usage line and confirms others before the deadline', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    await logIn(page, 'broadcaster');
    expect(await page.textContent('main')).toContain('Confirm or dispute each line by 24 Mar 2026');
    const first = page.locator('main table').nth(2).locator('tbody tr').first();
    await first.locator('input[name=reason]').fill('this was a trailer');
    await Promise.all([
      page.waitForURL(`${base}/broadcaster`),
      first.locator('button:has-text("Dispute")').click(),
    ]);
    expect(await page.textContent('.flash')).toMatch(/Line disputed \(DSP-/);
    expect(await page.locator('.badge.disputed').count()).toBe(1);
    const boxes = page.locator('input[name=ids]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await Promise.all([
      page.waitForURL(`${base}/broadcaster`),
      page.click('button:has-text("Confirm selected lines")'),
    ]);
    expect(await page.textContent('.flash')).toContain('2 line(s) confirmed.');
    expect(await page.locator('.badge.confirmed').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'broadcaster');
    await ctx.close();
  });

  it('the operator runs the accrual again, verifies the ledger and watches channels and money', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    await logIn(page, 'operator');
    expect(await page.textContent('main')).toContain('Money per CMO, February 2026');
    await page.fill('#a-period', PERIOD);
    await Promise.all([page.waitForURL(/\/operator/), page.click('button:has-text("Run the accrual")')]);
    expect(await page.textContent('.flash')).toMatch(/Accrual of 2026-02: (run 2|nothing changed)/);
    await Promise.all([page.waitForURL(/\/operator/), page.click('button:has-text("Verify the ledger")')]);
    expect(await page.textContent('.flash')).toMatch(/The ledger is intact: \d+ entries, \d+ lines\./);
    expect(await page.locator('.badge.listening').count()).toBe(1);
    await shot(page, 'operator');
    await page.goto(`${base}/disputes`);
    await shot(page, 'disputes');
    await page.goto(`${base}/`);
    await shot(page, 'home');
    await page.goto(`${base}/api/docs`);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 15_000 }).toBeGreaterThan(20);
    await shot(page, 'api-docs');
    await ctx.close();
  });

  it('switches between Kazakh, Russian and English and remembers the choice', async () => {
    const ctx = await context();
    const page = await ctx.newPage();
    await logIn(page, 'composer1');
    expect(await page.getAttribute('html', 'lang')).toBe('en'); // the browser asked for English
    await page.click('a[hreflang=ru]');
    await page.waitForURL(`${base}/cabinet`);
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.textContent('h1')).toBe('Мой эфир и вознаграждения');
    expect(await page.textContent('main')).toMatch(/февраль 2026/i);
    expect(await page.textContent('main')).toMatch(/\d,\d\d\s₸/); // tenge the Russian way
    await shot(page, 'cabinet-ru');
    await page.goto(`${base}/`);
    expect(await page.getAttribute('html', 'lang')).toBe('ru'); // remembered
    await page.click('a[hreflang=kk]');
    expect(await page.getAttribute('html', 'lang')).toBe('kk');
    expect(await page.textContent('h1')).toBe('Эфир және сыйақылар — қысқаша');
    await shot(page, 'home-kk');
    await page.goto(`${base}/cabinet`);
    expect(await page.textContent('h1')).toBe('Менің эфирім және сыйақыларым');
    expect(await page.textContent('main')).toMatch(/ақпан/i);
    await ctx.close();
  });

  it('refuses pages outside a role and things of other owners', async () => {
    const ctx = await context({ lang: 'en' });
    const page = await ctx.newPage();
    const anon = await page.goto(`${base}/cabinet`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(anon?.status()).toBe(200);
    await logIn(page, 'broadcaster');
    const review = await page.goto(`${base}/review`);
    expect(review?.status()).toBe(403);
    expect(await page.textContent('main')).toContain('Your role may not open this page.');
    await shot(page, 'refused-403');
    const other = await page.goto(`${base}/review/detections/${w.det.x1}`);
    expect(other?.status()).toBe(404);
    const api = await page.goto(`${base}/api/v1/usage-reports/bc-other/${PERIOD}`);
    expect(api?.status()).toBe(404);
    await ctx.close();
  });

  it('works on a phone-sized screen', async () => {
    const pages: Array<[UserName, 'kk' | 'ru' | 'en', string, string]> = [
      ['composer1', 'kk', '/cabinet', 'phone-cabinet-kk'],
      ['broadcaster', 'ru', '/broadcaster', 'phone-broadcaster-ru'],
      ['reviewer', 'en', '/review?status=all', 'phone-review'],
      ['operator', 'en', '/operator', 'phone-operator'],
    ];
    for (const [user, lang, path, name] of pages) {
      const ctx = await context({ phone: true, lang });
      const page = await ctx.newPage();
      await logIn(page, user);
      await page.goto(`${base}${path}`);
      expect(await fitsWidth(page), name).toBe(true);
      await shot(page, name);
      await ctx.close();
    }
    writeFileSync(
      join(SCREENSHOT_DIR, 'README.txt'),
      `Screenshots of the last run of test/web-browser.test.ts (${new Date().toISOString()}).\n`,
    );
  });
});
