/**
 * Generators for the webhook boundary. A case is a description (body, headers, signature,
 * encoding, method); it becomes a Function URL event only when it runs, signed with the time of
 * that moment, so a shrunk counterexample replays the same way.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { sign } from '../../functions/auth/standard-webhooks';
import { functionUrlEvent } from '../../infra/local/events';

export type SignatureSpec =
  | { kind: 'valid' }
  | { kind: 'missing' }
  | { kind: 'empty' }
  | { kind: 'tampered'; at: number }
  | { kind: 'wrong-secret' }
  | { kind: 'garbage'; value: string }
  | { kind: 'many'; garbage: string[]; includeValid: boolean }
  | { kind: 'other-body' }
  | { kind: 'v2-prefix' }
  | { kind: 'unpadded' }
  | { kind: 'junk-in-base64' }
  | { kind: 'huge'; repeat: number };

export type TimestampSpec =
  | { kind: 'now'; offset: number }
  | { kind: 'stale'; offset: number }
  | { kind: 'garbage'; value: string }
  | { kind: 'missing' };

export type Encoding =
  | 'plain'
  | 'base64'
  | 'base64-junk'
  | 'base64-truncated'
  | 'base64-invalid-utf8'
  | 'base64-latin1'
  | 'base64-garbage';

export interface WebhookCase {
  family: string;
  /** The body text the sender means (and signs). */
  body: string;
  method: string | null;
  contentType: string | null;
  id: string | null;
  timestamp: TimestampSpec;
  signature: SignatureSpec;
  encoding: Encoding;
  /** odd: header names left as sent (Function URLs lower-case them, so the handler sees none). */
  headerNames: 'lower' | 'odd';
  /** A header sent twice; Function URLs join duplicates with a comma. */
  duplicate: 'none' | 'content-type' | 'webhook-signature' | 'webhook-id' | 'webhook-timestamp';
  extraHeaders: Record<string, string>;
}

const WRONG_SECRET = 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==';
const REASONS = [
  'TRUE_POSITIVE',
  'FALSE_POSITIVE',
  'SUSPICIOUS',
  'UNSPECIFIED',
  'true-positive',
  'False_Positive',
  ' suspicious ',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'incident-resolve-reason-false-positive',
];

/** Characters that break things: controls, noncharacters, BOM, RTL marks, astral, quotes. */
const NASTY = [
  '\u0000',
  '\u001f',
  '\u007f',
  '\uFEFF',
  '\uFFFE',
  '\uFFFF',
  '\u202E',
  '😀',
  '"',
  '\\',
  '\n',
  '\u2028',
];

const textArb = (maxLength: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 4 })), { maxLength: 12 })
        .map((parts) => parts.join('')),
    },
  );

const nonBlankComment = fc.oneof(
  { weight: 6, arbitrary: textArb(200).filter((s) => s.trim().length > 0) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(10_000), `${'é'.repeat(9_999)}😀`.slice(0, 10_000)) },
);

/** A canonical close body as an object (valid by the contract). */
export const canonicalBodyArb = (incidents: readonly string[]) =>
  fc
    .record(
      {
        incidentUuid: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...incidents) },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: fc.constantFrom(...incidents).map((u) => u.toUpperCase()) },
        ),
        closureReason: fc.constantFrom(...REASONS),
        comment: nonBlankComment,
        ticketId: fc.oneof(fc.constant('SEC-4711'), textArb(256)),
        extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      },
      { requiredKeys: ['incidentUuid', 'comment'] },
    )
    .map(({ extra, ...fields }) => ({ ...extra, ...fields }) as Record<string, unknown>);

