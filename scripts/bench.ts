/**
 * `npm run bench [-- --json]`: the bridge's performance figures against their goals, each measured
 * in the same run as its baseline, on what `cdk synth` deploys (scripts/bench/deployed.ts). Prints a
 * table; with `--json` the last line is one JSON object with the figures. `--explain` adds what
 * the figures are made of: what loads at init, module by module, cold init without source maps,
 * warm overhead without logs or metrics. `--previous <commit>` (default: the last release before
 * the incident record) is the release the warm receive path is compared with; `none` skips it.
 * `--before <commit>` adds that commit's functions to the cold-init rounds (a before/after
 * measured under the same load).
 * Options for shorter runs: --closes, --rate, --pollers, --cold-runs, --warm-rounds, and
 * `--synth bundle` (bundleLambda instead of the CDK CLI: the same files, faster).
 * `--libraries` runs only what two libraries kept out of the Lambda code would cost
 * (scripts/bench/libraries.ts; `--cold-runs` rounds).
 * BENCHMARKS.md has the last results.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildBenchFiles, initFiles } from './bench/build';
import { type ColdInitResult, measureColdInit } from './bench/cold-init';
import { type DeployedApp, synthWithBundleLambda, synthWithCdk } from './bench/deployed';
import { measureDrain } from './bench/drain';
import { type InitProfile, type InitTrace, profileInit, traceInit } from './bench/init-trace';
import { librariesTable, measureLibraries } from './bench/libraries';
import { PREVIOUS_RELEASE, type Release, synthCommit } from './bench/previous';
import { round } from './bench/stats';
import { measureSync, syncTable } from './bench/sync';
import { measureTokens } from './bench/tokens';
import { measureWarm, measureWarmPair, type WarmResult } from './bench/warm';
import { parseCli, positiveInt, usageError } from './cli';

// The in-process measurement (tokens) builds handlers that would print logs and EMF here.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const USAGE = `usage: npm run bench [-- options]
  --json               also print the figures as one JSON line
  --explain            add what the figures are made of (init by module, CPU profiles, without source maps, logs or EMF)
  --previous COMMIT    the release the warm path is compared with (default ${PREVIOUS_RELEASE}; none skips it)
  --before COMMIT      add that commit's functions to the cold-init rounds
  --synth cdk|bundle   how the functions are built (default cdk: npx cdk synth)
  --closes N --rate R --pollers P   the drain (default 2000 closes, 10/s, 3 pollers)
  --cold-runs N --warm-rounds N     rounds of cold init (21) and warm blocks (12)
  --sync [--sync-incidents N --sync-rate-limit R]   only the ESET-to-ticket sync (1000, 10)
  --libraries          only what two libraries kept out of the Lambda code would cost
BENCHMARKS.md has the last results.`;

const values = parseCli(
  {
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
    'sync-rate-limit': { type: 'string', default: '10' },
    // What standardwebhooks and Powertools' event-handler would cost (scripts/bench/libraries.ts), run alone.
    libraries: { type: 'boolean', default: false },
    previous: { type: 'string', default: PREVIOUS_RELEASE },
    before: { type: 'string' },
    synth: { type: 'string', default: 'cdk' },
  },
  USAGE,
);
const num = (
  name: 'closes' | 'rate' | 'pollers' | 'cold-runs' | 'warm-rounds' | 'sync-incidents' | 'sync-rate-limit',
) => positiveInt(name, values[name], USAGE);
const closes = num('closes');
const rate = num('rate');
if (rate > 10) usageError(USAGE, '--rate: ESET allows at most 10 calls per second');
if (values.synth !== 'cdk' && values.synth !== 'bundle') usageError(USAGE, '--synth is cdk or bundle');
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
const load = () => loadavg().map((l) => round(l, 2));
const loadAtStart = load();

if (values.sync) {
  const result = await measureSync({
    incidents: num('sync-incidents'),
    rateLimit: num('sync-rate-limit'),
    log,
  });
  for (const line of syncTable(result)) console.log(line);
  console.log(
    `\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; ` +
      `${result.incidents} incidents, ${result.changed} changed before the last run, ESET_RATE_LIMIT ${result.rateLimit}; ` +
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

if (values.libraries) {
  const { built, ...result } = await measureLibraries({ rounds: num('cold-runs'), log });
  for (const line of librariesTable(result)) console.log(line);
  const machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model,
    node: process.version,
    loadAverage: { start: loadAtStart, end: load() },
  };
  console.log(
    `\nmachine: ${machine.cores} cores (${machine.cpu ?? 'unknown'}), Node ${machine.node}, ` +
      `load average ${loadAtStart.join(' ')} at the start, ${machine.loadAverage.end.join(' ')} at the end; ` +
      `${round((performance.now() - started) / 1000, 1)} s in all; code at ${rev.commit}` +
      (rev.uncommittedFunctions > 0
        ? ` with ${rev.uncommittedFunctions} uncommitted file(s) in functions/`
        : ''),
  );
  if (values.json)
    console.log(
      JSON.stringify({ libraries: result, machine, revision: rev, date: new Date().toISOString() }),
    );
  process.exit(0);
}

const files = await buildBenchFiles();
try {
  let app: DeployedApp;
  if (values.synth === 'cdk') {
    log('bench: npx cdk synth --quiet (the functions as deployed)');
    app = await synthWithCdk(join(files.dir, 'cdk.out'));
  } else {
    log('bench: the stack template and bundleLambda (the functions as deployed)');
    app = await synthWithBundleLambda(files.dir);
  }
  let before: Release | undefined;
  if (values.before) {
    log(`bench: ${values.before} as deployed, for cold init before and after`);
    const dir = join(files.dir, 'before');
    await mkdir(dir);
    before = await synthCommit(values.before, dir);
    if ('skipped' in before) throw new Error(`--before: ${before.skipped}`);
  }
  const runs = num('cold-runs');
  log(`bench: cold init (${runs} rounds of fresh Node processes, deployed environment)`);
  const cold = measureColdInit(
    files,
    app,
    runs,
    before && 'app' in before ? { before: { label: before.commit, app: before.app } } : {},
  );
  const [receiveFiles, retryFiles] = await Promise.all([
    initFiles(app.receive.codeDir),
    initFiles(app.retry.codeDir),
  ]);

  let previous: Release | undefined;
  if (values.previous !== 'none') {
    log(`bench: the previous release (${values.previous}) as deployed, for the warm comparison`);
    const dir = join(files.dir, 'previous');
    await mkdir(dir);
    previous = await synthCommit(values.previous, dir);
    if ('skipped' in previous) log(`bench: previous release skipped: ${previous.skipped}`);
  }
  const rounds = num('warm-rounds');
  let warm: WarmResult;
  let warmPrevious: WarmResult | undefined;
  if (previous && 'app' in previous) {
    log('bench: warm invocations against a loopback ESET, this code and the previous release in turns');
    [warm, warmPrevious] = await measureWarmPair(files, app.receive, previous.app.receive, {
      rounds,
      blocks: rounds >= 4 ? 4 : 2,
    });
  } else {
    log('bench: warm invocations against a loopback ESET');
    warm = await measureWarm(files, app.receive, { rounds });
  }
  log('bench: token requests under concurrency');
  const tokens = await measureTokens(100);

  let explained:
    | {
        initTrace: Record<'receive' | 'retry', InitTrace>;
        initProfile: Record<'receive' | 'retry', InitProfile>;
        coldSourceMaps: ColdInitResult;
        warm: Record<string, WarmResult>;
      }
    | undefined;
  if (values.explain) {
    log('bench: explain: what loads at init, module by module');
    const initTrace = await traceInit(files, app, Math.min(runs, 11));
    log('bench: explain: CPU profiles of the cold init');
    const initProfile = await profileInit(files, app, Math.min(runs, 7));
    log('bench: explain: cold init with and without --enable-source-maps, in the same rounds');
    // As deployed, and the other way round (source maps are a deployment setting, `sourceMaps`).
    const deployedOptions = app.receive.env.NODE_OPTIONS ?? '';
    const deployedWithMaps = /(^|\s)--enable-source-maps\b/.test(deployedOptions);
    const coldSourceMaps = measureColdInit(files, app, runs, {
      before: {
        label: deployedWithMaps ? 'without --enable-source-maps' : 'with --enable-source-maps',
        app,
        nodeOptions: deployedWithMaps
          ? deployedOptions.replace(/\s*--enable-source-maps\b/, '').trim()
          : `--enable-source-maps ${deployedOptions}`.trim(),
      },
    });
    log('bench: explain: warm overhead without INFO logs / EMF metrics');
    const variants: Record<string, Record<string, string>> = {
      'no INFO logs': { POWERTOOLS_LOG_LEVEL: 'WARN', AWS_LAMBDA_LOG_LEVEL: 'WARN' },
      'no EMF metrics': { POWERTOOLS_METRICS_DISABLED: 'true' },
      neither: {
        POWERTOOLS_LOG_LEVEL: 'WARN',
        AWS_LAMBDA_LOG_LEVEL: 'WARN',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    };
    const warmParts: Record<string, WarmResult> = {};
    for (const [name, env] of Object.entries(variants)) {
      warmParts[name] = await measureWarm(files, app.receive, { rounds, env });
    }
    explained = { initTrace, initProfile, coldSourceMaps, warm: warmParts };
  }
  log(
    `bench: drain of ${closes} queued closes at ${rate} calls/s (takes about ${Math.ceil(closes / rate)} s)`,
  );
  const drain = await measureDrain(files, app.retry, { closes, rate, pollers: num('pollers'), log });

  const kib = (bytes: number) => round(bytes / 1024, 1);
  const figures = {
    coldInitMs: { receive: round(cold.receiveMs), retry: round(cold.retryMs) },
    bundleKiB: { receive: kib(receiveFiles.bytes), retry: kib(retryFiles.bytes) },
    warmOverheadRatio: round(warm.ratio, 3),
    ...(warmPrevious
      ? { warmVsPrevious: round(warm.handlerMedianMs / warmPrevious.handlerMedianMs, 3) }
      : {}),
    tokenCallsUnderConcurrency: tokens.tokenRequests,
    drainRatio: round(drain.drainRatio, 3),
    fraction429: round(drain.fraction429, 4),
    peakRssMb: round(drain.peakRssMb, 1),
  };
  const goals = {
    coldInitMs: Math.max(figures.coldInitMs.receive, figures.coldInitMs.retry) <= 25,
    warmOverheadRatio: figures.warmOverheadRatio <= 1.3,
    ...(figures.warmVsPrevious !== undefined ? { warmVsPrevious: figures.warmVsPrevious <= 1 } : {}),
    tokenCallsUnderConcurrency: figures.tokenCallsUnderConcurrency === 1,
    drainRatio: figures.drainRatio >= 0.9,
    fraction429: figures.fraction429 <= 0.01,
    peakRssMb: figures.peakRssMb <= 100,
  };
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const ops = (w: WarmResult) =>
    Object.entries(w.dynamoOpsPerClose)
      .map(([k, v]) => `${v} ${k} (${round(w.dynamoOpMedianMs[k] ?? Number.NaN, 2)} ms)`)
      .join(' + ') || 'none';
  const ms3 = (n: number) => `${round(n, 3)}`;
  const rows: [string, string, string, string][] = [
    [
      'coldInitMs receive',
      `${figures.coldInitMs.receive} ms`,
      '<= 25 ms over empty',
      mark(cold.receiveMs <= 25),
    ],
    ['coldInitMs retry', `${figures.coldInitMs.retry} ms`, '<= 25 ms over empty', mark(cold.retryMs <= 25)],
    [
      '  (imported in)',
      `${round(cold.receive.ms)} / ${round(cold.retry.ms)} / ${round(cold.empty.ms)} ms`,
      `receive / retry / empty handler, median of ${cold.runs}`,
      '',
    ],
    [
      '  (CPU time over empty)',
      `${round(cold.receiveCpuMs)} / ${round(cold.retryCpuMs)} ms`,
      'receive / retry, median',
      '',
    ],
    ...(cold.before
      ? ([
          [
            `  (before: ${cold.before.label})`,
            `${round(cold.before.receiveMs)} / ${round(cold.before.retryMs)} ms`,
            'receive / retry over empty, same rounds',
            '',
          ],
          [
            '  (before: CPU time)',
            `${round(cold.before.receiveCpuMs)} / ${round(cold.before.retryCpuMs)} ms`,
            'receive / retry over empty, median',
            '',
          ],
        ] as [string, string, string, string][])
      : []),
    [
      '  (NODE_OPTIONS)',
      cold.nodeOptions || '(none)',
      `as deployed; ${app.receive.runtime} on Node ${process.version}`,
      '',
    ],
    [
      'bundleKiB receive',
      `${figures.bundleKiB.receive} KiB`,
      `read at init (${receiveFiles.files.length} files)`,
      '',
    ],
    [
      'bundleKiB retry',
      `${figures.bundleKiB.retry} KiB`,
      `read at init (${retryFiles.files.length} files)`,
      '',
    ],
    ['warmOverheadRatio', String(figures.warmOverheadRatio), '<= 1.3', mark(goals.warmOverheadRatio)],
    [
      '  (medians)',
      `${ms3(warm.handlerMedianMs)} / ${ms3(warm.fetchMedianMs)} ms`,
      `handler / bare fetch, ${warm.samples} each`,
      '',
    ],
    [
      '  (DynamoDB per close)',
      `${warm.dynamoTripsPerClose} trips, ${ms3(warm.dynamoMedianMs)} ms`,
      ops(warm),
      '',
    ],
    ['  (handler less DynamoDB)', `${ms3(warm.handlerLessDynamoMedianMs)} ms`, 'median', ''],
  ];
  if (warmPrevious && previous && 'app' in previous) {
    rows.push(
      [
        'warmVsPrevious',
        String(figures.warmVsPrevious),
        `<= 1 (handler median over ${previous.commit}'s)`,
        mark(goals.warmVsPrevious === true),
      ],
      [
        '  (previous release)',
        `${ms3(warmPrevious.handlerMedianMs)} / ${ms3(warmPrevious.fetchMedianMs)} ms`,
        `handler / bare fetch, ${warmPrevious.samples} each`,
        '',
      ],
      [
        '  (its DynamoDB per close)',
        `${warmPrevious.dynamoTripsPerClose} trips, ${ms3(warmPrevious.dynamoMedianMs)} ms`,
        ops(warmPrevious),
        '',
      ],
      ['  (its handler less DynamoDB)', `${ms3(warmPrevious.handlerLessDynamoMedianMs)} ms`, 'median', ''],
    );
  }
  rows.push(
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
  );
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0), 6));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  console.log(line(['figure', 'value', 'goal / note', 'result']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(
    `\nmachine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ` +
      `load average ${loadAtStart.join(' ')} at the start, ${load().join(' ')} at the end; ` +
      `functions from ${app.via}; ` +
      `drain closed once ${drain.closedOnce}, twice ${drain.closedTwice}, dead-lettered ${drain.deadLettered}; ` +
      `warm statuses ${JSON.stringify(warm.statuses)}, ESET closes per invocation ${warm.esetClosesPerInvocation}; ` +
      `token run statuses ${JSON.stringify(tokens.statuses)}; ` +
      `${round((performance.now() - started) / 1000, 1)} s in all; code at ${rev.commit}` +
      (rev.uncommittedFunctions > 0
        ? ` with ${rev.uncommittedFunctions} uncommitted file(s) in functions/`
        : ''),
  );
  if (explained) {
    console.log('\nexplain (what the figures are made of):');
    const c = explained.coldSourceMaps;
    const w = c.before;
    console.log(
      `  cold init as deployed / ${w?.label ?? 'other'}, same rounds: receive ${round(c.receiveMs)} / ` +
        `${round(w?.receiveMs ?? Number.NaN)} ms, retry ${round(c.retryMs)} / ${round(w?.retryMs ?? Number.NaN)} ms ` +
        `(CPU ${round(c.receiveCpuMs)} / ${round(w?.receiveCpuMs ?? Number.NaN)}, ${round(c.retryCpuMs)} / ` +
        `${round(w?.retryCpuMs ?? Number.NaN)} ms)`,
    );
    for (const [name, p] of Object.entries(explained.initProfile)) {
      console.log(
        `  where init time goes, ${name} (CPU profile, ms per run of a ${round(p.importMs)} ms profiled import, median of ${p.runs}):`,
      );
      for (const part of p.parts.slice(0, 12))
        console.log(`    ${String(round(part.ms)).padStart(6)} ms  ${part.part}`);
    }
    for (const [name, t] of Object.entries(explained.initTrace)) {
      console.log(
        `  what loads at init, ${name}: ${round(t.bodiesMs)} ms in module code of ${round(t.importMs)} ms ` +
          `(instrumented build, median of ${t.runs}); the rest is reading, compiling, linking, built-ins`,
      );
      for (const m of t.modules.slice(0, 10))
        console.log(`    ${String(round(m.ms)).padStart(6)} ms  ${m.module}`);
      console.log(
        `    bytes read at init: ${t.bytes
          .slice(0, 8)
          .map((b) => `${b.module} ${b.kib} KiB`)
          .join(', ')}`,
      );
      console.log(
        `    Node built-ins loaded: ${t.builtins.filter((b) => !b.startsWith('internal/')).join(', ') || 'none'}`,
      );
    }
    for (const [name, r] of Object.entries(explained.warm)) {
      console.log(
        `  warm ratio, ${name.padEnd(14)} ${round(r.ratio, 3)} (${ms3(r.handlerMedianMs)} / ${ms3(r.fetchMedianMs)} ms)`,
      );
    }
  }
  if (values.json) {
    console.log(
      JSON.stringify({
        ...figures,
        goalsMet: goals,
        details: {
          machine: {
            cores: availableParallelism(),
            cpu: cpus()[0]?.model,
            node: process.version,
            loadAverage: { start: loadAtStart, end: load() },
          },
          revision: rev,
          date: new Date().toISOString(),
          functions: { via: app.via, runtime: app.receive.runtime, nodeOptions: cold.nodeOptions },
          coldInit: cold,
          initFiles: { receive: receiveFiles.files.length, retry: retryFiles.files.length },
          warm,
          ...(previous
            ? {
                previous:
                  'app' in previous
                    ? { commit: previous.commit, dependencies: previous.dependencies, warm: warmPrevious }
                    : previous,
              }
            : {}),
          tokens,
          drain,
          ...(explained ? { explain: explained } : {}),
        },
      }),
    );
  }
} finally {
  await files.remove();
}
