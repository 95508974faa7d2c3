/**
 * What two libraries kept out of the Lambda code would cost (`npm run bench -- --libraries`):
 *
 * - `standardwebhooks` (the Standard Webhooks spec's reference library) against our verifier,
 *   functions/auth/standard-webhooks.ts (node:crypto HMAC-SHA256);
 * - `@aws-lambda-powertools/event-handler`'s HTTP Router (one POST route) against a Map lookup of
 *   routes, as functions/senders/routes.ts does.
 *
 * Small handlers are bundled the way the stack bundles a Lambda (infra/bundle.ts
 * `lambdaBuildOptions`: ESM, minified, source maps; target node20): an empty handler (the
 * baseline), one that verifies a Standard Webhooks request with each verifier (and
 * `standardwebhooks` once more with `node:crypto` loaded beside it, as the receive Lambda has it
 * whatever verifies: Powertools Logger imports it), one that routes a Function URL event with each
 * router. Each bundle's size is what a cold start reads (build.ts `initFiles`). Cold import: round
 * after round of fresh Node processes (cold-init.ts `probeOnce`), with the deployed NODE_OPTIONS
 * plus `--enable-source-maps` (the `sourceMaps` setting) and again as deployed, without it, all
 * taking turns within each round, each minus the empty handler of the same round and options; the figure is the median of those differences.
 * The probe here does what build.ts's does (the import, timed up to the resolved handler), then
 * calls the handler once with a signed Function URL event and times that first call apart, and
 * then the first `new Response()` (undici, which the Router's first call loads and a fetch would).
 *
 * Verification per call is timed in this process, warm: both verifiers on the same signed request
 * in alternation, median of many calls, for a 200 B and a 64 KiB body. `standardwebhooks` runs
 * with `jsonParse: false`, so both do the same work: headers, timestamp, HMAC, comparison.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { Webhook } from 'standardwebhooks';
import { sign, verify } from '../../functions/auth/standard-webhooks';
import { LAMBDA_NODE_OPTIONS, lambdaBuildOptions, lambdaNodeOptions } from '../../infra/bundle';
import { initFiles, PROBE_IMPORT } from './build';
import { type ProbeSample, probeOnce } from './cold-init';
import { median, percentile, round } from './stats';

const ROOT = resolve(import.meta.dirname, '../..');

/** A fixed test secret (whsec_ + base64 of 24 bytes); the bundles carry it as a constant. */
export const BENCH_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const ENTRIES = [
  'empty',
  'oursVerify',
  'standardwebhooks',
  'standardwebhooksCrypto',
  'mapLookup',
  'eventHandler',
] as const;
export type Entry = (typeof ENTRIES)[number];

export const ENTRY_LABELS: Readonly<Record<Entry, string>> = {
  empty: 'empty handler (baseline)',
  oursVerify: 'our verifier (node:crypto)',
  standardwebhooks: 'standardwebhooks Webhook.verify',
  standardwebhooksCrypto: 'the same + node:crypto (as in receive)',
  mapLookup: 'Map lookup of routes',
  eventHandler: 'event-handler Router, one POST route',
};

const ourVerifier = JSON.stringify(join(ROOT, 'functions/auth/standard-webhooks.ts'));

/**
 * The handlers' sources. Each answers the same Function URL event: the verifiers 204 after the
 * signature checked and the body parsed (standardwebhooks parses it itself), 401 otherwise; the
 * routers 200 with the route's JSON answer.
 */