/** Field-level mutations of a canonical body; most make it invalid, the oracle decides. */
const mutationArb: fc.Arbitrary<(o: Record<string, unknown>) => unknown> = fc.oneof(
  fc.constantFrom('incidentUuid', 'closureReason', 'comment', 'ticketId').chain((field) =>
    fc
      .oneof(
        fc.constant(undefined),
        fc.jsonValue({ maxDepth: 2 }),
        textArb(40),
        fc.constantFrom(
          '',
          ' ',
          '\t\n',
          '\uFEFF',
          'x'.repeat(10_001),
          'y'.repeat(257),
          '123e4567-e89b-12d3-a456-426614174000\n',
          '../../v2/incidents/x',
          '%2e%2e%2fincidents',
          '123e4567-e89b-12d3-a456-426614174000:reopen',
          '123e4567e89b12d3a456426614174000',
          '{123e4567-e89b-12d3-a456-426614174000}',
          'ＴＲＵＥ_ＰＯＳＩＴＩＶＥ',
          'TRUE POSITIVE',
          'MALWARE',
          'INCIDENT_RESOLVE_REASON_',
        ),
      )
      .map((v) => (o: Record<string, unknown>) => {
        const copy = { ...o };
        if (v === undefined) delete copy[field];
        else copy[field] = v;
        return copy;
      }),
  ),
  fc.constantFrom(
    (o: Record<string, unknown>) => [o],
    () => null,
    (o: Record<string, unknown>) => JSON.stringify(o),
    () => 42,
    () => ({}),
    (o: Record<string, unknown>) => ({ close: o }),
    // An own "__proto__" key, as JSON.parse makes it: must not smuggle fields in.
    (o: Record<string, unknown>) =>
      JSON.parse(`{"__proto__":${JSON.stringify(o)},"comment":"x"}`) as Record<string, unknown>,
  ),
);

/** Body texts: canonical, mutated, arbitrary JSON, arbitrary text, oversize, BOM. */
const bodyArb = (incidents: readonly string[], maxBodyBytes: number) =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: canonicalBodyArb(incidents).map((o) => ({ family: 'canonical', text: JSON.stringify(o) })),
    },
    {
      weight: 5,
      arbitrary: fc
        .tuple(canonicalBodyArb(incidents), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
        .map(([o, ms]) => ({
          family: 'mutated-field',
          text: JSON.stringify(ms.reduce<unknown>((v, m) => m(v as Record<string, unknown>), o)) ?? 'null',
        })),
    },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ family: 'arbitrary-json', text })) },
    { weight: 2, arbitrary: textArb(300).map((text) => ({ family: 'arbitrary-text', text })) },
    {
      weight: 1,
      arbitrary: canonicalBodyArb(incidents).map((o) => ({
        family: 'pretty/bom',
        text: JSON.stringify(o, null, 2),
      })),
    },
    {
      weight: 1,
      arbitrary: canonicalBodyArb(incidents).map((o) => ({
        family: 'pretty/bom',
        text: `\uFEFF${JSON.stringify(o)}`,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(canonicalBodyArb(incidents), fc.integer({ min: -2, max: 2 })).map(([o, delta]) => {
        // Padded with JSON whitespace to just under, at, or just over the size limit.
        const text = JSON.stringify(o);
        const target = maxBodyBytes + delta;
        const pad = Math.max(0, target - Buffer.byteLength(text) - 1);
        return { family: 'oversize', text: `${text.slice(0, -1)}${' '.repeat(pad)}}` };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { family: 'oversize', text: 'x'.repeat(maxBodyBytes * 4) },
        { family: 'deep', text: `${'['.repeat(30_000)}${']'.repeat(30_000)}` },
        { family: 'deep', text: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` },
        { family: 'arbitrary-text', text: '' },
      ),
    },
  );

const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'Application/JSON',
      'application/json;charset=UTF-8',
      ' application/json ; foo=bar',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/jsonx',
      'application/vnd.api+json',
      'application/json-patch+json',
      'multipart/form-data; boundary=x',
      '',
      ';application/json',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constant(null) },
);

const methodArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('POST') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'post', 'TRACE'),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

const idArb = fc.oneof(
  { weight: 8, arbitrary: fc.uuid().map((u) => `msg_${u}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'x'.repeat(256), 'x'.repeat(257), 'a'.repeat(100_000), 'id with spaces'),
  },
  { weight: 1, arbitrary: fc.constant(null) },
);

const timestampArb: fc.Arbitrary<TimestampSpec> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.integer({ min: -290, max: 290 }).map((offset) => ({ kind: 'now' as const, offset })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.integer({ min: 310, max: 10_000_000 }), fc.integer({ min: -10_000_000, max: -310 }))
      .map((offset) => ({ kind: 'stale' as const, offset })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.constantFrom('', '-1', '1.5e9', ' 1700000000', '0x65', '17000000000000', 'NaN', '١٧٠٠٠٠٠٠٠٠'),
        fc.string({ maxLength: 12 }),
      )
      .map((value) => ({ kind: 'garbage' as const, value })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'missing' as const }) },
);

const signatureArb: fc.Arbitrary<SignatureSpec> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'valid' as const }) },
  { weight: 2, arbitrary: fc.nat(43).map((at) => ({ kind: 'tampered' as const, at })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'wrong-secret' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.string({ maxLength: 60 }),
        fc.base64String({ maxLength: 44 }).map((b) => `v1,${b}`),
        fc.constantFrom('v1,', 'v1', ',', 'v1,,', 'v1a,abc', 'v1,====', ' ', 'v1 ,x'),
      )
      .map((value) => ({ kind: 'garbage' as const, value })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        garbage: fc.array(
          fc.base64String({ minLength: 4, maxLength: 44 }).map((b) => `v1,${b}`),
          { maxLength: 30 },
        ),
        includeValid: fc.boolean(),
      })
      .map((r) => ({ kind: 'many' as const, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<SignatureSpec>(
      { kind: 'missing' },
      { kind: 'empty' },
      { kind: 'other-body' },
      { kind: 'v2-prefix' },
      { kind: 'unpadded' },
      { kind: 'junk-in-base64' },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 5_000 }).map((repeat) => ({ kind: 'huge' as const, repeat })),
  },
);

