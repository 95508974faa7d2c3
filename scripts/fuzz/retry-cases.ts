/**
 * Generators for the retry-message boundary: SQS bodies that are valid retry messages (v2, and v1
 * queued before an upgrade),
 * near-valid ones broken in one known way, text-level mutations (validity unknown), and arbitrary
 * bodies. Each record carries its own incident UUID so ESET calls can be traced to it.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../infra/local/eset-sandbox/sandbox';

export type RecordKind =
  /** A valid retry message v1: the handler works on it. */
  | 'valid'
  /** Provably not a retry message v1: dead-lettered untouched, never at ESET. */
  | 'invalid'
  /** Mutated text whose validity the generator does not know. */
  | 'unknown';

export interface RetryRecordCase {
  family: string;
  kind: RecordKind;
  body: string;
}

const REASONS = [
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
] as const;

const BASE_TIME = Date.UTC(2030, 0, 1);

/** An ISO time relative to now (ms offset), fixed at generation so the case replays. */
const isoArb = (min: number, max: number) => fc.integer({ min, max }).map((offset) => ({ offset }));

type Iso = { offset: number };
export type MessageDraft = Record<string, unknown>;

/** ESET's answer is outside input too: odd statuses with odd reasons, which end up in SQS. */
const esetAnswerArb: fc.Arbitrary<FaultStep> = fc
  .record({
    status: fc.constantFrom(400, 403, 404, 429, 500, 502, 503, 504),
    text: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('\uFFFF', '\u0000', 'x'.repeat(5_000), '<html><body>Bad gateway</body></html>'),
    ),
    shape: fc.constantFrom('json', 'text', 'retry-after'),
  })
  .map(({ status, text, shape }): FaultStep => {
    if (shape === 'json') return { kind: 'status', status, body: JSON.stringify({ code: 9, message: text }) };
    if (shape === 'retry-after') return { kind: 'status', status, retryAfter: retryAfter(text) };
    return { kind: 'status', status, body: text, contentType: 'text/plain' };
  });

/**
 * A header-safe Retry-After: short seconds, a past HTTP date, or junk. Kept at 2 s or less: a 429
 * pauses the shared rate limiter for as long (up to a minute), which would starve the rest of the
 * run; test/fuzz/found-bugs.test.ts covers the long ones.
 */
function retryAfter(seed: string): string {
  const n = [...seed].reduce((a, ch) => a + (ch.codePointAt(0) ?? 0), 0);
  const forms = ['0', String(n % 3), new Date(Date.UTC(2020, 0, 1)).toUTCString(), 'soon', '-5', '1.5'];
  return forms[n % forms.length] as string;
}

/**
 * A valid retry message as an object (times resolved against `now` when it runs): mostly v2 (a
 * wake-up naming an incident), some v1 (a close queued before the upgrade, which the handler turns
 * into a close event and works on).
 */
export const validMessageArb = (incidents: readonly string[]) =>
  fc.oneof({ weight: 3, arbitrary: validV2Arb(incidents) }, { weight: 2, arbitrary: validV1Arb(incidents) });

const validV2Arb = (incidents: readonly string[]) =>
  fc
    .record({
      incidentUuid: fc.oneof(fc.constantFrom(...incidents), fc.uuid()),
      tenant: fc.constantFrom('default', 'acme', 'x'.repeat(64)),
      wakeId: fc.uuid(),
      sentAt: fc.oneof(
        { weight: 4, arbitrary: isoArb(-3_600_000, 0) },
        { weight: 1, arbitrary: isoArb(-100_000_000, 0) },
      ),
      delaySeconds: fc.integer({ min: 0, max: 900 }),
      correlationId: fc.string({ minLength: 1, maxLength: 60 }),
      why: fc.option(fc.constantFrom('pending', 'retry', 'unknown', 'time', 'busy', 'event'), {
        nil: undefined,
      }),
      want: fc.option(
        fc.record({
          status: fc.constantFrom('closed', 'open'),
          key: fc.string({ minLength: 1, maxLength: 22 }),
        }),
        { nil: undefined },
      ),
      redrive: fc.option(
        fc.record({
          at: isoArb(-1_000_000, 0),
          reason: fc.string({ maxLength: 80 }),
          action: fc.constantFrom('close', 'reopen', 'comment'),
        }),
        { nil: undefined },
      ),
      comment: fc.option(
        fc.record({
          key: fc.string({ minLength: 1, maxLength: 22 }),
          text: fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }),
          at: isoArb(-1_000_000, 0),
          correlationId: fc.string({ minLength: 1, maxLength: 40 }),
        }),
        { nil: undefined, freq: 4 },
      ),
    })
    .map((r) => {
      const m: MessageDraft = {
        v: 2,
        tenant: r.tenant,
        incidentUuid: r.incidentUuid,
        wakeId: r.wakeId,
        sentAt: r.sentAt,
        delaySeconds: r.delaySeconds,
        correlationId: r.correlationId,
      };
      if (r.why) m.why = r.why;
      if (r.want) m.want = r.want;
      if (r.redrive) m.deadLettered = r.redrive;
      if (r.comment) m.comment = r.comment;
      return { uuid: r.incidentUuid, draft: m } as {
        uuid: string;
        draft: MessageDraft;
        script?: FaultStep[];
      };
    });

