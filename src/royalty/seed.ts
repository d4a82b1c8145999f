import {
  iswcCheckDigit,
  parseDateMs,
  withIpiCheckDigits,
  withKzCheckDigit,
  type RightType,
} from '../catalog/index.js';
import type { Store } from '../store/index.js';
import { RoyaltyRepository } from './repo.js';
import type { TariffRules } from './rules.js';

/**
 * Demo catalogue for `npm start` and the tests: an authors' CMO and a related-rights CMO, rights holders
 * with valid IIN/BIN/IPI numbers, a work per recording with shares, a broadcaster with two channels,
 * licences and tariffs (a per-second tariff with dayparts for authors, a revenue pool for related
 * rights). Idempotent: calling it again changes nothing that exists.
 */

export const DEMO = {
  authorsCmo: 'cmo-authors',
  relatedCmo: 'cmo-related',
  broadcaster: 'bc-demo',
  channels: ['demo-radio', 'demo-tv'],
  authorsTariff: 'tar-authors-broadcast',
  relatedTariff: 'tar-related-broadcast',
  validFrom: '2026-01-01',
} as const;

export const DEMO_AUTHORS_RULES: TariffRules = {
  basis: { kind: 'per_second', rateTiyn: '2' },
  rightTypeSplit: { performing: '100' },
  dayparts: [
    { from: '00:00', to: '06:00', coefficient: '0.5' },
    { from: '06:00', to: '10:00', coefficient: '1.5' },
    { from: '17:00', to: '20:00', coefficient: '1.25' },
  ],
  channelWeights: { 'demo-tv': '1.2' },
  useTypeWeights: { background: '0.5', under_speech: '0.25' },
  administration: { percent: '15' },
};

export const DEMO_RELATED_RULES: TariffRules = {
  basis: { kind: 'revenue_pool', percent: '1' },
  rightTypeSplit: { performer: '50', producer: '50' },
  useTypeWeights: { background: '0.5', under_speech: '0.5' },
  minimumFee: { mci: '10' },
  administration: { percent: '10' },
};

export interface DemoSeedOptions {
  /** Recording ids (as enrolled in the fingerprint index) to register, each with its own work. */
  recordings: string[];
  /** Titles for those recordings, if known. */
  titles?: Record<string, string>;
  /** Channels of the demo broadcaster (created if missing, else attached to it). */
  channels?: Array<{ id: string; name: string; kind: 'tv' | 'radio' | 'cable'; timeZone: string }>;
  /** Declared revenue of the broadcaster per period, for the revenue-pool tariff. */
  revenue?: Array<{ period: string; revenueTiyn: number }>;
  now?: () => number;
}

export interface DemoSeedResult {
  cmos: string[];
  holders: string[];
  works: string[];
  recordings: string[];
  broadcaster: string;
  channels: string[];
  licences: string[];
  tariffVersions: string[];
}

/** 11 digits + check digit; bumps the serial until the number is one that can be issued. */
function kzNumber(prefix: string, serial: number): string {
  for (let s = serial; ; s++) {
    const n = withKzCheckDigit(`${prefix}${String(s).padStart(11 - prefix.length, '0')}`);
    if (n) return n;
  }
}

function iswc(n: number): string {
  const nine = String(100_000_000 + n).slice(-9);
  return `T${nine}${iswcCheckDigit(nine)}`;
}