const SOURCES: Readonly<Record<Entry, string>> = {
  empty: 'export const handler = async () => ({});\n',
  oursVerify: `import { verify } from ${ourVerifier};
const SECRETS = [${JSON.stringify(BENCH_SECRET)}];
export const handler = async (event) => {
  const h = event.headers ?? {};
  const body = event.body ?? '';
  try {
    verify(SECRETS, { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] },
      body, Math.floor(Date.now() / 1000), 300);
    JSON.parse(body);
  } catch {
    return { statusCode: 401 };
  }
  return { statusCode: 204 };
};
`,
  standardwebhooks: `import { Webhook } from 'standardwebhooks';
const webhook = new Webhook(${JSON.stringify(BENCH_SECRET)});
export const handler = async (event) => {
  try {
    webhook.verify(event.body ?? '', event.headers ?? {});
  } catch {
    return { statusCode: 401 };
  }
  return { statusCode: 204 };
};
`,
  // The receive Lambda loads node:crypto whatever verifies (Powertools Logger imports it at its
  // top level): this is what standardwebhooks would cost there, paired with our verifier.
  // (An import esbuild keeps: it drops a bare import of 'node:crypto' as free of side effects.)
  standardwebhooksCrypto: `import { randomInt } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
export const loaded = typeof randomInt;
const webhook = new Webhook(${JSON.stringify(BENCH_SECRET)});
export const handler = async (event) => {
  try {
    webhook.verify(event.body ?? '', event.headers ?? {});
  } catch {
    return { statusCode: 401 };
  }
  return { statusCode: 204 };
};
`,
  // As functions/senders/routes.ts: the path normalized, one Map.get.
  mapLookup: `const routes = new Map([['/', { methods: new Set(['POST']), answer: async () => ({ accepted: true }) }]]);
const normalizePath = (p) => (p.length > 1 ? p.replace(/\\/+$/, '') : p).toLowerCase() || '/';
export const handler = async (event) => {
  const route = routes.get(normalizePath(event.rawPath ?? '/'));
  if (!route) return { statusCode: 404 };
  if (!route.methods.has(event.requestContext?.http?.method)) return { statusCode: 405 };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(await route.answer(event)),
  };
};
`,
  eventHandler: `import { Router } from '@aws-lambda-powertools/event-handler/http';
const app = new Router();
app.post('/', async () => ({ accepted: true }));
export const handler = async (event, context) => app.resolve(event, context);
`,
};

/**
 * The probe: build.ts's timed import (`PROBE_IMPORT`), then one call of the handler with the
 * event in BENCH_EVENT, timed apart (`firstCallMs`), and its status.
 */
const PROBE = `${PROBE_IMPORT}const event = JSON.parse(process.env.BENCH_EVENT ?? '{}');
const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  getRemainingTimeInMillis: () => 3000,
};
const t1 = performance.now();
const answer = await handler(event, context);
const firstCallMs = performance.now() - t1;
const firstCallBuiltins = process.moduleLoadList
  .filter((m) => !before.has(m) && m.startsWith('NativeModule '))
  .map((m) => m.slice('NativeModule '.length))
  .filter((m) => !builtins.includes(m));
// Then the web Request/Response globals, as a fetch() would: Node loads undici on first touch.
const t2 = performance.now();
void new Response('');
const webGlobalsMs = performance.now() - t2;
const sample = {
  ms,
  startUs,
  endUs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  rssMb: process.memoryUsage.rss() / 1048576,
  sourceMaps: process.sourceMapsEnabled,
  builtins,
  firstCallMs,
  firstCallStatus: answer?.statusCode ?? null,
  webGlobalsMs,
  firstCallBuiltins,
};
process.stdout.write('\\n' + JSON.stringify(sample) + '\\n');
`;

export interface LibraryBundle {
  /** The function folder (LAMBDA_TASK_ROOT): `index.mjs` and its source map. */
  codeDir: string;
  /** What a cold start reads: `index.mjs` and the chunks it imports statically. */
  files: string[];
  bytes: number;
}

export interface LibraryBundles {
  dir: string;
  probe: string;
  bundles: Record<Entry, LibraryBundle>;
}

/** Bundles the handlers into `dir/<entry>/` with the stack's options, and writes the probe. */
export async function buildLibraryBundles(dir: string): Promise<LibraryBundles> {
  const src = join(dir, 'src');
  await mkdir(src, { recursive: true });
  const bundles = {} as Record<Entry, LibraryBundle>;
  for (const entry of ENTRIES) {
    const file = join(src, `${entry}.mjs`);
    await writeFile(file, SOURCES[entry]);
    const codeDir = join(dir, entry);
    await build({
      ...lambdaBuildOptions(file, codeDir, 'node20'),
      // The sources live in the temporary folder; their packages are the project's.
      nodePaths: [join(ROOT, 'node_modules')],
    });
    bundles[entry] = { codeDir, ...(await initFiles(codeDir)) };
  }
  const probe = join(dir, 'probe.mjs');
  await writeFile(probe, PROBE);
  return { dir, probe, bundles };
}

