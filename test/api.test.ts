// The HTTP API through fastify.inject on a real SQLite file (and the access rules again on PostgreSQL):
// OpenAPI, error bodies, authentication (scrypt, sessions, CSRF, tokens, login rate limiting), every
// role's reach (guessing ids gets 404), filters and pagination, CSV export, evidence with ranges, review
// with its audit trail, accrual, statements and traces, usage confirmation and disputes, ledger verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer, type AppContext } from '../src/api/index.js';
import { NOW_MS, PASSWORD, PERIOD, USERS, makeWorld, type UserName, type World } from './helpers/browser.js';

interface Session {
  cookie: string;
  csrf: string;
}

interface Harness {
  app: FastifyInstance;
  ctx: AppContext;
  w: World;
  clock: { ms: number };
  as(user: UserName): Promise<Session>;
  get(user: UserName | null, url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(user: UserName | null, url: string, payload?: unknown): Promise<LightMyRequestResponse>;
}

async function harness(w: World): Promise<Harness> {
  const clock = { ms: NOW_MS };
  const { app, ctx } = await buildServer({
    store: w.store,
    index: w.index,
    evidenceDirs: [w.evidenceDir],
    uploadDir: w.uploadDir,
    config: w.config,
    now: () => clock.ms,
    logLevel: process.env.TYNDAU_TEST_LOG ? 'error' : false,
  });
  const sessions = new Map<UserName, Session>();
  const as = async (user: UserName): Promise<Session> => {
    const known = sessions.get(user);
    if (known) return known;
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: USERS[user].username, password: PASSWORD },
    });
    if (r.statusCode !== 200) throw new Error(`login ${user}: ${r.statusCode} ${r.body}`);
    const s = {
      cookie: String(r.headers['set-cookie']).split(';')[0],
      csrf: (r.json() as { csrfToken: string }).csrfToken,
    };
    sessions.set(user, s);
    return s;
  };
  // a session cached here may have idled out while a test moved the clock: then sign in again, once
  const send = async (
    user: UserName | null,
    make: (s: Session | null) => Promise<LightMyRequestResponse>,
  ) => {
    const r = await make(user ? await as(user) : null);
    if (r.statusCode !== 401 || !user) return r;
    sessions.delete(user);
    return make(await as(user));
  };
  const get = (user: UserName | null, url: string, headers: Record<string, string> = {}) =>
    send(user, (s) =>
      app.inject({ method: 'GET', url, headers: s ? { cookie: s.cookie, ...headers } : headers }),
    );
  const post = (user: UserName | null, url: string, payload?: unknown) =>
    send(user, (s) =>
      app.inject({
        method: 'POST',
        url,
        payload: payload as object,
        headers: s ? { cookie: s.cookie, 'x-csrf-token': s.csrf } : {},
      }),
    );
  return { app, ctx, w, clock, as, get, post };
}

function errorOf(r: LightMyRequestResponse) {
  return (r.json() as { error: { statusCode: number; code: string; message: string } }).error;
}

