/**
 * `npm run bench [-- --json]`: the bridge's performance figures against the goals of issue 6,
 * each measured in the same run as its baseline. Prints a table; with `--json` the last line is
 * one JSON object with the figures. `--explain` adds what the missed figures are made of (cold
 * init without the AWS SDK, warm overhead without logs or metrics). Options for shorter runs:
 * --closes, --rate, --pollers, --cold-runs, --warm-rounds. BENCHMARKS.md has the last results.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { buildBundles } from './bench/build';
import { explainColdInit, measureColdInit } from './bench/cold-init';
import { measureDrain } from './bench/drain';
import { round } from './bench/stats';
import { measureSync, syncTable } from './bench/sync';
import { measureTokens } from './bench/tokens';
import { measureWarm, type WarmResult } from './bench/warm';

// The in-process measurement (tokens) builds handlers that would print logs and EMF here.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    closes: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '10' },
    pollers: { type: 'string', default: '3' },
    'cold-runs': { type: 'string', default: '21' },
    'warm-rounds': { type: 'string', default: '12' },
    // The ESET-to-ticket sync's own figure (scripts/bench/sync.ts), run alone.
    sync: { type: 'boolean', default: false },
    'sync-incidents': { type: 'string', default: '1000' },
    'sync-rps': { type: 'string', default: '2' },
  },
});
const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
const closes = num('closes');
const rate = num('rate');
if (rate > 10) throw new Error('--rate: ESET_MAX_RPS allows at most 10');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Which code was measured: the commit, and whether functions/ had uncommitted changes. */
function revision(): { commit: string; uncommittedFunctions: number } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'functions'], { encoding: 'utf8' });
    return { commit, uncommittedFunctions: dirty.split('\n').filter(Boolean).length };
  } catch {
    return { commit: 'unknown', uncommittedFunctions: 0 };
  }
}
const rev = revision();
const started = performance.now();

if (values.sync) {
  const result = await measureSync({
    incidents: num('sync-incidents'),
    esetMaxRps: num('sync-rps'),
    log,
  });
  for (const line of syncTable(result)) console.log(line);
  console.log(
    `\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ` +
      `${result.incidents} incidents, ${result.changed} changed before the last run, sync ESET_MAX_RPS ${result.esetMaxRps}; ` +
      `incidents with more than one issue: ${result.duplicates}; ` +
      `${round((performance.now() - started) / 1000, 1)} s in all; code at ${rev.commit}` +
      (rev.uncommittedFunctions > 0
        ? ` with ${rev.uncommittedFunctions} uncommitted file(s) in functions/`
        : ''),
  );
  if (values.json)
    console.log(JSON.stringify({ sync: result, revision: rev, date: new Date().toISOString() }));
  process.exit(0);
}

