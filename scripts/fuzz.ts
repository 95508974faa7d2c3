/**
 * `npm run fuzz [-- --runs N --seed S]`: fast-check over both boundaries of the bridge, the webhook
 * (receive handler) and the retry message (retry handler), against the ESET sandbox and a
 * recording queue. Prints a summary; exits non-zero with the shrunk counterexample on a failure.
 */
import fc from 'fast-check';
import { parseCli, positiveInt, usageError } from './cli';
import { checkRetryBatch, checkWebhookCase, FuzzStats, trackUnhandledRejections } from './fuzz/properties';
import { retryBatchArb } from './fuzz/retry-cases';
import { startFuzzRig } from './fuzz/rig';
import { webhookCaseArb } from './fuzz/webhook-cases';

// The handlers under test log and emit EMF to stdout; the summary is what this tool prints.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const USAGE = `usage: npm run fuzz [-- options]
  --runs N     cases per boundary (default 5000)
  --seed S     fast-check's seed (default: from the clock; printed in the summary)
  --only NAME  one boundary: webhook or retry`;

const values = parseCli(
  {
    runs: { type: 'string', default: '5000' },
    seed: { type: 'string' },
    only: { type: 'string' },
  },
  USAGE,
);
const runs = positiveInt('runs', values.runs, USAGE);
const seed = values.seed === undefined ? Date.now() % 2_147_483_647 : Number(values.seed);
if (!Number.isInteger(seed)) usageError(USAGE, '--seed must be a whole number');
if (values.only !== undefined && values.only !== 'webhook' && values.only !== 'retry')
  usageError(USAGE, '--only is webhook or retry');

interface Outcome {
  name: string;
  stats: FuzzStats;
  ms: number;
  failure?: string;
}

async function fuzz(
  name: string,
  property: (
    rig: Awaited<ReturnType<typeof startFuzzRig>>,
    stats: FuzzStats,
  ) => fc.IAsyncPropertyWithHooks<[unknown]>,
): Promise<Outcome> {
  const rig = await startFuzzRig({ seed });
  const stats = new FuzzStats();
  const rejections = trackUnhandledRejections();
  const started = performance.now();
  let failure: string | undefined;
  try {
    const details = await fc.check(property(rig, stats), { numRuns: runs, seed });
    if (details.failed) {
      const error =
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance);
      failure = `${error}\n\n${fc.defaultReportMessage(details) ?? ''}`;
    }
  } finally {
    rejections.stop();
    await rig.close();
  }
  if (!failure && rejections.seen.length > 0) {
    failure = `unhandled rejection(s): ${rejections.seen.map(String).join('; ')}`;
  }
  return { name, stats, ms: performance.now() - started, ...(failure ? { failure } : {}) };
}

const outcomes: Outcome[] = [];
if (values.only !== 'retry') {
  outcomes.push(
    await fuzz(
      'webhook (receive handler)',
      (rig, stats) =>
        fc.asyncProperty(webhookCaseArb(rig.knownIncidents, rig.config.maxBodyBytes), (c) =>
          checkWebhookCase(rig, c, { stats }),
        ) as fc.IAsyncPropertyWithHooks<[unknown]>,
    ),
  );
}
if (values.only !== 'webhook') {
  outcomes.push(
    await fuzz(
      'retry message (retry handler)',
      (rig, stats) =>
        fc.asyncProperty(retryBatchArb(rig.knownIncidents), (b) =>
          checkRetryBatch(rig, b, { stats }),
        ) as fc.IAsyncPropertyWithHooks<[unknown]>,
    ),
  );
}

const table = (title: string, counts: Record<string, number>) => {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return;
  console.log(`  ${title}`);
  for (const [k, v] of rows) console.log(`    ${String(v).padStart(6)}  ${k}`);
};

console.log(`fuzz: seed ${seed}, ${runs} runs per boundary`);
for (const o of outcomes) {
  console.log(
    `\n${o.name}: ${o.failure ? 'FAILED' : 'ok'}, ${o.stats.cases} cases in ${(o.ms / 1000).toFixed(1)} s`,
  );
  table('answers (oracle verdict -> status) / record outcomes', o.stats.byOutcome);
  table('generated families', o.stats.byFamily);
  table('notes', o.stats.notes);
  if (o.failure) console.log(`\n${o.failure}`);
}
process.exitCode = outcomes.some((o) => o.failure) ? 1 : 0;