/** A JSON body of exactly `bytes` bytes. */
export function jsonBody(bytes: number): string {
  const shell = '{"event":"ticket.resolved","pad":""}';
  if (bytes < shell.length) throw new Error(`a body of ${bytes} bytes is too small`);
  return `${shell.slice(0, -2)}${'x'.repeat(bytes - shell.length)}"}`;
}

/** A Lambda Function URL event (payload format 2.0): a signed POST to `/`. */
export function functionUrlEvent(body: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const id = `msg_${randomUUID()}`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      host: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws',
      'webhook-id': id,
      'webhook-timestamp': String(nowSeconds),
      'webhook-signature': sign(BENCH_SECRET, id, nowSeconds, body),
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-central-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'bench',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(nowSeconds * 1000).toUTCString(),
      timeEpoch: nowSeconds * 1000,
    },
    body,
    isBase64Encoded: false,
  };
}

/** The environment of a Lambda init, as far as it can matter to these handlers. */
function lambdaEnv(codeDir: string, event: string): Record<string, string> {
  return {
    _HANDLER: 'index.handler',
    LAMBDA_TASK_ROOT: codeDir,
    NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
    AWS_REGION: 'eu-central-1',
    AWS_DEFAULT_REGION: 'eu-central-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: 'bench-libraries',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    BENCH_EVENT: event,
  };
}

interface LibrarySample extends ProbeSample {
  firstCallMs: number;
  webGlobalsMs: number;
  firstCallStatus: number | null;
  firstCallBuiltins: string[];
}

/** Median and quartiles of a set of differences (ms): how far the rounds spread. */
export interface Spread {
  median: number;
  p25: number;
  p75: number;
}
const spread = (values: readonly number[]): Spread => ({
  median: median(values),
  p25: percentile(values, 25),
  p75: percentile(values, 75),
});

/** What a cold start of each handler reads. */
export interface BundleFigures {
  label: string;
  bytes: number;
  files: number;
}

/** Cold import of one handler under one NODE_OPTIONS. */
export interface EntryFigures {
  /** Median import time (to the resolved handler), ms. */
  importMs: number;
  /** Median over the rounds of (this import - the empty handler's import in the same round), ms. */
  overEmptyMs: Spread;
  /** The same for CPU time (user + system), ms. */
  overEmptyCpuMs: number;
  /** Median time of the first call after the import, ms (the event of the round). */
  firstCallMs: number;
  /** Statuses of the first calls, each with its count. */
  firstCallStatuses: Record<string, number>;
  /** Node built-ins the import loaded that the empty handler's did not. */
  builtins: string[];
  /** Node built-ins the first call loaded. */
  firstCallBuiltins: string[];
  /**
   * Median time of `new Response('')` after the first call, ms: loading undici, the web globals a
   * fetch() loads too, unless the first call did already (the event-handler Router).
   */
  webGlobalsMs: number;
}

/**
 * The NODE_OPTIONS the handlers are imported with, in the same rounds: with source maps (the
 * `sourceMaps` setting; how the functions deployed before it), and as deployed without them
 * (`LAMBDA_NODE_OPTIONS`). The maps' cost grows with the bundle (Node reads and parses each
 * file's map at load).
 */
export const VARIANTS = ['sourceMaps', 'noSourceMaps'] as const;
export type Variant = (typeof VARIANTS)[number];
export const VARIANT_NODE_OPTIONS: Readonly<Record<Variant, string>> = {
  sourceMaps: lambdaNodeOptions(true),
  noSourceMaps: LAMBDA_NODE_OPTIONS,
};

export interface ColdFigures {
  nodeOptions: string;
  /** What the processes reported (process.sourceMapsEnabled). */
  sourceMaps: boolean;
  entries: Record<Entry, EntryFigures>;
  /** Median over the rounds of the paired differences: what each library costs over our way. */
  libraryCostMs: {
    standardwebhooksOverOurs: Spread;
    /** With node:crypto loaded in both, as the receive Lambda has it: the cost there. */
    standardwebhooksCryptoOverOurs: Spread;
    eventHandlerOverMapLookup: Spread;
  };
}

