// The web app's pages through fastify.inject: message catalogues, language choice, locale formats,
// every page for its role in every language, refusals as HTML, forms with CSRF tokens, escaping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { CATALOGUES, Fmt, LOCALES, buildWebApp, type Locale } from '../src/web/index.js';
import { fromAcceptLanguage } from '../src/web/i18n/index.js';
import { NOW_MS, PASSWORD, PERIOD, USERS, makeWorld, type UserName, type World } from './helpers/browser.js';

let w: World;
let app: FastifyInstance;

beforeAll(async () => {
  w = await makeWorld();
  ({ app } = await buildWebApp({
    store: w.store,
    index: w.index,
    evidenceDirs: [w.evidenceDir],
    uploadDir: w.uploadDir,
    config: w.config,
    now: w.now,
    logLevel: process.env.TYNDAU_TEST_LOG ? 'error' : false,
  }));
  await w.store.db
    .updateTable('recordings')
    .set({ title: 'Kóktem <script>alert(1)</script> & "friends"' })
    .where('id', '=', 'rec-c')
    .execute();
  const s = await apiLogin('operator');
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/accruals/runs',
    payload: { period: PERIOD },
    headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
  expect(r.statusCode).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await w?.close();
});

async function apiLogin(user: UserName): Promise<{ cookie: string; csrf: string }> {
  const r = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: USERS[user].username, password: PASSWORD },
  });
  return { cookie: String(r.headers['set-cookie']).split(';')[0], csrf: r.json().csrfToken };
}

function cookieOf(r: LightMyRequestResponse, name: string): string | undefined {
  const all = ([] as string[]).concat((r.headers['set-cookie'] as string | string[] | undefined) ?? []);
  return all.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('have the same keys in Kazakh, Russian and English, none empty, with the same placeholders', () => {
    const keys = Object.keys(CATALOGUES.en).sort();
    for (const l of LOCALES) {
      expect(Object.keys(CATALOGUES[l]).sort(), l).toEqual(keys);
      for (const k of keys) {
        const v = CATALOGUES[l][k as keyof (typeof CATALOGUES)['en']];
        expect(v.trim(), `${l} ${k}`).not.toBe('');
        expect(placeholders(v), `${l} ${k}`).toEqual(
          placeholders(CATALOGUES.en[k as keyof (typeof CATALOGUES)['en']]),
        );
      }
    }
  });

  it('are really translated (not English left behind)', () => {
    const same = (l: Locale) =>
      Object.keys(CATALOGUES.en).filter(
        (k) =>
          CATALOGUES[l][k as keyof (typeof CATALOGUES)['en']] ===
          CATALOGUES.en[k as keyof (typeof CATALOGUES)['en']],
      );
    // names, codes and bare placeholders are the same in every language
    const allowed = new Set([
      'app.name',
      'nav.apiDocs',
      'common.isrc',
      'common.iswc',
      'common.whoWhen',
      'timeline.title',
      'catalogue.title',
      'op.title',
      'role.operator',
      'bc.tariff',
      'cabinet.step.licence',
    ]);
    for (const l of ['kk', 'ru'] as const)
      expect(
        same(l).filter((k) => !allowed.has(k)),
        l,
      ).toEqual([]);
    // Kazakh uses its own letters
    expect(Object.values(CATALOGUES.kk).join(' ')).toMatch(/[әғқңөұүһі]/);
  });

  it("picks the reader's language from Accept-Language", () => {
    expect(fromAcceptLanguage('ru-RU,ru;q=0.9,en;q=0.8')).toBe('ru');
    expect(fromAcceptLanguage('de-DE, en;q=0.5, kk;q=0.9')).toBe('kk');
    expect(fromAcceptLanguage('de-DE')).toBeNull();
  });
});