/** The access rules and the main reads, run on SQLite and on PostgreSQL. */
function accessSuite(label: string, setup: () => Promise<Harness>) {
  describe(`roles and ownership (${label})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setup();
      const run = await h.post('operator', '/api/v1/accruals/runs', { period: PERIOD });
      expect(run.statusCode, run.body).toBe(200);
    });

    it('the public sees aggregate statistics only, and nothing else', async () => {
      const r = await h.get(null, '/api/v1/stats/public');
      expect(r.statusCode).toBe(200);
      const s = r.json();
      expect(s.channelsMonitored).toBe(3);
      expect(s.recordingsInCatalogue).toBe(4);
      expect(s.accruedByPeriod.map((p: { period: string }) => p.period)).toEqual([PERIOD]);
      for (const name of ['Demo Radio', 'Aigerim', 'Dala samaly', 'bc-demo', 'rh-', 'det-'])
        expect(r.body).not.toContain(name);
      for (const url of [
        '/api/v1/channels',
        '/api/v1/detections',
        `/api/v1/statements/rh-composer-1/${PERIOD}`,
        '/api/v1/recordings',
        '/api/v1/licences',
      ]) {
        const denied = await h.get(null, url);
        expect(denied.statusCode, url).toBe(401);
        expect(errorOf(denied).code).toBe('unauthenticated');
      }
    });

    it("a broadcaster sees its own channels and usage, and gets 404 for another broadcaster's by id", async () => {
      const chans = (await h.get('broadcaster', '/api/v1/channels')).json();
      expect(chans.items.map((c: { id: string }) => c.id)).toEqual(['demo-radio', 'demo-tv']);
      expect(chans.items[0].sources).toBeNull(); // source URLs may hold credentials
      expect((await h.get('broadcaster', '/api/v1/channels/other-fm')).statusCode).toBe(404);
      expect((await h.get('broadcaster', `/api/v1/detections/${h.w.det.x1}`)).statusCode).toBe(404);
      expect((await h.get('broadcaster', `/api/v1/detections/${h.w.det.x1}/evidence`)).statusCode).toBe(404);
      expect((await h.get('broadcaster', `/api/v1/usage-reports/bc-other/${PERIOD}`)).statusCode).toBe(404);
      const confirm = await h.post('broadcaster', `/api/v1/usage-reports/bc-other/${PERIOD}/confirm`, {
        all: true,
      });
      expect(confirm.statusCode).toBe(404);
      const dets = (await h.get('broadcaster', '/api/v1/detections?limit=100')).json();
      expect(new Set(dets.items.map((d: { channelId: string }) => d.channelId))).toEqual(
        new Set(['demo-radio', 'demo-tv']),
      );
      expect((await h.get('broadcaster', `/api/v1/statements/rh-composer-1/${PERIOD}`)).statusCode).toBe(403);
      expect(
        (await h.post('broadcaster', '/api/v1/detections/review', { ids: [h.w.det.a1], action: 'confirm' }))
          .statusCode,
      ).toBe(403);
      const own = await h.get('broadcaster', `/api/v1/usage-reports/bc-demo/${PERIOD}`);
      expect(own.statusCode).toBe(200);
      expect(own.json().rows.length).toBeGreaterThan(0);
    });

    it('a rights holder reaches only its own works, recordings, detections and statements', async () => {
      // composer-2 wrote rec-b only; composer-1 wrote rec-a and rec-c
      const dets = (await h.get('composer2', '/api/v1/detections?limit=100')).json();
      expect(new Set(dets.items.map((d: { recordingId: string }) => d.recordingId))).toEqual(
        new Set(['rec-b']),
      );
      for (const url of [
        `/api/v1/detections/${h.w.det.a1}`,
        `/api/v1/detections/${h.w.det.a1}/evidence`,
        '/api/v1/recordings/rec-a',
        '/api/v1/recordings/rec-a/audio',
        '/api/v1/works/w-rec-a',
        `/api/v1/statements/rh-composer-1/${PERIOD}`,
        '/api/v1/statements/rh-composer-1',
      ]) {
        expect((await h.get('composer2', url)).statusCode, url).toBe(404);
      }
      const recs = (await h.get('composer2', '/api/v1/recordings')).json();
      expect(recs.items.map((r: { id: string }) => r.id)).toEqual(['rec-b']);
      const own = (await h.get('composer2', `/api/v1/statements/rh-composer-2/${PERIOD}`)).json();
      expect(own.lines.length).toBeGreaterThan(0);
      // the trace of someone else's line is as unknown as a line that does not exist
      const other = (await h.get('composer1', `/api/v1/statements/rh-composer-1/${PERIOD}`)).json();
      const seq = other.lines[0].lineSeq;
      expect((await h.get('composer1', `/api/v1/accrual-lines/${seq}/trace`)).statusCode).toBe(200);
      expect((await h.get('composer2', `/api/v1/accrual-lines/${seq}/trace`)).statusCode).toBe(404);
      expect((await h.get('composer2', '/api/v1/accrual-lines/999999/trace')).statusCode).toBe(404);
      expect((await h.get('composer2', '/api/v1/channels')).statusCode).toBe(403);
      expect((await h.get('composer2', '/api/v1/licences')).statusCode).toBe(403);
    });

    it("a CMO reviewer reaches its licensees' channels and its licences, not another CMO's", async () => {
      const lic = (await h.get('reviewer', '/api/v1/licences')).json();
      expect(lic.items.map((l: { id: string }) => l.id)).toEqual(['lic-demo-related']);
      const dets = (
        await h.get(
          'reviewer',
          '/api/v1/detections?status=pending&status=confirmed&status=rejected&limit=100',
        )
      ).json();
      expect(dets.items.every((d: { channelId: string }) => d.channelId !== 'other-fm')).toBe(true);
      expect(dets.total).toBe(6);
      expect((await h.get('reviewer', `/api/v1/detections/${h.w.det.x2}`)).statusCode).toBe(404);
      expect((await h.get('reviewer', `/api/v1/usage-reports/bc-other/${PERIOD}`)).statusCode).toBe(404);
      expect((await h.get('reviewer', `/api/v1/statements/rh-other/${PERIOD}`)).statusCode).toBe(404);
      expect((await h.get('reviewer', '/api/v1/tariffs/tar-other')).statusCode).toBe(404);
      expect((await h.get('reviewer', '/api/v1/tariffs/tar-related-broadcast')).statusCode).toBe(200);
      // a batch with one foreign id changes nothing at all
      const before = await h.w.store.db
        .selectFrom('detections')
        .select(['id', 'status'])
        .where('id', 'in', [h.w.det.b1, h.w.det.x2])
        .execute();
      const r = await h.post('reviewer', '/api/v1/detections/review', {
        ids: [h.w.det.b1, h.w.det.x2],
        action: 'reject',
      });
      expect(r.statusCode).toBe(404);
      expect(errorOf(r).message).toContain(h.w.det.x2);
      const after = await h.w.store.db
        .selectFrom('detections')
        .select(['id', 'status'])
        .where('id', 'in', [h.w.det.b1, h.w.det.x2])
        .execute();
      expect(after).toEqual(before);
      // the other CMO's reviewer sees only the other channel
      const other = (await h.get('otherReviewer', '/api/v1/detections?limit=100')).json();
      expect(new Set(other.items.map((d: { channelId: string }) => d.channelId))).toEqual(
        new Set(['other-fm']),
      );
      // money shown to a reviewer is its own CMO's only
      const a2 = (await h.get('reviewer', `/api/v1/detections/${h.w.det.a2}`)).json().detection;
      const a2all = (await h.get('operator', `/api/v1/detections/${h.w.det.a2}`)).json().detection;
      expect(a2.accruedTiyn).toBeGreaterThan(0);
      expect(a2all.accruedTiyn).toBeGreaterThan(a2.accruedTiyn);
    });

    it('a registrar works the catalogue but sees no airplay or money', async () => {
      expect(
        (await h.get('registrar', '/api/v1/recordings?q=samaly'))
          .json()
          .items.map((r: { id: string }) => r.id),
      ).toEqual(['rec-a']);
      // the producer "Dala Records" of every demo recording is found by name too
      expect((await h.get('registrar', '/api/v1/recordings?q=dala')).json().total).toBe(3);
      for (const url of [
        '/api/v1/detections',
        '/api/v1/channels',
        '/api/v1/licences',
        `/api/v1/usage-reports/bc-demo/${PERIOD}`,
        '/api/v1/stats/operator',
      ]) {
        expect((await h.get('registrar', url)).statusCode, url).toBe(403);
      }
      expect((await h.post('registrar', '/api/v1/accruals/runs', { period: PERIOD })).statusCode).toBe(403);
    });

    it('the operator sees everything', async () => {
      const all = (
        await h.get(
          'operator',
          '/api/v1/detections?status=pending&status=confirmed&status=rejected&limit=100',
        )
      ).json();
      expect(all.total).toBe(8);
      const st = (await h.get('operator', '/api/v1/stats/operator')).json();
      expect(st.period).toBe(PERIOD);
      expect(st.cmos.map((c: { cmoId: string }) => c.cmoId).sort()).toEqual([
        'cmo-authors',
        'cmo-other',
        'cmo-related',
      ]);
      const authors = st.cmos.find((c: { cmoId: string }) => c.cmoId === 'cmo-authors');
      // the ledger reconciles: what was collected is accrued to holders or held in reserve
      expect(authors.collectedTiyn).toBe(authors.accruedTiyn + authors.undistributedTiyn);
      expect(authors.accruedTiyn).toBe(authors.deductedTiyn + authors.netTiyn);
      expect((await h.get('operator', '/api/v1/ledger/verify')).json().ok).toBe(true);
    });
  });
}

// ---- SQLite: everything ------------------------------------------------------------------------------

let shared: Harness;
beforeAll(async () => {
  shared = await harness(
    await makeWorld({
      config: { loginFailuresPerUser: 3, loginFailuresPerIp: 5, uploadMaxBytes: 512 * 1024 },
    }),
  );
  const run = await shared.post('operator', '/api/v1/accruals/runs', { period: PERIOD });
  expect(run.statusCode, run.body).toBe(200);
});
accessSuite('SQLite', async () => shared);

afterAll(async () => {
  await shared?.app.close();
  await shared?.w.close();
});

describe('API contract', () => {
  it('publishes an OpenAPI 3.1 document covering every route, and interactive docs', async () => {
    const r = await shared.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/detections',
      '/api/v1/detections/{id}/evidence',
      '/api/v1/detections/review',
      '/api/v1/recordings',
      '/api/v1/catalogue/import',
      '/api/v1/accruals/runs',
      '/api/v1/statements/{holderId}/{period}',
      '/api/v1/usage-reports/{licenseeId}/{period}/disputes',
      '/api/v1/ledger/verify',
      '/api/v1/stats/public',
      '/api/v1/auth/login',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(shared.app.hasRoute({ method: 'GET', url: '/api/v1/channels/:id/day' })).toBe(true);
    expect(doc.components.schemas.Error).toBeDefined();
    expect(paths.filter((p) => !p.startsWith('/api/v1/'))).toEqual([]); // the pages are not API
    const ui = await shared.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('answers every error with one body shape', async () => {
    const unknown = await shared.get('operator', '/api/v1/nothing-here');
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown)).toMatchObject({ statusCode: 404, code: 'not_found' });
    const invalid = await shared.get('operator', '/api/v1/detections?limit=0');
    expect(invalid.statusCode).toBe(400);
    expect(errorOf(invalid).code).toBe('invalid_request');
    expect(errorOf(invalid).message).toMatch(/limit/);
    const badPeriod = await shared.get('operator', '/api/v1/statements/rh-composer-1/2026-13');
    expect(badPeriod.statusCode).toBe(400);
    expect(errorOf(badPeriod).message).toMatch(/2026-13/);
    const badTime = await shared.get('operator', '/api/v1/detections?from=yesterday');
    expect(errorOf(badTime)).toMatchObject({ statusCode: 400, code: 'invalid_input' });
    expect(errorOf(badTime).message).toContain('"yesterday"');
  });

  it('paginates and filters detections by channel, period, recording, rights holder and status', async () => {
    const q = (s: string) => shared.get('operator', `/api/v1/detections?${s}`).then((r) => r.json());
    const p1 = await q('limit=3&status=pending&status=confirmed&status=rejected');
    expect(p1.items).toHaveLength(3);
    expect(p1.total).toBe(8);
    expect(p1.nextOffset).toBe(3);
    const p3 = await q('limit=3&offset=6&status=pending&status=confirmed&status=rejected');
    expect(p3.items).toHaveLength(2);
    expect(p3.nextOffset).toBeNull();
    const seen = new Set(
      [
        ...p1.items,
        ...(await q('limit=3&offset=3&status=pending&status=confirmed&status=rejected')).items,
        ...p3.items,
      ].map((d: { id: string }) => d.id),
    );
    expect(seen.size).toBe(8);
    expect((await q('channel=demo-tv')).items.map((d: { id: string }) => d.id).sort()).toEqual([
      'det-b2',
      'det-c1',
    ]);
    expect((await q('recording=rec-a')).total).toBe(3);
    expect(
      (await q('holder=rh-composer-2')).items.map((d: { recordingId: string }) => d.recordingId),
    ).toEqual(['rec-b', 'rec-b']);
    expect((await q(`period=${PERIOD}&status=rejected`)).items.map((d: { id: string }) => d.id)).toEqual([
      'det-c2',
    ]);
    expect((await q('period=2026-01')).total).toBe(0);
    expect((await q('from=2026-02-05&to=2026-02-07')).items.map((d: { id: string }) => d.id).sort()).toEqual([
      'det-c1',
      'det-c2',
    ]);
    const byConfidence = (await q('sort=confidence&limit=100')).items.map(
      (d: { confidence: number }) => d.confidence,
    );
    expect(byConfidence).toEqual([...byConfidence].sort((a, b) => a - b));
    const byMoney = (await q('sort=money&limit=100')).items.map(
      (d: { atStakeTiyn: number | null }) => d.atStakeTiyn ?? -1,
    );
    expect(byMoney).toEqual([...byMoney].sort((a, b) => b - a));
  });

  it('exports detections as CSV', async () => {
    const r = await shared.get('operator', '/api/v1/detections?format=csv&channel=demo-tv');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/csv/);
    const lines = r.body.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^id,channel,channel_name,local_start/);
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('det-c1,demo-tv,Demo TV,2026-02-05 07:30:00'))).toBe(true);
  });

  it('streams evidence audio with range requests', async () => {
    const url = `/api/v1/detections/${shared.w.det.a1}/evidence`;
    const full = await shared.get('operator', url);
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('audio/mpeg');
    expect(full.headers['accept-ranges']).toBe('bytes');
    const size = full.rawPayload.length;
    expect(size).toBeGreaterThan(10_000);
    expect(full.rawPayload.subarray(0, 3).toString('latin1') === 'ID3' || full.rawPayload[0] === 0xff).toBe(
      true,
    );
    const part = await shared.get('operator', url, { range: 'bytes=100-199' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${size}`);
    expect(part.rawPayload.equals(full.rawPayload.subarray(100, 200))).toBe(true);
    const tail = await shared.get('operator', url, { range: 'bytes=-50' });
    expect(tail.rawPayload.equals(full.rawPayload.subarray(size - 50))).toBe(true);
    const outside = await shared.get('operator', url, { range: `bytes=${size + 10}-` });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${size}`);
    // the rights holder of the recording may listen too
    expect((await shared.get('composer1', url)).statusCode).toBe(200);
  });
});

describe('authentication', () => {
  it('stores passwords as scrypt hashes and sets an HttpOnly, SameSite session cookie', async () => {
    const row = await shared.w.store.db
      .selectFrom('users')
      .select('password_hash')
      .where('username', '=', 'operator')
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$4096\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    const r = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'registrar', password: PASSWORD },
    });
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const session = await shared.w.store.db.selectFrom('sessions').select('id').execute();
    const secret = cookie.split(';')[0].split('=')[1];
    expect(session.some((s) => s.id === secret)).toBe(false); // only its hash is stored
    const me = await shared.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: cookie.split(';')[0] },
    });
    expect(me.json().user.role).toBe('registrar');
  });

  it('marks cookies Secure with the __Host- prefix unless told the deployment is plain HTTP', async () => {
    const { app } = await buildServer({
      store: shared.w.store,
      config: { scryptN: 2 ** 12 },
      now: () => NOW_MS,
    });
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'registrar', password: PASSWORD },
    });
    expect(String(r.headers['set-cookie'])).toMatch(
      /^__Host-tyndau-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax/,
    );
    await app.close();
  });

  it('refuses wrong passwords alike for known and unknown users, and limits failed attempts', async () => {
    const login = (username: string, password: string, ip: string) =>
      shared.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password },
        remoteAddress: ip,
      });
    const wrong = await login('composer1', 'not the password', '10.1.1.1');
    const nobody = await login('nobody', 'not the password', '10.1.1.1');
    expect(wrong.statusCode).toBe(401);
    expect(errorOf(wrong).message).toBe(errorOf(nobody).message);
    // per account: three failures (one above) and the account is held, from any address
    await login('composer1', 'still wrong', '10.1.1.2');
    await login('composer1', 'wrong again', '10.1.1.3');
    const held = await login('composer1', PASSWORD, '10.1.1.4');
    expect(held.statusCode).toBe(429);
    expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
    // per address: five failures from one address hold every account from it
    for (const u of ['a1', 'a2', 'a3']) await login(u, 'x', '10.1.1.1');
    const fromIp = await login('composer2', PASSWORD, '10.1.1.1');
    expect(fromIp.statusCode).toBe(429);
    expect((await login('composer2', PASSWORD, '10.1.1.9')).statusCode).toBe(200);
    // the window passes
    shared.clock.ms += 16 * 60_000;
    expect((await login('composer1', PASSWORD, '10.1.1.4')).statusCode).toBe(200);
    shared.clock.ms = NOW_MS;
    const audit = await shared.w.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'auth.login_failed')
      .execute();
    expect(audit.length).toBeGreaterThanOrEqual(6);
  });

  it('needs the CSRF token for changes made with a session, and refuses cross-site origins', async () => {
    const s = await shared.as('reviewer');
    const body = { ids: [shared.w.det.b1], action: 'confirm' };
    const none = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/detections/review',
      payload: body,
      headers: { cookie: s.cookie },
    });
    expect(none.statusCode).toBe(403);
    expect(errorOf(none).code).toBe('csrf_failed');
    const wrong = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/detections/review',
      payload: body,
      headers: { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(32) },
    });
    expect(wrong.statusCode).toBe(403);
    const cross = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/detections/review',
      payload: body,
      headers: {
        cookie: s.cookie,
        'x-csrf-token': s.csrf,
        origin: 'https://evil.example',
        host: 'localhost:80',
      },
    });
    expect(cross.statusCode).toBe(403);
    const status = await shared.w.store.db
      .selectFrom('detections')
      .select('status')
      .where('id', '=', shared.w.det.b1)
      .executeTakeFirstOrThrow();
    expect(status.status).toBe('pending');
    // a login form (not JSON) must echo the login cookie's token
    const form = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: `username=registrar&password=${encodeURIComponent(PASSWORD)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(403);
  });

  it('ends sessions on logout, after idling and when the account is disabled', async () => {
    const login = async (u: string) => {
      const r = await shared.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: u, password: PASSWORD },
      });
      return { cookie: String(r.headers['set-cookie']).split(';')[0], csrf: r.json().csrfToken as string };
    };
    const me = (c: string) =>
      shared.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: c } });
    const a = await login('registrar');
    expect((await me(a.cookie)).statusCode).toBe(200);
    await shared.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
    });
    expect((await me(a.cookie)).statusCode).toBe(401);
    const b = await login('registrar');
    shared.clock.ms += shared.ctx.config.sessionIdleMs + 1000;
    expect((await me(b.cookie)).statusCode).toBe(401);
    shared.clock.ms = NOW_MS;
    const c = await login('otherholder');
    const op = await shared.as('operator');
    const dis = await shared.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${shared.w.userIds.otherHolder}`,
      payload: { disabled: true },
      headers: { cookie: op.cookie, 'x-csrf-token': op.csrf },
    });
    expect(dis.statusCode).toBe(200);
    expect((await me(c.cookie)).statusCode).toBe(401);
    const again = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'otherholder', password: PASSWORD },
      remoteAddress: '10.2.2.2',
    });
    expect(again.statusCode).toBe(401);
  });

  it('authenticates capture nodes and integrations with API tokens, and forgets revoked ones', async () => {
    const issued = await shared.post('operator', '/api/v1/auth/tokens', {
      name: 'capture node 1',
      userId: shared.w.userIds.node,
    });
    expect(issued.statusCode).toBe(201);
    const { token, info } = issued.json();
    expect(token).toMatch(/^tyd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = await shared.w.store.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', info.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(token.slice(-20));
    const bearer = { authorization: `Bearer ${token}` };
    const chans = await shared.app.inject({ method: 'GET', url: '/api/v1/channels', headers: bearer });
    expect(chans.statusCode).toBe(200);
    expect(chans.json().items.map((c: { id: string }) => c.id)).toEqual(['demo-radio', 'demo-tv']);
    expect(chans.json().items[0].sources).toEqual(['http://radio.example/live.mp3']);
    expect(
      (await shared.app.inject({ method: 'GET', url: '/api/v1/detections', headers: bearer })).statusCode,
    ).toBe(403);
    // tokens need no CSRF token (they are not sent by browsers on their own)
    const rev = await shared.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/tokens/${info.id}`,
      headers: bearer,
    });
    expect(rev.statusCode).toBe(204);
    const after = await shared.app.inject({ method: 'GET', url: '/api/v1/channels', headers: bearer });
    expect(after.statusCode).toBe(401);
    expect(errorOf(after).message).toMatch(/unknown, revoked or expired/);
    // only the operator issues tokens for another account
    const denied = await shared.post('registrar', '/api/v1/auth/tokens', {
      name: 'x',
      userId: shared.w.userIds.operator,
    });
    expect(denied.statusCode).toBe(403);
  });
});