const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Encoding>('plain') },
  { weight: 3, arbitrary: fc.constant<Encoding>('base64') },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Encoding>(
      'base64-junk',
      'base64-truncated',
      'base64-invalid-utf8',
      'base64-latin1',
      'base64-garbage',
    ),
  },
);

const extraHeadersArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 20 }).map((k) => k.toLowerCase()),
      fc.string({ maxLength: 50 }),
      { maxKeys: 20 },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { 'x-huge': 'h'.repeat(200_000) },
      { authorization: 'Bearer stolen-token' },
      { 'content-length': '-1', 'transfer-encoding': 'chunked' },
      { 'content-encoding': 'gzip' },
      Object.fromEntries([
        ['__proto__', 'x'],
        ['constructor', 'y'],
        ['webhook-id ', 'spaced'],
      ]) as Record<string, string>,
    ),
  },
);

type Envelope = Omit<WebhookCase, 'family' | 'body'>;
const DIMENSIONS = [
  'method',
  'contentType',
  'id',
  'timestamp',
  'signature',
  'encoding',
  'headerNames',
  'duplicate',
  'extraHeaders',
] as const;

/** The envelope of a well-formed, correctly signed request. */
const cleanEnvelope = (e: Envelope): Envelope => ({
  method: 'POST',
  contentType: 'application/json',
  id: e.id?.startsWith('msg_') ? e.id : 'msg_fuzz',
  timestamp: { kind: 'now', offset: 0 },
  signature: { kind: 'valid' },
  encoding: e.encoding === 'base64' ? 'base64' : 'plain',
  headerNames: 'lower',
  duplicate: 'none',
  extraHeaders: {},
});

/**
 * One generated webhook request: a clean envelope (only the body varies), a clean envelope with
 * one thing wrong, or everything drawn at random.
 */
export const webhookCaseArb = (
  incidents: readonly string[],
  maxBodyBytes: number,
): fc.Arbitrary<WebhookCase> =>
  fc
    .tuple(
      anyCaseArb(incidents, maxBodyBytes),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant<'clean' | 'random' | number>('clean') },
        { weight: 3, arbitrary: fc.nat(DIMENSIONS.length - 1) },
        { weight: 3, arbitrary: fc.constant<'clean' | 'random' | number>('random') },
      ),
    )
    .map(([c, mode]) => {
      if (mode === 'random') return c;
      const clean = cleanEnvelope(c);
      if (mode === 'clean') return { ...c, ...clean };
      const keep = DIMENSIONS[mode] as (typeof DIMENSIONS)[number];
      return { ...c, ...clean, [keep]: c[keep] };
    });

const anyCaseArb = (incidents: readonly string[], maxBodyBytes: number): fc.Arbitrary<WebhookCase> =>
  fc
    .record({
      body: bodyArb(incidents, maxBodyBytes),
      method: methodArb,
      contentType: contentTypeArb,
      id: idArb,
      timestamp: timestampArb,
      signature: signatureArb,
      encoding: encodingArb,
      headerNames: fc.oneof(
        { weight: 12, arbitrary: fc.constant<'lower' | 'odd'>('lower') },
        { weight: 1, arbitrary: fc.constant<'lower' | 'odd'>('odd') },
      ),
      duplicate: fc.oneof(
        { weight: 12, arbitrary: fc.constant<WebhookCase['duplicate']>('none') },
        {
          weight: 1,
          arbitrary: fc.constantFrom<WebhookCase['duplicate']>(
            'content-type',
            'webhook-signature',
            'webhook-id',
            'webhook-timestamp',
          ),
        },
      ),
      extraHeaders: extraHeadersArb,
    })
    .map(({ body, ...rest }) => ({ family: body.family, body: body.text, ...rest }));