describe('locale formats', () => {
  it('formats tenge exactly from integer tiyn, in each locale', () => {
    const nb = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
    expect(nb(new Fmt('kk', 'Asia/Almaty').tiyn(123_456_789))).toBe('1 234 567,89 ₸');
    expect(nb(new Fmt('ru', 'Asia/Almaty').tiyn(123_456_789))).toBe('1 234 567,89 ₸');
    expect(new Fmt('en', 'Asia/Almaty').tiyn(123_456_789)).toBe('₸1,234,567.89');
    expect(new Fmt('en', 'Asia/Almaty').tiyn(-5)).toBe('-₸0.05');
    // beyond 2^53 tiyn nothing is lost
    expect(new Fmt('en', 'Asia/Almaty').tiyn(12_345_678_901_234_567_891n)).toBe(
      '₸123,456,789,012,345,678.91',
    );
  });

  it('formats dates and times in the right zone for each locale', () => {
    const ms = Date.UTC(2026, 1, 3, 3, 15, 0); // 08:15 in Almaty
    expect(new Fmt('en', 'Asia/Almaty').dateTime(ms)).toBe('3 Feb 2026, 08:15:00');
    expect(new Fmt('ru', 'Asia/Almaty').dateTime(ms)).toMatch(/^3 февр\. 2026 г\., 08:15:00$/);
    expect(new Fmt('kk', 'Asia/Almaty').dateTime(ms)).toMatch(/2026.*08:15:00/);
    expect(new Fmt('kk', 'Asia/Almaty').period('2026-02')).toMatch(/ақпан/i);
    expect(new Fmt('ru', 'Asia/Almaty').period('2026-02')).toMatch(/февраль/i);
    expect(new Fmt('en', 'UTC').time(ms)).toBe('03:15:00');
  });
});

describe('language choice', () => {
  it('follows the browser, then a choice made with ?lang, which is remembered', async () => {
    const ru = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-language': 'ru-RU,ru;q=0.9' },
    });
    expect(ru.body).toContain('<html lang="ru">');
    expect(ru.body).toContain('Эфир и вознаграждения');
    const none = await app.inject({ method: 'GET', url: '/' });
    expect(none.body).toContain('<html lang="kk">'); // Kazakh by default
    const pick = await app.inject({
      method: 'GET',
      url: '/?lang=en&x=1',
      headers: { 'accept-language': 'ru' },
    });
    expect(pick.statusCode).toBe(303);
    expect(pick.headers.location).toBe('/?x=1');
    const lang = cookieOf(pick, 'tyndau-lang');
    expect(lang).toBe('tyndau-lang=en');
    const after = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-language': 'ru', cookie: lang! },
    });
    expect(after.body).toContain('<html lang="en">');
  });

  it("remembers a signed-in person's choice on the account", async () => {
    const s = await apiLogin('composer2');
    const pick = await app.inject({ method: 'GET', url: '/cabinet?lang=ru', headers: { cookie: s.cookie } });
    expect(pick.statusCode).toBe(303);
    const row = await w.store.db
      .selectFrom('users')
      .select('locale')
      .where('username', '=', 'composer2')
      .executeTakeFirstOrThrow();
    expect(row.locale).toBe('ru');
    // another device, no language cookie: the account's language
    const other = await apiLogin('composer2');
    const page = await app.inject({
      method: 'GET',
      url: '/cabinet',
      headers: { cookie: other.cookie, 'accept-language': 'en' },
    });
    expect(page.body).toContain('<html lang="ru">');
    expect(page.body).toContain('Мой эфир и вознаграждения');
  });
});

const PAGES: Array<[UserName, string, RegExp]> = [
  ['operator', '/operator', /Ledger|Тізілім|реестр/i],
  ['reviewer', '/review?status=all', /det-a1/],
  ['reviewer', '/review/detections/det-a1', /det-a1/],
  ['reviewer', '/review/timeline?channel=demo-radio&date=2026-02-03', /<svg/],
  ['reviewer', '/disputes', /<h1>/],
  ['registrar', '/catalogue', /rec-a/],
  ['registrar', '/catalogue/recordings/rec-a', /KZ-D01-26-00001/],
  ['registrar', '/catalogue/enrol', /enctype="multipart\/form-data"/],
  ['registrar', '/catalogue/import', /type="file"/],
  ['registrar', '/catalogue/conflicts', /<h1>/],
  ['composer1', '/cabinet', /\/cabinet\/lines\/\d+/],
  ['broadcaster', '/broadcaster', /name="ids"/],
  ['operator', '/', /<svg/],
];