describe('review, accrual and the cabinets', () => {
  it('confirms, rejects and reassigns in bulk, logging who and when', async () => {
    const r = await shared.post('reviewer', '/api/v1/detections/review', {
      ids: [shared.w.det.a1, shared.w.det.b1],
      action: 'confirm',
      note: 'heard both',
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().updated).toBe(2);
    const detail = (await shared.get('reviewer', `/api/v1/detections/${shared.w.det.b1}`)).json();
    expect(detail.detection.status).toBe('confirmed');
    expect(detail.history).toHaveLength(1);
    expect(detail.history[0]).toMatchObject({
      actorName: 'reviewer',
      actorRole: 'cmo_reviewer',
      action: 'detection.confirm',
      atMs: NOW_MS,
    });
    expect(detail.history[0].detail).toMatchObject({
      from: { status: 'pending' },
      to: { status: 'confirmed' },
      note: 'heard both',
      bulk: 2,
    });
    const noTarget = await shared.post('reviewer', '/api/v1/detections/review', {
      ids: [shared.w.det.c2],
      action: 'reassign',
    });
    expect(noTarget.statusCode).toBe(400);
    expect(errorOf(noTarget).message).toMatch(/recordingId/);
    // a reviewer reassigns only to its CMO's repertoire
    const foreign = await shared.post('reviewer', '/api/v1/detections/review', {
      ids: [shared.w.det.c2],
      action: 'reassign',
      recordingId: 'rec-x',
    });
    expect(foreign.statusCode).toBe(404);
    const ok = await shared.post('reviewer', '/api/v1/detections/review', {
      ids: [shared.w.det.c2],
      action: 'reassign',
      recordingId: 'rec-b',
    });
    expect(ok.statusCode).toBe(200);
    const moved = (await shared.get('operator', `/api/v1/detections/${shared.w.det.c2}`)).json();
    expect(moved.detection).toMatchObject({ status: 'reassigned', recordingId: 'rec-b' });
    expect(moved.history[0].detail).toMatchObject({
      from: { recordingId: 'rec-c', status: 'rejected' },
      to: { recordingId: 'rec-b' },
    });
  });

  it('re-accrues after the review, explains a line back to the airplay, rule and share, and exports statements', async () => {
    const run = await shared.post('operator', '/api/v1/accruals/runs', { period: PERIOD });
    expect(run.statusCode).toBe(200);
    expect(run.json().changed).toBe(true); // det-c2 now counts for rec-b
    const s = (await shared.get('composer2', `/api/v1/statements/rh-composer-2/${PERIOD}`)).json();
    const line = s.lines.find(
      (l: { detectionId: string; kind: string }) => l.detectionId === shared.w.det.c2 && l.kind === 'accrual',
    );
    expect(line).toBeDefined();
    const tr = (await shared.get('composer2', `/api/v1/accrual-lines/${line.lineSeq}/trace`)).json();
    expect(tr.trace.detection.id).toBe(shared.w.det.c2);
    expect(tr.trace.share.holderId).toBe('rh-composer-2');
    expect(tr.trace.tariffVersion.id).toMatch(/@v1$/);
    expect(tr.explanation).toContain(`detection ${shared.w.det.c2}`);
    const csv = await shared.get('composer2', `/api/v1/statements/rh-composer-2/${PERIOD}?format=csv`);
    expect(csv.headers['content-disposition']).toContain(`statement-rh-composer-2-${PERIOD}.csv`);
    expect(csv.body.split('\n')[0]).toMatch(/^line,kind,period/);
    const periods = (await shared.get('composer2', '/api/v1/statements/rh-composer-2')).json();
    expect(periods.periods).toEqual([PERIOD]);
  });

  it('lets the broadcaster confirm and dispute usage lines before the deadline, and a reviewer resolve the dispute', async () => {
    const url = `/api/v1/usage-reports/bc-demo/${PERIOD}`;
    const report = (await shared.get('broadcaster', url)).json();
    expect(report.open).toBe(true);
    expect(report.deadlineMs).toBeGreaterThan(NOW_MS);
    const [first, second] = report.rows;
    expect(
      (await shared.post('broadcaster', `${url}/confirm`, { detectionIds: [first.detectionId] })).json()
        .confirmed,
    ).toBe(1);
    const d = await shared.post('broadcaster', `${url}/disputes`, {
      detectionId: second.detectionId,
      reason: 'a trailer, not the song',
    });
    expect(d.statusCode).toBe(201);
    const disputeId = d.json().disputeId;
    const twice = await shared.post('broadcaster', `${url}/disputes`, {
      detectionId: second.detectionId,
      reason: 'again',
    });
    expect(twice.statusCode).toBe(409);
    const after = (await shared.get('broadcaster', url)).json();
    const status = new Map(
      after.rows.map((r: { detectionId: string; status: string }) => [r.detectionId, r.status]),
    );
    expect(status.get(first.detectionId)).toBe('confirmed');
    expect(status.get(second.detectionId)).toBe('disputed');
    const csv = await shared.get('broadcaster', `${url}?format=csv`);
    expect(csv.body.split('\n')[0]).toMatch(/^detection,channel/);
    const cue = await shared.get('broadcaster', `${url}?format=cuesheet`);
    expect(cue.body.split('\n')[0]).toMatch(/^channel,date,start/);
    // the reviewer of another CMO cannot resolve it; the broadcaster neither
    expect(
      (
        await shared.post('otherReviewer', `/api/v1/disputes/${disputeId}/resolve`, {
          accept: true,
          note: 'x',
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await shared.post('broadcaster', `/api/v1/disputes/${disputeId}/resolve`, { accept: true, note: 'x' }))
        .statusCode,
    ).toBe(403);
    const res = await shared.post('reviewer', `/api/v1/disputes/${disputeId}/resolve`, {
      accept: true,
      note: 'checked the air-check',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ dispute: { status: 'accepted' }, reaccrued: true });
    const final = (await shared.get('broadcaster', url)).json();
    expect(
      final.rows.find((r: { detectionId: string }) => r.detectionId === second.detectionId),
    ).toBeUndefined();
    // after the deadline nothing can be confirmed any more
    shared.clock.ms = report.deadlineMs + 1000;
    const late = await shared.post('broadcaster', `${url}/confirm`, { all: true });
    shared.clock.ms = NOW_MS;
    expect(late.statusCode).toBe(409);
    expect(errorOf(late).message).toMatch(/closed/);
    expect((await shared.get('operator', '/api/v1/ledger/verify')).json().ok).toBe(true);
  });

  it("publishes tariff versions for the reviewer's own CMO only", async () => {
    const rules = {
      basis: { kind: 'per_second', rateTiyn: '3' },
      rightTypeSplit: { performer: '50', producer: '50' },
    };
    const other = await shared.post('reviewer', '/api/v1/tariffs/tar-other/versions', {
      validFrom: '2026-05',
      rules,
    });
    expect(other.statusCode).toBe(404);
    const bad = await shared.post('reviewer', '/api/v1/tariffs/tar-related-broadcast/versions', {
      validFrom: '2026-05',
      rules: { basis: { kind: 'per_second' } },
    });
    expect(bad.statusCode).toBe(400);
    const ok = await shared.post('reviewer', '/api/v1/tariffs/tar-related-broadcast/versions', {
      validFrom: '2026-05',
      rules,
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().version).toBe(2);
    const t = (await shared.get('broadcaster', '/api/v1/tariffs/tar-related-broadcast')).json();
    expect(t.versions.map((v: { validFrom: string }) => v.validFrom)).toEqual(['2026-01-01', '2026-05-01']);
  });
});

describe('catalogue', () => {
  it('enrols an uploaded recording, refuses its duplicate and a taken ISRC, and names bad audio', async () => {
    const { ensureSong } = await import('./helpers/catalogue.js');
    const { readFileSync } = await import('node:fs');
    const wav = readFileSync(ensureSong(901, 6, 8000));
    const upload = (fields: Record<string, string>, file: Buffer, name = 'song.wav') => {
      const boundary = '----tyndau';
      const parts = Object.entries(fields).map(
        ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
      );
      const body = Buffer.concat([
        Buffer.from(parts.join('')),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: audio/wav\r\n\r\n`,
        ),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return shared.as('registrar').then((s) =>
        shared.app.inject({
          method: 'POST',
          url: '/api/v1/recordings',
          payload: body,
          headers: {
            cookie: s.cookie,
            'x-csrf-token': s.csrf,
            'content-type': `multipart/form-data; boundary=${boundary}`,
          },
        }),
      );
    };
    const first = await upload({ title: 'Jańa án', isrc: 'KZ-T01-26-00077', workId: 'w-rec-a' }, wav);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ status: 'enrolled', recordingId: 'KZT012600077' });
    expect(shared.w.index.get('KZT012600077')).toBeDefined();
    const rec = (await shared.get('registrar', '/api/v1/recordings/KZT012600077')).json();
    expect(rec.recording.works).toEqual([{ workId: 'w-rec-a', portionBp: 10000 }]);
    expect(rec.enrolled.durationSec).toBeCloseTo(6, 0);
    const audio = await shared.get('registrar', '/api/v1/recordings/KZT012600077/audio', {
      range: 'bytes=0-43',
    });
    expect(audio.statusCode).toBe(206);
    expect(audio.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    const dup = await upload({ title: 'Same audio', id: 'copy-1' }, wav);
    expect(dup.statusCode).toBe(200);
    expect(dup.json()).toMatchObject({ status: 'duplicate', duplicateOf: 'KZT012600077' });
    expect(
      await shared.w.store.db
        .selectFrom('recordings')
        .select('id')
        .where('id', '=', 'copy-1')
        .executeTakeFirst(),
    ).toBeUndefined();
    const taken = await upload({ title: 'Other', isrc: 'KZT012600077', id: 'other-id' }, wav);
    expect(taken.statusCode).toBe(409);
    expect(errorOf(taken).message).toMatch(/ISRC KZT012600077 is already recording KZT012600077/);
    const notAudio = await upload(
      { title: 'Not audio', id: 'not-audio' },
      Buffer.from('this is a text file, not audio\n'.repeat(20)),
      'notes.mp3',
    );
    expect(notAudio.statusCode).toBe(400);
    expect(errorOf(notAudio).message).toMatch(/^notes\.mp3: /);
    const big = await upload({ title: 'Too big', id: 'too-big' }, Buffer.alloc(600 * 1024, 1));
    expect(big.statusCode).toBe(413);
    expect(errorOf(big).code).toBe('too_large');
    const badIsrc = await upload({ title: 'Bad ISRC', isrc: 'KZ-12' }, wav);
    expect(badIsrc.statusCode).toBe(400);
    expect(errorOf(badIsrc).message).toMatch(/ISRC/);
    const audit = await shared.w.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'recording.enrol')
      .execute();
    expect(audit.map((a) => a.subject_id)).toEqual(['KZT012600077']);
    expect((await shared.get('broadcaster', '/api/v1/recordings')).statusCode).toBe(403);
  });

  it('imports a catalogue CSV row by row, reporting each rejected row', async () => {
    const csv =
      'id,kind,name,iin\nrh-new-1,person,New Composer,\nrh-new-2,robot,Bad Kind,\nrh-new-3,person,Third Person,123\n';
    const s = await shared.as('registrar');
    const r = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/catalogue/import?kind=holders',
      payload: csv,
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'text/csv' },
    });
    expect(r.statusCode, r.body).toBe(200);
    const { format, report } = r.json();
    expect(format).toBe('csv');
    expect(report.accepted).toBe(1);
    expect(report.rejected).toBe(2);
    expect(report.rows.map((x: { line: number; status: string }) => [x.line, x.status])).toEqual([
      [2, 'accepted'],
      [3, 'rejected'],
      [4, 'rejected'],
    ]);
    expect(report.rows[1].message).toMatch(/kind/);
    expect(report.rows[2].message).toMatch(/IIN/);
    const empty = await shared.app.inject({
      method: 'POST',
      url: '/api/v1/catalogue/import',
      payload: '  ',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'text/csv' },
    });
    expect(empty.statusCode).toBe(400);
    const holders = (await shared.get('registrar', '/api/v1/holders?q=New%20Composer')).json();
    expect(holders.items.map((h: { id: string }) => h.id)).toEqual(['rh-new-1']);
  });
});

// ---- PostgreSQL: the same access rules and reads ------------------------------------------------------

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const dbName = `tyndau_api_${process.pid}_${Date.now()}`;
let pgHarness: Harness | null = null;
let admin: pg.Client | null = null;
accessSuite('PostgreSQL', async () => {
  admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  pgHarness = await harness(await makeWorld({ url: `postgres://postgres@127.0.0.1:5432/${dbName}` }));
  return pgHarness;
});

afterAll(async () => {
  await pgHarness?.app.close();
  await pgHarness?.w.close();
  if (!admin) return;
  for (let i = 0; i < 50; i++) {
    const { rows } = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [
      dbName,
    ]);
    if (rows[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await admin.query(`drop database if exists ${dbName}`);
  await admin.end();
});

// ---- the CLI: accounts, tokens, and `tyndau serve` as its own process -----------------------------------

describe('tyndau users and tyndau serve', () => {
  it('creates accounts and tokens from the command line, and serves the API and pages with them', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { main } = await import('../src/cli/main.js');
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-serve-'));
    const db = `sqlite:${join(dir, 'tyndau.db')}`;
    /** Runs the CLI in this process, with a password in TYNDAU_PASSWORD; returns its exit code and output. */
    const cli = async (args: string[], password = '') => {
      const out: string[] = [];
      const err: string[] = [];
      const write = { out: process.stdout.write, err: process.stderr.write };
      process.stdout.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stdout.write;
      process.stderr.write = ((c: string) => err.push(String(c)) > 0) as typeof process.stderr.write;
      const saved = process.env.TYNDAU_PASSWORD;
      process.env.TYNDAU_PASSWORD = password;
      try {
        const code = await main([...args, '--db', db]);
        return { code, stdout: out.join(''), stderr: err.join('') };
      } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
        process.env.TYNDAU_PASSWORD = saved;
      }
    };
    try {
      const add = await cli(['users', 'add', 'Ops', '--role', 'operator'], 'a long enough password');
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/^u-[0-9a-f]{16}\tops\toperator\n$/);
      const short = await cli(['users', 'add', 'two', '--role', 'operator'], 'short');
      expect(short.code).toBe(2);
      expect(short.stderr).toContain('password must have at least 10 characters');
      const noPassword = await cli(['users', 'add', 'four', '--role', 'operator']);
      expect(noPassword.stderr).toContain(
        'give the password on standard input (--password-stdin) or in TYNDAU_PASSWORD',
      );
      const badRole = await cli(['users', 'add', 'three', '--role', 'admin', '--no-password']);
      expect(badRole.stderr).toContain('--role must be one of operator, cmo_reviewer');
      const scoped = await cli(['users', 'add', 'bc', '--role', 'broadcaster', '--no-password']);
      expect(scoped.stderr).toContain('a broadcaster account needs licenseeId');
      const token = await cli(['users', 'token', 'ops', '--name', 'integration test']);
      expect(token.code, token.stderr).toBe(0);
      const secret = token.stdout.trim();
      expect(secret).toMatch(/^tyd_/);
      expect((await cli(['users', 'list'])).stdout).toMatch(/^ops\toperator\t\tactive\tops$/m);

      const server = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/bin.ts',
          'serve',
          '--port',
          '0',
          '--db',
          db,
          '--index',
          join(dir, 'index'),
          '--log-level',
          'warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let err = '';
          server.stderr.on('data', (b: Buffer) => {
            err += b.toString();
            const m = /tyndau serve: (http:\/\/[^/]+)\//.exec(err);
            if (m) resolve(m[1]);
          });
          server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
        });
        const me = await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${secret}` } });
        expect(me.status).toBe(200);
        expect((await me.json()).user.username).toBe('ops');
        const home = await fetch(`${url}/`, { headers: { 'accept-language': 'ru' } });
        expect(await home.text()).toContain('<html lang="ru">');
        const login = await fetch(`${url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'ops', password: 'a long enough password' }),
        });
        expect(login.status).toBe(200);
        expect(login.headers.get('set-cookie')).toMatch(/^__Host-tyndau-session=.*; Secure; SameSite=Lax/);
      } finally {
        server.kill('SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
      expect((await cli(['users', 'disable', 'ops'])).code).toBe(0);
      expect((await cli(['users', 'list'])).stdout).toMatch(/^ops\toperator\t\tdisabled/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