export interface VerifyFigures {
  bodyBytes: number;
  iterations: number;
  /** Median per call, microseconds. */
  oursUs: number;
  standardwebhooksUs: number;
  /** standardwebhooks over ours. */
  ratio: number;
}

export interface LibrariesResult {
  rounds: number;
  sizes: Record<Entry, BundleFigures>;
  cold: Record<Variant, ColdFigures>;
  verify: VerifyFigures[];
  /** Both verifiers on the same requests: a valid signature, and the same with one byte changed. */
  agreement: {
    valid: { ours: boolean; standardwebhooks: boolean };
    tamperedSignature: { ours: boolean; standardwebhooks: boolean };
    tamperedBody: { ours: boolean; standardwebhooks: boolean };
  };
}

/** Whether each verifier accepts a request (`standardwebhooks` against the real clock, as it does). */
export function verifiers(secret = BENCH_SECRET) {
  const webhook = new Webhook(secret);
  return {
    ours(headers: Record<string, string>, body: string): boolean {
      try {
        verify(
          [secret],
          {
            id: headers['webhook-id'],
            timestamp: headers['webhook-timestamp'],
            signature: headers['webhook-signature'],
          },
          body,
          Math.floor(Date.now() / 1000),
          300,
        );
        return true;
      } catch {
        return false;
      }
    },
    standardwebhooks(headers: Record<string, string>, body: string): boolean {
      try {
        webhook.verify(body, headers, { jsonParse: false });
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The signature with one base64 character changed (still well-formed). */
export function tamper(signature: string): string {
  const i = signature.length - 5;
  const c = signature[i] === 'A' ? 'B' : 'A';
  return `${signature.slice(0, i)}${c}${signature.slice(i + 1)}`;
}

function agreement(): LibrariesResult['agreement'] {
  const v = verifiers();
  const body = jsonBody(200);
  const { headers } = functionUrlEvent(body);
  const both = (h: Record<string, string>, b: string) => ({
    ours: v.ours(h, b),
    standardwebhooks: v.standardwebhooks(h, b),
  });
  return {
    valid: both(headers, body),
    tamperedSignature: both({ ...headers, 'webhook-signature': tamper(headers['webhook-signature']) }, body),
    tamperedBody: both(headers, body.replace('resolved', 'reopened')),
  };
}

/** Warm verification per call: both verifiers on the same request in alternation, `iterations` each. */
export function measureVerify(bodyBytes: number, iterations: number): VerifyFigures {
  const v = verifiers();
  const body = jsonBody(bodyBytes);
  const { headers } = functionUrlEvent(body);
  const calls = [() => v.ours(headers, body), () => v.standardwebhooks(headers, body)] as const;
  // Warm-up: both reach their optimised code before any call counts.
  for (let i = 0; i < Math.max(20, Math.ceil(iterations / 5)); i++) {
    for (const call of calls) if (!call()) throw new Error('a verifier rejected the benchmark request');
  }
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < 2; k++) {
      const which = (i + k) % 2;
      const call = calls[which] as () => boolean;
      const t0 = performance.now();
      const ok = call();
      const t = performance.now() - t0;
      if (!ok) throw new Error('a verifier rejected the benchmark request');
      times[which]?.push(t * 1000);
    }
  }
  const oursUs = median(times[0]);
  const standardwebhooksUs = median(times[1]);
  return { bodyBytes, iterations, oursUs, standardwebhooksUs, ratio: standardwebhooksUs / oursUs };
}

/**
 * The whole measurement. `dir`: where the bundles go (kept; the caller removes it); without it, a
 * temporary folder, removed at the end. `iterations`: warm verify calls per verifier for the 200 B
 * body; the 64 KiB body gets a tenth (at least 5).
 */
export async function measureLibraries(
  opts: { rounds?: number; iterations?: number; dir?: string; log?: (line: string) => void } = {},
): Promise<LibrariesResult & { built: LibraryBundles }> {
  const rounds = opts.rounds ?? 21;
  const iterations = opts.iterations ?? 5000;
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'eset-close-bridge-libraries-')));
  try {
    log('bench: libraries: bundling the handlers with the stack options (target node20)');
    const built = await buildLibraryBundles(dir);
    const targets = VARIANTS.flatMap((variant) => ENTRIES.map((entry) => ({ variant, entry })));
    log(
      `bench: libraries: cold import (${rounds} rounds of ${targets.length} fresh Node processes: ` +
        `${ENTRIES.length} handlers, with and without source maps)`,
    );
    const samples = Object.fromEntries(
      VARIANTS.map((v) => [v, Object.fromEntries(ENTRIES.map((e) => [e, [] as LibrarySample[]]))]),
    ) as Record<Variant, Record<Entry, LibrarySample[]>>;
    for (let r = 0; r < rounds; r++) {
      // One event per round, signed now: standardwebhooks checks it against the real clock.
      const event = JSON.stringify(functionUrlEvent(jsonBody(200)));
      for (let k = 0; k < targets.length; k++) {
        const { variant, entry } = targets[(k + r) % targets.length] as (typeof targets)[number];
        const codeDir = built.bundles[entry].codeDir;
        const sample = probeOnce(
          built,
          { codeDir, handler: 'index.handler', env: lambdaEnv(codeDir, event) },
          { nodeOptions: VARIANT_NODE_OPTIONS[variant] },
        ) as LibrarySample;
        samples[variant][entry].push(sample);
      }
    }
    const paired = (a: LibrarySample[], b: LibrarySample[], key: 'ms' | 'cpuMs' = 'ms') =>
      a.map((s, i) => s[key] - (b[i]?.[key] ?? Number.NaN));
    const coldOf = (variant: Variant): ColdFigures => {
      const of = samples[variant];
      const bare = new Set(of.empty[0]?.builtins ?? []);
      const entries = Object.fromEntries(
        ENTRIES.map((entry) => {
          const s = of[entry];
          const statuses: Record<string, number> = {};
          for (const x of s)
            statuses[String(x.firstCallStatus)] = (statuses[String(x.firstCallStatus)] ?? 0) + 1;
          const figures: EntryFigures = {
            importMs: median(s.map((x) => x.ms)),
            overEmptyMs: spread(paired(s, of.empty)),
            overEmptyCpuMs: median(paired(s, of.empty, 'cpuMs')),
            firstCallMs: median(s.map((x) => x.firstCallMs)),
            firstCallStatuses: statuses,
            builtins: (s[0]?.builtins ?? []).filter((m) => !bare.has(m)),
            firstCallBuiltins: s[0]?.firstCallBuiltins ?? [],
            webGlobalsMs: median(s.map((x) => x.webGlobalsMs)),
          };
          return [entry, figures];
        }),
      ) as Record<Entry, EntryFigures>;
      return {
        nodeOptions: VARIANT_NODE_OPTIONS[variant],
        sourceMaps: of.empty[0]?.sourceMaps ?? false,
        entries,
        libraryCostMs: {
          standardwebhooksOverOurs: spread(paired(of.standardwebhooks, of.oursVerify)),
          standardwebhooksCryptoOverOurs: spread(paired(of.standardwebhooksCrypto, of.oursVerify)),
          eventHandlerOverMapLookup: spread(paired(of.eventHandler, of.mapLookup)),
        },
      };
    };
    log(
      `bench: libraries: warm verification, ${iterations} calls each (200 B), ${largeIterations(iterations)} (64 KiB)`,
    );
    const verifyFigures = [
      measureVerify(200, iterations),
      measureVerify(64 * 1024, largeIterations(iterations)),
    ];
    return {
      rounds,
      sizes: Object.fromEntries(
        ENTRIES.map((e) => [
          e,
          { label: ENTRY_LABELS[e], bytes: built.bundles[e].bytes, files: built.bundles[e].files.length },
        ]),
      ) as Record<Entry, BundleFigures>,
      cold: { sourceMaps: coldOf('sourceMaps'), noSourceMaps: coldOf('noSourceMaps') },
      verify: verifyFigures,
      agreement: agreement(),
      built,
    };
  } finally {
    if (!opts.dir) await rm(dir, { recursive: true, force: true });
  }
}