describe('pages', () => {
  it.each(LOCALES)(
    'every main page renders for its role in %s, with no message key left raw',
    async (locale) => {
      for (const [user, url, expected] of PAGES) {
        const s = await apiLogin(user);
        const r = await app.inject({
          method: 'GET',
          url,
          headers: { cookie: `${s.cookie}; tyndau-lang=${locale}` },
        });
        expect(r.statusCode, `${user} ${url}`).toBe(200);
        expect(r.headers['content-type']).toMatch(/text\/html/);
        expect(r.body).toContain(`<html lang="${locale}">`);
        expect(r.body, `${user} ${url}`).toMatch(expected);
        const text = r.body.replace(/<[^>]+>/g, ' ');
        expect(text, `${user} ${url}`).not.toMatch(
          /\b(nav|common|review|cabinet|bc|op|catalogue|status|usage|state|gap|right|home|enrol|import|timeline|disputes|error)\.[a-z][A-Za-z.]*\b/,
        );
        expect(r.body).toContain('name="viewport"');
      }
    },
  );

  it('escapes what comes from the data', async () => {
    const s = await apiLogin('registrar');
    const r = await app.inject({
      method: 'GET',
      url: '/catalogue?q=K%C3%B3ktem',
      headers: { cookie: s.cookie },
    });
    expect(r.body).toContain('Kóktem &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;');
    expect(r.body).not.toContain('<script>alert(1)');
  });

  it('serves a strict content security policy and only external scripts', async () => {
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(r.headers['x-frame-options']).toBeDefined();
    expect([...r.body.matchAll(/<script([^>]*)>/g)].every((m) => /src="\/assets\//.test(m[1]))).toBe(true);
    const css = r.body.match(/href="(\/assets\/[0-9a-f]+\/app\.css)"/)![1];
    const asset = await app.inject({ method: 'GET', url: css });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
  });
});

describe('refusals', () => {
  it('sends the public to the login page and back', async () => {
    const r = await app.inject({ method: 'GET', url: '/operator' });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/login?next=%2Foperator');
  });

  it("answers a role outside its area with 403 and another owner's thing with 404, as pages", async () => {
    const bc = await apiLogin('broadcaster');
    const review = await app.inject({
      method: 'GET',
      url: '/review',
      headers: { cookie: `${bc.cookie}; tyndau-lang=en` },
    });
    expect(review.statusCode).toBe(403);
    expect(review.body).toContain('Your role may not open this page.');
    const det = await app.inject({
      method: 'GET',
      url: `/review/detections/${w.det.x1}`,
      headers: { cookie: `${bc.cookie}; tyndau-lang=ru` },
    });
    expect(det.statusCode).toBe(404);
    expect(det.body).toContain('Такой страницы нет, или она вам недоступна.');
    const c1 = await apiLogin('composer1');
    const statement = await app.inject({
      method: 'GET',
      url: `/api/v1/statements/rh-composer-1/${PERIOD}`,
      headers: { cookie: c1.cookie },
    });
    const seq = statement.json().lines[0].lineSeq;
    const c2 = await apiLogin('composer2');
    const line = await app.inject({
      method: 'GET',
      url: `/cabinet/lines/${seq}`,
      headers: { cookie: c2.cookie },
    });
    expect(line.statusCode).toBe(404);
    // ?holder= is for the operator and reviewers; a rights holder always sees its own cabinet
    const own = await app.inject({
      method: 'GET',
      url: '/cabinet?holder=rh-composer-1',
      headers: { cookie: `${c2.cookie}; tyndau-lang=en` },
    });
    expect(own.statusCode).toBe(200);
    expect(own.body).toContain('Daulet Serikuly');
    expect(own.body).not.toContain('Aigerim');
  });
});

describe('forms', () => {
  it('logs in through the form with its one-time token, and never redirects off the site', async () => {
    const form = await app.inject({ method: 'GET', url: '/login?next=//evil.example/x' });
    const token = form.body.match(/name="_csrf" value="([^"]+)"/)![1];
    const cookie = cookieOf(form, 'tyndau-login')!;
    const body = `_csrf=${token}&next=${encodeURIComponent('//evil.example/x')}&username=reviewer&password=${encodeURIComponent(PASSWORD)}`;
    const ok = await app.inject({
      method: 'POST',
      url: '/login',
      payload: body,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/review');
    const noToken = await app.inject({
      method: 'POST',
      url: '/login',
      payload: `username=reviewer&password=${encodeURIComponent(PASSWORD)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(noToken.statusCode).toBe(403);
    const wrong = await app.inject({
      method: 'POST',
      url: '/login',
      payload: `_csrf=${token}&username=reviewer&password=nope`,
      headers: { cookie: `${cookie}; tyndau-lang=kk`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Пайдаланушы аты немесе құпиясөз қате.');
  });

  it("acts on a review form only with the session's token, then shows what happened", async () => {
    const s = await apiLogin('reviewer');
    const form = `ids=${w.det.b1}&ids=${w.det.b2}&action=confirm&back=${encodeURIComponent('/review?status=all')}`;
    const headers = {
      cookie: `${s.cookie}; tyndau-lang=en`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const refused = await app.inject({ method: 'POST', url: '/review/actions', payload: form, headers });
    expect(refused.statusCode).toBe(403);
    const done = await app.inject({
      method: 'POST',
      url: '/review/actions',
      payload: `${form}&_csrf=${s.csrf}`,
      headers,
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/review?status=all');
    const flash = cookieOf(done, 'tyndau-flash')!;
    const next = await app.inject({
      method: 'GET',
      url: '/review?status=all',
      headers: { cookie: `${s.cookie}; tyndau-lang=en; ${flash}` },
    });
    expect(next.body).toContain('2 detection(s) updated.');
    const rows = await w.store.db
      .selectFrom('detections')
      .select(['id', 'status'])
      .where('id', 'in', [w.det.b1, w.det.b2])
      .execute();
    expect(rows.map((r) => r.status)).toEqual(['confirmed', 'confirmed']);
    // another CMO's channel: "not found", and nothing changed
    const foreign = await app.inject({
      method: 'POST',
      url: '/review/actions',
      payload: `ids=${w.det.x2}&action=confirm&_csrf=${s.csrf}`,
      headers,
    });
    expect(foreign.statusCode).toBe(303);
    const msg = await app.inject({
      method: 'GET',
      url: '/review',
      headers: { cookie: `${s.cookie}; tyndau-lang=en; ${cookieOf(foreign, 'tyndau-flash')}` },
    });
    expect(msg.body).toContain(`detection ${w.det.x2} not found`);
    const x2 = await w.store.db
      .selectFrom('detections')
      .select('status')
      .where('id', '=', w.det.x2)
      .executeTakeFirstOrThrow();
    expect(x2.status).toBe('pending');
  });

  it("shows the broadcaster's deadline and takes a dispute from the usage page", async () => {
    const s = await apiLogin('broadcaster');
    const page = await app.inject({
      method: 'GET',
      url: '/broadcaster',
      headers: { cookie: `${s.cookie}; tyndau-lang=en` },
    });
    expect(page.body).toContain(
      `Confirm or dispute each line by ${new Fmt('en', 'Asia/Almaty').dateTime(NOW_MS + 14 * 86_400_000)}`,
    );
    const det = page.body.match(/name="detectionId" value="([^"]+)"/)![1];
    const r = await app.inject({
      method: 'POST',
      url: '/broadcaster/dispute',
      payload: `_csrf=${s.csrf}&licensee=bc-demo&period=${PERIOD}&detectionId=${det}&reason=${encodeURIComponent('not our programme')}&back=%2Fbroadcaster`,
      headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.statusCode).toBe(303);
    const d = await w.store.db
      .selectFrom('usage_disputes')
      .selectAll()
      .where('detection_id', '=', det)
      .executeTakeFirstOrThrow();
    expect(d.reason).toBe('not our programme');
    const audit = await w.store.db
      .selectFrom('audit_log')
      .select(['actor_name', 'action'])
      .where('subject_id', '=', d.id)
      .execute();
    expect(audit).toEqual([{ actor_name: 'broadcaster', action: 'usage.dispute' }]);
  });
});
