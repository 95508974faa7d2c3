/**
 * `npm start`: the whole bridge on this machine, with nothing to configure (docs/local-runtime.md).
 * Prints `ready {json}` once everything listens, then one readable line per outcome, and a
 * summary when SIGINT / SIGTERM stops it (after the requests and the batch in hand are finished).
 */

import type { Runtime } from './runtime';

// The handlers' JSON logs and EMF metrics are for CloudWatch; locally the outcome lines say it
// better. Both stay available: POWERTOOLS_LOG_LEVEL=INFO, POWERTOOLS_METRICS_DISABLED=false.
process.env.POWERTOOLS_LOG_LEVEL ||= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ||= 'true';
// The SDK's notice about its future Node.js 22 requirement is not news for a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';

const { formatOutcome, localOptionsFromEnv, readyInfo, startRuntime } = await import('./runtime');
const { formatSyncActivity } = await import('./sync-runtime');

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

let runtime: Runtime;
try {
  const options = localOptionsFromEnv(process.env);
  runtime = await startRuntime({
    ...options,
    env: process.env,
    onOutcome: (o) => console.log(formatOutcome(o)),
    onNotice: (text) => console.log(`note: ${text}`),
    onSyncActivity: (a) => console.log(formatSyncActivity(a)),
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') {
    fail(`port ${e.port ?? ''} is in use; set PORT (or SANDBOX_PORT) to a free port, or 0 to pick one`);
  }
  fail(err instanceof Error ? err.message : String(err));
}

const secret = runtime.webhookSecret;
const banner = [
  'eset-close-bridge: local runtime',
  `  webhook URL   ${runtime.webhookUrl}`,
  secret.value
    ? `  secret        ${secret.value} (the documented local default; npm run send uses it)`
    : `  secret        from ${secret.source}`,
  runtime.sandbox
    ? `  ESET          sandbox at ${runtime.esetApiUrl} (admin: ${runtime.esetApiUrl}/_sandbox/state)`
    : `  ESET          ${runtime.esetApiUrl} (token: ${runtime.esetAuthUrl})`,
  `  SQS           ${process.env.AWS_ENDPOINT_URL_SQS ? '' : 'embedded '}${runtime.sqsEndpoint}`,
  `  timing        ${runtime.timing === 'fast' ? 'fast (LOCAL_TIMING=fast, for demos)' : 'as deployed'}: receive budget ${runtime.config.esetTimeoutMs} ms, retry call ${runtime.config.retryEsetTimeoutMs} ms, settle ${runtime.config.esetSettleSeconds} s, retry base ${runtime.config.retryBaseSeconds} s`,
  `  state         ${runtime.durable.records ? 'DynamoDB at AWS_ENDPOINT_URL_DYNAMODB' : 'embedded DynamoDB (in memory)'}${runtime.durable.queue ? '' : ', embedded SQS (in memory)'}`,
  `  retry queue   ${runtime.retryQueueUrl}`,
  `  DLQ           ${runtime.deadLetterQueueUrl}`,
];
if (runtime.sync) {
  const target = runtime.jira
    ? `Jira stand-in at ${runtime.jira.url} (project ${runtime.config.sync?.jira?.projectKey}, admin: ${runtime.jira.url}/_standin/state)`
    : runtime.sync.target === 'jira'
      ? `Jira at ${runtime.config.sync?.jira?.baseUrl}`
      : `webhook ${runtime.config.sync?.webhook?.url}`;
  banner.push(
    `  sync          every ${runtime.sync.intervalSeconds} s to ${target}; now: curl -X POST ${runtime.webhookUrl}_local/sync`,
  );
}
if (runtime.seededIncidents.length > 0) {
  banner.push(`  incidents     ${runtime.seededIncidents.join('\n                ')}`);
  banner.push(
    `  try           npm run send -- --incident ${runtime.seededIncidents[0]} --reason false-positive --comment "Closed locally"`,
  );
}
console.log(banner.join('\n'));
console.log(`ready ${JSON.stringify(readyInfo(runtime))}`);

function summary(rt: Runtime): string {
  const s = rt.stats();
  const answers = Object.entries(s.answers)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  const requests = Object.values(s.answers).reduce((a, b) => a + b, 0);
  const o = s.outcomes;
  const parts = [
    `${requests} webhook request(s)${answers ? ` (${answers})` : ''}`,
    `closed ${o.closed}, reopened ${o.reopened}, commented ${o.commented}, already so ${o.already}`,
    `queued ${o.queued}, requeued ${o.requeued}`,
    `dead-lettered ${o['dead-lettered']}`,
    `rejected ${o.rejected}, refused ${o.refused + o.unauthorized}`,
  ];
  if (o.ignored + o.duplicate + o.stale > 0) {
    parts.push(`ignored ${o.ignored}, duplicates ${o.duplicate}, stale ${o.stale}`);
  }
  if (o.error + o.redelivery > 0) parts.push(`errors ${o.error}, redeliveries ${o.redelivery}`);
  const q = s.queuesAtStop;
  if (q) {
    const left = q.retry.visible + q.retry.inFlight + q.retry.delayed;
    // The embedded queue and records live in this process: say so rather than promise a resume.
    const fate =
      rt.durable.queue && rt.durable.records
        ? 'picked up on the next start'
        : 'lost with this process: the embedded queue and records are in memory';
    parts.push(`left in the retry queue ${left}${left > 0 ? ` (${fate})` : ''}`);
    parts.push(`in the DLQ ${q.deadLetter.visible + q.deadLetter.inFlight + q.deadLetter.delayed}`);
  }
  return `summary: ${parts.join('; ')}`;
}

// npm and tsx relay the terminal's Ctrl-C, so one keypress can arrive two or three times at once:
// only a signal well after the first one means "stop waiting".
const REPEAT_MS = 2_000;
let signalledAt: number | undefined;
const stop = (signal: NodeJS.Signals) => {
  if (signalledAt !== undefined) {
    if (Date.now() - signalledAt < REPEAT_MS) return;
    console.error(
      `${signal} again: exiting now; messages in flight return to the queue after their visibility timeout`,
    );
    process.exit(1);
  }
  signalledAt = Date.now();
  console.log(`stopping on ${signal}: no new webhooks; finishing the requests and the batch in hand`);
  runtime.stop().then(
    () => {
      console.log(summary(runtime));
      process.exitCode = 0;
      // Keep-alive sockets of the ESET client may hold the event loop a little; nothing is left to do.
      setTimeout(() => process.exit(0), 1_000).unref();
    },
    (err: unknown) => {
      console.error(`npm start: stop failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