export async function seedDemoCatalogue(store: Store, opts: DemoSeedOptions): Promise<DemoSeedResult> {
  const repo = new RoyaltyRepository(store, opts.now);
  const cat = repo.catalog;
  const from = parseDateMs(DEMO.validFrom);
  await cat.addCmo({
    id: DEMO.authorsCmo,
    name: "Authors' Society of Kazakhstan (demo)",
    bin: kzNumber('0204400', 101),
    rightTypes: ['performing'],
  });
  await cat.addCmo({
    id: DEMO.relatedCmo,
    name: 'Related Rights Society of Kazakhstan (demo)',
    bin: kzNumber('0505400', 202),
    rightTypes: ['performer', 'producer'],
  });

  const people = [
    {
      id: 'rh-composer-1',
      name: 'Aigerim Nurlanovna (demo)',
      iin: kzNumber('8503124', 1001),
      ipi: withIpiCheckDigits('000100001'),
      roles: ['composer'] as const,
    },
    {
      id: 'rh-composer-2',
      name: 'Daulet Serikuly (demo)',
      iin: kzNumber('7911023', 1002),
      ipi: withIpiCheckDigits('000100002'),
      roles: ['composer', 'arranger'] as const,
    },
    {
      id: 'rh-lyricist-1',
      name: 'Saule Kairatovna (demo)',
      iin: kzNumber('9207154', 1003),
      ipi: withIpiCheckDigits('000100003'),
      roles: ['lyricist'] as const,
    },
    {
      id: 'rh-performer-1',
      name: 'Dos Mukasan Ensemble (demo)',
      iin: kzNumber('8808083', 1004),
      ipi: withIpiCheckDigits('000100004'),
      roles: ['performer'] as const,
    },
  ];
  for (const p of people) {
    await cat.upsertHolder({
      id: p.id,
      kind: 'person',
      name: p.name,
      iin: p.iin,
      bin: null,
      ipiNameNumber: p.ipi,
      roles: [...p.roles],
    });
  }
  await cat.upsertHolder({
    id: 'rh-label-1',
    kind: 'entity',
    name: 'Dala Records LLP (demo)',
    iin: null,
    bin: kzNumber('1507400', 303),
    ipiNameNumber: withIpiCheckDigits('000100005'),
    roles: ['producer'],
  });
  const holders = [...people.map((p) => p.id), 'rh-label-1'];

  const mandates: Array<[string, string, RightType]> = [
    ['rh-composer-1', DEMO.authorsCmo, 'performing'],
    ['rh-composer-2', DEMO.authorsCmo, 'performing'],
    ['rh-lyricist-1', DEMO.authorsCmo, 'performing'],
    ['rh-performer-1', DEMO.relatedCmo, 'performer'],
    ['rh-label-1', DEMO.relatedCmo, 'producer'],
  ];
  for (const [holderId, cmoId, rightType] of mandates) {
    const existing = (await cat.mandatesOf([holderId])).get(holderId) ?? [];
    if (!existing.some((m) => m.rightType === rightType)) {
      await cat.addMandate({
        holderId,
        cmoId,
        rightType,
        validFromMs: parseDateMs('2020-01-01'),
        validToMs: null,
      });
    }
  }

  const works: string[] = [];
  for (const [i, recId] of opts.recordings.entries()) {
    const workId = `w-${recId}`;
    const title = opts.titles?.[recId] ?? `Demo song ${i + 1}`;
    const composer = i % 2 === 0 ? 'rh-composer-1' : 'rh-composer-2';
    await cat.upsertWork({
      id: workId,
      iswc: iswc(900_000 + i),
      title,
      titleKk: `${title} (қаз.)`,
      titleRu: `${title} (рус.)`,
      titleLat: title,
      creators: [
        { holderId: composer, role: 'composer' },
        { holderId: 'rh-lyricist-1', role: 'lyricist' },
      ],
    });
    const existing = await cat.getRecording(recId);
    await cat.upsertRecording({
      id: recId,
      isrc: existing?.isrc ?? `KZD012600${String(i + 1).padStart(3, '0')}`,
      title: existing?.title ?? title,
      durationMs: existing?.durationMs ?? null,
      performerIds: ['rh-performer-1'],
      producerId: 'rh-label-1',
      works: [{ workId, portionBp: 10000 }],
      fingerprintRef: recId,
    });
    const share = (
      subjectKind: 'work' | 'recording',
      subjectId: string,
      rightType: RightType,
      holderId: string,
      shareBp: number,
    ) =>
      cat.addShare({
        subjectKind,
        subjectId,
        rightType,
        holderId,
        shareBp,
        validFromMs: parseDateMs('2020-01-01'),
        validToMs: null,
      });
    await share('work', workId, 'performing', composer, 5000);
    await share('work', workId, 'performing', 'rh-lyricist-1', 5000);
    await share('recording', recId, 'performer', 'rh-performer-1', 10000);
    await share('recording', recId, 'producer', 'rh-label-1', 10000);
    works.push(workId);
  }

  await cat.upsertLicensee({
    id: DEMO.broadcaster,
    name: 'Demo Broadcasting JSC (demo)',
    bin: kzNumber('1106400', 404),
    category: 'broadcaster',
    platformFromMs: from,
  });
  const channels = opts.channels ?? [
    { id: 'demo-radio', name: 'Demo Radio FM', kind: 'radio' as const, timeZone: 'Asia/Almaty' },
    { id: 'demo-tv', name: 'Demo TV', kind: 'tv' as const, timeZone: 'Asia/Almaty' },
  ];
  const now = (opts.now ?? Date.now)();
  for (const ch of channels) {
    const existing = await store.db
      .selectFrom('channels')
      .select('id')
      .where('id', '=', ch.id)
      .executeTakeFirst();
    if (existing)
      await store.db
        .updateTable('channels')
        .set({ broadcaster_id: DEMO.broadcaster })
        .where('id', '=', ch.id)
        .execute();
    else {
      await store.db
        .insertInto('channels')
        .values({
          id: ch.id,
          name: ch.name,
          broadcaster_id: DEMO.broadcaster,
          kind: ch.kind,
          time_zone: ch.timeZone,
          sources_json: '[]',
          enabled: 1,
          created_at_ms: now,
        })
        .execute();
    }
  }

  const tariffVersions: string[] = [];
  for (const [tariffId, cmoId, name, rules] of [
    [
      DEMO.authorsTariff,
      DEMO.authorsCmo,
      'Broadcast, authors (demo): per second with dayparts',
      DEMO_AUTHORS_RULES,
    ],
    [
      DEMO.relatedTariff,
      DEMO.relatedCmo,
      'Broadcast, related rights (demo): 1 % of revenue',
      DEMO_RELATED_RULES,
    ],
  ] as const) {
    await cat.addTariff({ id: tariffId, cmoId, name });
    const versions = await cat.tariffVersions(tariffId);
    if (versions.length === 0)
      tariffVersions.push((await repo.publishTariffVersion(tariffId, from, rules)).id);
    else tariffVersions.push(versions[versions.length - 1].id);
  }

  const licences: string[] = [];
  for (const [id, cmoId, tariffId] of [
    ['lic-demo-authors', DEMO.authorsCmo, DEMO.authorsTariff],
    ['lic-demo-related', DEMO.relatedCmo, DEMO.relatedTariff],
  ] as const) {
    if (!(await cat.getLicence(id)))
      await cat.addLicence({
        id,
        licenseeId: DEMO.broadcaster,
        cmoId,
        tariffId,
        validFromMs: from,
        validToMs: null,
      });
    licences.push(id);
  }
  for (const r of opts.revenue ?? []) await cat.declareRevenue(DEMO.broadcaster, r.period, r.revenueTiyn);

  return {
    cmos: [DEMO.authorsCmo, DEMO.relatedCmo],
    holders,
    works,
    recordings: [...opts.recordings],
    broadcaster: DEMO.broadcaster,
    channels: channels.map((c) => c.id),
    licences,
    tariffVersions,
  };
}