const validV1Arb = (incidents: readonly string[]) =>
  fc
    .record({
      incidentUuid: fc.oneof(fc.constantFrom(...incidents), fc.uuid()),
      closureReason: fc.constantFrom(...REASONS),
      comment: fc.string({ unit: 'binary', minLength: 1, maxLength: 120 }),
      ticketId: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
      phase: fc.constantFrom('close', 'resend', 'verify'),
      attempt: fc.integer({ min: 1, max: 60 }),
      firstSeen: isoArb(-3_600_000, 0),
      correlationId: fc.string({ minLength: 1, maxLength: 60 }),
      eset: fc.option(esetAnswerArb, { nil: undefined, freq: 3 }),
    })
    .map((r) => {
      const m: MessageDraft = {
        v: 1,
        request: {
          incidentUuid: r.incidentUuid,
          closureReason: r.closureReason,
          comment: r.comment,
          ...(r.ticketId !== undefined ? { ticketId: r.ticketId } : {}),
        },
        phase: r.phase,
        attempt: r.attempt,
        firstSeen: r.firstSeen,
        correlationId: r.correlationId,
      };
      return { uuid: r.incidentUuid, draft: m, ...(r.eset ? { script: [r.eset] } : {}) };
    });

/** Turns `{offset}` placeholders into ISO times at `now`; everything else unchanged. */
export function resolveTimes(value: unknown, now: number): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveTimes(v, now));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'offset' && typeof (value as Iso).offset === 'number') {
      return new Date(now + (value as Iso).offset).toISOString();
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveTimes(v, now)]));
  }
  return value;
}

type Mutation = { name: string; apply: (m: MessageDraft) => unknown };

const set = (path: string[], value: unknown) => (m: MessageDraft) => {
  const copy = structuredClone(m);
  let o: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) o = o[key] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete o[last];
  else o[last] = value;
  return copy;
};

/**
 * Changes that make any valid message invalid, each for a reason the schema states. A v1 message
 * broken this way is no valid v1 either, and no v2: it is invalid as well.
 */
const INVALIDATING: Mutation[] = [
  ...[0, 3, '1', '2', null, true, 1.0000001].map((v) => ({ name: `v=${String(v)}`, apply: set(['v'], v) })),
  ...['v', 'correlationId'].map((k) => ({ name: `no ${k}`, apply: set([k], undefined) })),
  ...[
    'x',
    '',
    '123e4567-e89b-12d3-a456-426614174000\n',
    '../../v2/incidents/x',
    '123e4567-e89b-12d3-a456-426614174000:reopen',
    42,
    null,
  ].map((v) => ({
    name: `incidentUuid=${JSON.stringify(v)}`,
    apply: (m: MessageDraft) =>
      m.v === 1 ? set(['request', 'incidentUuid'], v)(m) : set(['incidentUuid'], v)(m),
  })),
  ...['', 'c'.repeat(257), 9].map((v) => ({ name: 'correlationId bad', apply: set(['correlationId'], v) })),
  { name: 'wrapped in an array', apply: (m) => [m] },
  { name: 'double-encoded', apply: (m) => JSON.stringify(m) },
  { name: 'null', apply: () => null },
  { name: 'SNS envelope', apply: (m) => ({ Type: 'Notification', Message: JSON.stringify(m) }) },
  ...V2_ONLY(),
];

/** Changes that break what only v2 has; applied to a v1 message they break it as well (v=2 without v2 fields). */
function V2_ONLY(): Mutation[] {
  const v2 = (name: string, path: string[], value: unknown): Mutation => ({
    name,
    apply: (m) => set(path, value)({ ...m, v: 2 }),
  });
  return [
    ...['tenant', 'incidentUuid', 'wakeId', 'sentAt', 'delaySeconds'].map((k) =>
      v2(`no ${k}`, [k], undefined),
    ),
    v2('tenant empty', ['tenant'], ''),
    v2('tenant too long', ['tenant'], 't'.repeat(65)),
    ...[-1, 901, 1.5, '1', null].map((v) => v2(`delaySeconds=${String(v)}`, ['delaySeconds'], v)),
    ...['yesterday', '2021-02-30T00:00:00Z', '2021-01-01', 1_700_000_000_000, ''].map((v) =>
      v2(`sentAt=${String(v)}`, ['sentAt'], v),
    ),
    v2('wakeId too long', ['wakeId'], 'w'.repeat(65)),
    v2('why unknown', ['why'], 'because'),
    v2('want status bad', ['want'], { status: 'resolved', key: 'k' }),
    v2('deadLettered bad', ['deadLettered'], { at: 'then', reason: 'x', action: 'close' }),
    v2('deadLettered action bad', ['deadLettered'], {
      at: new Date(BASE_TIME).toISOString(),
      reason: 'x',
      action: 'delete',
    }),
    v2('deadLettered reason too long', ['deadLettered'], {
      at: new Date(BASE_TIME).toISOString(),
      reason: 'r'.repeat(2001),
      action: 'close',
    }),
    v2('comment text empty', ['comment'], {
      key: 'k',
      text: '',
      at: new Date(BASE_TIME).toISOString(),
      correlationId: 'c',
    }),
    v2('comment text too long', ['comment'], {
      key: 'k',
      text: 'c'.repeat(10_001),
      at: new Date(BASE_TIME).toISOString(),
      correlationId: 'c',
    }),
  ];
}