log('bench: bundling the Lambda entries with esbuild');
const bundles = await buildBundles();
try {
  log('bench: cold init (fresh Node processes)');
  const cold = measureColdInit(bundles, num('cold-runs'));
  log('bench: warm invocations against a loopback ESET');
  const warm = await measureWarm(bundles, { rounds: num('warm-rounds') });
  log('bench: token requests under concurrency');
  const tokens = await measureTokens(100);
  let explained:
    | { cold: Awaited<ReturnType<typeof explainColdInit>>; warm: Record<string, WarmResult> }
    | undefined;
  if (values.explain) {
    log('bench: explain: cold init without the AWS SDK; warm overhead without INFO logs / EMF metrics');
    const coldParts = await explainColdInit(bundles, num('cold-runs'));
    const variants: Record<string, Record<string, string>> = {
      'no INFO logs': { POWERTOOLS_LOG_LEVEL: 'WARN' },
      'no EMF metrics': { POWERTOOLS_METRICS_DISABLED: 'true' },
      neither: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    };
    const warmParts: Record<string, WarmResult> = {};
    for (const [name, env] of Object.entries(variants)) {
      warmParts[name] = await measureWarm(bundles, { rounds: num('warm-rounds'), env });
    }
    explained = { cold: coldParts, warm: warmParts };
  }
  log(
    `bench: drain of ${closes} queued closes at ${rate} calls/s (takes about ${Math.ceil(closes / rate)} s)`,
  );
  const drain = await measureDrain(bundles, { closes, rate, pollers: num('pollers'), log });

  const kib = (bytes: number) => round(bytes / 1024, 1);
  const figures = {
    coldInitMs: { receive: round(cold.receiveMs), retry: round(cold.retryMs) },
    bundleKiB: { receive: kib(bundles.receive.bytes), retry: kib(bundles.retry.bytes) },
    warmOverheadRatio: round(warm.ratio, 3),
    tokenCallsUnderConcurrency: tokens.tokenRequests,
    drainRatio: round(drain.drainRatio, 3),
    fraction429: round(drain.fraction429, 4),
    peakRssMb: round(drain.peakRssMb, 1),
  };
  const goals = {
    coldInitMs: Math.max(figures.coldInitMs.receive, figures.coldInitMs.retry) <= 25,
    warmOverheadRatio: figures.warmOverheadRatio <= 1.3,
    tokenCallsUnderConcurrency: figures.tokenCallsUnderConcurrency === 1,
    drainRatio: figures.drainRatio >= 0.9,
    fraction429: figures.fraction429 <= 0.01,
    peakRssMb: figures.peakRssMb <= 100,
  };
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: [string, string, string, string][] = [
    [
      'coldInitMs receive',
      `${figures.coldInitMs.receive} ms`,
      '<= 25 ms over empty',
      `${mark(figures.coldInitMs.receive <= 25)}`,
    ],
    [
      'coldInitMs retry',
      `${figures.coldInitMs.retry} ms`,
      '<= 25 ms over empty',
      mark(figures.coldInitMs.retry <= 25),
    ],
    ['  (empty module)', `${round(cold.emptyMs)} ms`, `median of ${cold.runs} fresh processes`, ''],
    [
      '  (one file, SDK inside)',
      `${round(cold.receiveWithSdkMs)} / ${round(cold.retryWithSdkMs)} ms`,
      'info: receive / retry',
      '',
    ],
    ['bundleKiB receive', `${figures.bundleKiB.receive} KiB`, 'info', ''],
    ['bundleKiB retry', `${figures.bundleKiB.retry} KiB`, 'info', ''],
    [
      '  (one file, SDK inside)',
      `${kib(bundles.receiveWithSdk.bytes)} / ${kib(bundles.retryWithSdk.bytes)} KiB`,
      'info: receive / retry',
      '',
    ],
    ['warmOverheadRatio', String(figures.warmOverheadRatio), '<= 1.3', mark(goals.warmOverheadRatio)],
    [
      '  (medians)',
      `${round(warm.handlerMedianMs, 3)} / ${round(warm.fetchMedianMs, 3)} ms`,
      `handler / bare fetch, ${warm.samples} each`,
      '',
    ],
    [
      'tokenCallsUnderConcurrency',
      String(figures.tokenCallsUnderConcurrency),
      `= 1 (${tokens.concurrency} closes at once)`,
      mark(goals.tokenCallsUnderConcurrency),
    ],
    ['drainRatio', String(figures.drainRatio), '>= 0.9', mark(goals.drainRatio)],
    [
      '  (drain)',
      `${round(drain.closesPerSecond)} closes/s`,
      `${drain.closes} closes, R = ${drain.rate}/s, ${round(drain.seconds, 1)} s`,
      '',
    ],
    ['fraction429', String(figures.fraction429), '<= 0.01', mark(goals.fraction429)],
    [
      '  (ESET calls)',
      `${drain.esetCalls} (${drain.calls429} x 429)`,
      `max ${drain.maxCallsInAnySecond} in any second`,
      '',
    ],
    ['peakRssMb', `${figures.peakRssMb} MB`, '<= 100 MB', mark(goals.peakRssMb)],
    ['  (worker idle)', `${round(drain.idleRssMb, 1)} MB`, 'after loading the retry bundle', ''],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0), 6));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  console.log(line(['figure', 'value', 'goal / note', 'result']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    `\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ` +
      `drain closed once ${drain.closedOnce}, twice ${drain.closedTwice}, dead-lettered ${drain.deadLettered}; ` +
      `warm statuses ${JSON.stringify(warm.statuses)}; token run statuses ${JSON.stringify(tokens.statuses)}; ` +
      `${round((performance.now() - started) / 1000, 1)} s in all; code at ${rev.commit}` +
      (rev.uncommittedFunctions > 0
        ? ` with ${rev.uncommittedFunctions} uncommitted file(s) in functions/`
        : ''),
  );
  if (explained) {
    const { cold: c, warm: w } = explained;
    console.log('\nexplain (what the figures are made of):');
    console.log(
      `  cold init with the AWS SDK stubbed out: receive ${round(c.receiveWithoutSdkMs)} ms, retry ` +
        `${round(c.retryWithoutSdkMs)} ms (RSS ${round(c.rssWithoutSdkMb.receive, 1)} / ` +
        `${round(c.rssWithoutSdkMb.retry, 1)} MB vs ${round(cold.rssMb.receive, 1)} / ${round(cold.rssMb.retry, 1)} MB)`,
    );
    console.log(
      `  SDK packages loaded at cold start: receive ${c.staticSdkImports.receive.join(', ') || 'none'}`,
    );
    console.log(
      `                                     retry ${c.staticSdkImports.retry.join(', ') || 'none'}`,
    );
    for (const [name, r] of Object.entries(w)) {
      console.log(
        `  warm ratio, ${name.padEnd(14)} ${round(r.ratio, 3)} (${round(r.handlerMedianMs, 3)} / ${round(r.fetchMedianMs, 3)} ms)`,
      );
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify({
        ...figures,
        goalsMet: goals,
        details: {
          machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
          revision: rev,
          date: new Date().toISOString(),
          coldInit: cold,
          bundleKiBWithSdk: {
            receive: kib(bundles.receiveWithSdk.bytes),
            retry: kib(bundles.retryWithSdk.bytes),
          },
          warm,
          tokens,
          drain,
          ...(explained ? { explain: explained } : {}),
        },
      }),
    );
  }
} finally {
  await bundles.remove();
}