/** A case as it arrives at the handler: a Function URL event, signed at `nowSeconds`. */
export function materialize(c: WebhookCase, secret: string, nowSeconds: number): APIGatewayProxyEventV2 {
  const ts =
    c.timestamp.kind === 'now' || c.timestamp.kind === 'stale'
      ? String(nowSeconds + c.timestamp.offset)
      : c.timestamp.kind === 'garbage'
        ? c.timestamp.value
        : undefined;
  const id = c.id ?? undefined;
  const signedTs = Number(ts) || nowSeconds;
  const validSig = sign(secret, id ?? '', signedTs, c.body);
  const b64 = validSig.slice(3);
  const sig = ((): string | undefined => {
    const s = c.signature;
    switch (s.kind) {
      case 'valid':
        return validSig;
      case 'missing':
        return undefined;
      case 'empty':
        return '';
      case 'tampered': {
        const i = s.at % b64.length;
        const ch = b64[i] === 'A' ? 'B' : 'A';
        return `v1,${b64.slice(0, i)}${ch}${b64.slice(i + 1)}`;
      }
      case 'wrong-secret':
        return sign(WRONG_SECRET, id ?? '', signedTs, c.body);
      case 'garbage':
        return s.value;
      case 'many': {
        const all = [...s.garbage];
        if (s.includeValid) all.splice(Math.floor(all.length / 2), 0, validSig);
        return all.join(' ');
      }
      case 'other-body':
        return sign(secret, id ?? '', signedTs, `${c.body} `);
      case 'v2-prefix':
        return `v2,${b64}`;
      case 'unpadded':
        return validSig.replace(/=+$/, '');
      case 'junk-in-base64':
        return `v1,${b64.slice(0, 10)}!*${b64.slice(10)}`;
      case 'huge':
        return `${'v1,AAAA '.repeat(s.repeat)}${validSig}`;
    }
  })();

  const utf8 = Buffer.from(c.body, 'utf8');
  let body = c.body;
  let isBase64Encoded = false;
  switch (c.encoding) {
    case 'plain':
      break;
    case 'base64':
      body = utf8.toString('base64');
      isBase64Encoded = true;
      break;
    case 'base64-junk': {
      const b = utf8.toString('base64');
      body = `${b.slice(0, 8)}\n!@${b.slice(8)}`;
      isBase64Encoded = true;
      break;
    }
    case 'base64-truncated':
      body = utf8.toString('base64').slice(0, -3);
      isBase64Encoded = true;
      break;
    case 'base64-invalid-utf8':
      body = Buffer.concat([utf8, Buffer.from([0xc3, 0x28, 0xff])]).toString('base64');
      isBase64Encoded = true;
      break;
    case 'base64-latin1':
      body = Buffer.from(c.body, 'latin1').toString('base64');
      isBase64Encoded = true;
      break;
    case 'base64-garbage':
      body = `${randomBytesFor(c.body).toString('base64')}%%%`;
      isBase64Encoded = true;
      break;
  }

  const headers: Record<string, string> = { ...c.extraHeaders };
  if (c.contentType !== null) headers['content-type'] = c.contentType;
  if (id !== undefined) headers['webhook-id'] = id;
  if (ts !== undefined) headers['webhook-timestamp'] = ts;
  if (sig !== undefined) headers['webhook-signature'] = sig;
  if (c.duplicate !== 'none') {
    const v = headers[c.duplicate];
    if (v !== undefined) headers[c.duplicate] = `${v},${v}`;
  }

  const event = functionUrlEvent({
    body,
    headers,
    isBase64Encoded,
    ...(c.method ? { method: c.method } : {}),
  });
  if (c.method === null) {
    // An event without requestContext.http (a hand-made or truncated event).
    (event as { requestContext?: unknown }).requestContext = undefined;
  }
  if (c.headerNames === 'odd') {
    event.headers = Object.fromEntries(
      Object.entries(event.headers).map(([k, v]) => [
        k.replace(/(^|-)([a-z])/g, (_m, d, l) => d + l.toUpperCase()),
        v,
      ]),
    );
  }
  return event;
}

/** Arbitrary bytes derived from the body, so a case replays identically. */
function randomBytesFor(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