/** Changes that keep a valid message valid (unknown keys are stripped, order and spacing do not matter). */
const NEUTRAL: Mutation[] = [
  { name: 'extra key', apply: (m) => ({ ...m, extra: { nested: [1, 2] } }) },
  {
    name: 'extra nested key',
    apply: (m) =>
      m.v === 1 ? { ...m, request: { ...(m.request as object), x: 1 } } : { ...m, want: undefined, zz: 1 },
  },
  { name: 'keys reversed', apply: (m) => Object.fromEntries(Object.entries(m).reverse()) },
];

/** Text-level edits of a serialised message: truncation, a byte flip, an insertion. */
const textEditArb = fc.oneof(
  fc.nat().map((at) => ({ name: 'truncated', edit: (s: string) => s.slice(0, at % Math.max(1, s.length)) })),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([at, ins]) => ({
    name: 'inserted',
    edit: (s: string) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + ins + s.slice(i);
    },
  })),
  fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 })).map(([at, ch]) => ({
    name: 'replaced',
    edit: (s: string) => {
      const i = at % Math.max(1, s.length);
      return s.slice(0, i) + ch + s.slice(i + 1);
    },
  })),
);

export interface RecordDraft {
  family: string;
  kind: RecordKind;
  uuid?: string;
  /** What ESET answers to this record's next call, when not the sandbox's usual mix. */
  script?: FaultStep[];
  /** Builds the body at run time (times relative to `now`). */
  build: (now: number) => string;
}

const spacing = fc.constantFrom<undefined | number>(undefined, undefined, 2);

/** One SQS record body. */
export const recordArb = (incidents: readonly string[]): fc.Arbitrary<RecordDraft> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(validMessageArb(incidents), spacing).map(([{ uuid, draft, script }, sp]) => ({
        family: script ? 'valid, odd ESET answer' : 'valid',
        kind: 'valid' as const,
        uuid,
        ...(script ? { script } : {}),
        build: (now: number) => JSON.stringify(resolveTimes(draft, now), null, sp),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validMessageArb(incidents), fc.constantFrom(...NEUTRAL))
        .map(([{ uuid, draft }, mut]) => ({
          family: `valid: ${mut.name}`,
          kind: 'valid' as const,
          uuid,
          build: (now: number) => JSON.stringify(mut.apply(resolveTimes(draft, now) as MessageDraft)),
        })),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(validMessageArb(incidents), fc.constantFrom(...INVALIDATING))
        .map(([{ uuid, draft }, mut]) => ({
          family: `invalid: ${mut.name}`,
          kind: 'invalid' as const,
          uuid,
          build: (now: number) =>
            JSON.stringify(mut.apply(resolveTimes(draft, now) as MessageDraft)) ?? 'null',
        })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(validMessageArb(incidents), textEditArb).map(([{ uuid, draft }, e]) => ({
        family: `text: ${e.name}`,
        kind: 'unknown' as const,
        uuid,
        build: (now: number) => e.edit(JSON.stringify(resolveTimes(draft, now))),
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.json({ maxDepth: 3 }).map((t) => ({ family: 'arbitrary json', t })),
          fc.string({ unit: 'binary', maxLength: 200 }).map((t) => ({ family: 'arbitrary text', t })),
          fc.constantFrom(
            { family: 'empty', t: '' },
            { family: 'bom', t: '\uFEFF{"v":1}' },
            { family: 'huge', t: `"${'x'.repeat(250_000)}"` },
            { family: 'deep', t: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
            { family: 'v1 only', t: '{"v":1}' },
            { family: 'v2 only', t: '{"v":2}' },
            { family: 'proto', t: '{"__proto__":{"v":1,"phase":"close"},"constructor":{"prototype":{}}}' },
          ),
        )
        .map(({ family, t }) => ({ family, kind: 'invalid' as const, build: () => t })),
    },
  );

export interface RetryBatchCase {
  records: RecordDraft[];
  /** The dead-letter queue refuses (SQS down): invalid records must then be left for redelivery. */
  failDeadLetter: boolean;
  /** The retry queue refuses: records that need a new message must be left for redelivery. */
  failEnqueue: boolean;
}

/** A batch of 1 to 6 records with distinct incident UUIDs. */
export const retryBatchArb = (incidents: readonly string[]): fc.Arbitrary<RetryBatchCase> =>
  fc.record({
    records: fc.uniqueArray(recordArb(incidents), {
      minLength: 1,
      maxLength: 6,
      selector: (r) => r.uuid ?? Symbol(),
    }),
    failDeadLetter: fc.oneof(
      { weight: 4, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    failEnqueue: fc.oneof(
      { weight: 9, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