const largeIterations = (iterations: number) => Math.max(5, Math.ceil(iterations / 10));

/** The human table of `--libraries`. */
export function librariesTable(r: LibrariesResult): string[] {
  const ms = (n: number) => `${round(n, 2)}`;
  const sp = (s: Spread) => `${ms(s.median)} (${ms(s.p25)} to ${ms(s.p75)})`;
  const table = (head: string[], rows: string[][]) => {
    const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]?.length ?? 0)));
    const line = (row: readonly string[]) =>
      `| ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
    return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  };
  const { sourceMaps, noSourceMaps } = r.cold;
  const out = table(
    [
      'handler',
      'bundle bytes',
      'import over empty ms, with source maps: median (p25 to p75)',
      'without source maps',
      'CPU over empty ms (with / without source maps)',
      'first call ms',
    ],
    ENTRIES.map((e) => {
      const d = sourceMaps.entries[e];
      const n = noSourceMaps.entries[e];
      return [
        r.sizes[e].label,
        r.sizes[e].bytes.toLocaleString('en-US'),
        e === 'empty' ? `(itself: ${ms(d.importMs)})` : sp(d.overEmptyMs),
        e === 'empty' ? `(itself: ${ms(n.importMs)})` : sp(n.overEmptyMs),
        e === 'empty' ? '-' : `${ms(d.overEmptyCpuMs)} / ${ms(n.overEmptyCpuMs)}`,
        ms(d.firstCallMs),
      ];
    }),
  );
  out.push('', `cold import, paired in each of ${r.rounds} rounds, with / without source maps:`);
  const costs: [string, keyof ColdFigures['libraryCostMs']][] = [
    ['standardwebhooks over our verifier', 'standardwebhooksOverOurs'],
    ['the same, node:crypto loaded in both (as receive)', 'standardwebhooksCryptoOverOurs'],
    ['event-handler Router over Map lookup', 'eventHandlerOverMapLookup'],
  ];
  for (const [label, key] of costs) {
    out.push(
      `  ${`${label}:`.padEnd(52)} ${sp(sourceMaps.libraryCostMs[key])} / ${sp(noSourceMaps.libraryCostMs[key])} ms`,
    );
  }
  const web = (e: Entry) => ms(sourceMaps.entries[e].webGlobalsMs);
  out.push(
    `  first new Response() after the first call (undici, as a first fetch loads it): empty handler ${web('empty')}, ` +
      `Map lookup ${web('mapLookup')}, event-handler Router ${web('eventHandler')} ms (its first call loaded it)`,
    `  (NODE_OPTIONS ${sourceMaps.nodeOptions} / ${noSourceMaps.nodeOptions}; ` +
      `source maps ${sourceMaps.sourceMaps ? 'on' : 'off'} / ${noSourceMaps.sourceMaps ? 'on' : 'off'})`,
    '',
    ...table(
      ['verify, warm, per call', 'ours us', 'standardwebhooks us', 'ratio'],
      r.verify.map((v) => [
        `${v.bodyBytes.toLocaleString('en-US')} B body (median of ${v.iterations})`,
        `${round(v.oursUs, 1)}`,
        `${round(v.standardwebhooksUs, 1)}`,
        `${round(v.ratio, 1)}`,
      ]),
    ),
  );
  const a = r.agreement;
  const yes = (b: boolean) => (b ? 'accepted' : 'rejected');
  out.push(
    '',
    `both verifiers, same requests: valid ${yes(a.valid.ours)} / ${yes(a.valid.standardwebhooks)}, ` +
      `signature changed ${yes(a.tamperedSignature.ours)} / ${yes(a.tamperedSignature.standardwebhooks)}, ` +
      `body changed ${yes(a.tamperedBody.ours)} / ${yes(a.tamperedBody.standardwebhooks)} (ours / standardwebhooks)`,
    `first-call statuses: ${ENTRIES.map((e) => `${e} ${JSON.stringify(sourceMaps.entries[e].firstCallStatuses)}`).join(', ')}`,
    `built-ins loaded beyond the empty handler: ${ENTRIES.filter((e) => e !== 'empty')
      .map((e) => {
        const f = sourceMaps.entries[e];
        const first = f.firstCallBuiltins.filter((m) => !m.startsWith('internal/'));
        return `${e} ${f.builtins.filter((m) => !m.startsWith('internal/')).join(' ') || 'none'}${first.length ? ` (+ first call: ${first.join(' ')})` : ''}`;
      })
      .join('; ')}`,
  );
  return out;
}
