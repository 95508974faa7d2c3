/**
 * `npm run demo -- [--count 20] [--url http://127.0.0.1:3000] [--timeout 120]`: against a running
 * `npm start` with its sandbox, seeds incidents whose ESET answers follow a fault mix (503, 429,
 * 202 pending, lost cache, a hang past the bridge's timeout, a refusal after a retry, an unknown
 * incident), sends one signed close per incident, and shows live progress until every request
 * is settled: closed, dead-lettered or rejected. Exits 0 when all settled and none closed twice.
 * `npm run demo -- --sync`: the ESET-to-ticket loop instead (demo-sync.ts).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { FaultStep } from './eset-sandbox/faults';
import { defaultBridgeUrl, LOCAL_WEBHOOK_SECRET, signedRequest } from './send';

interface Scenario {
  name: string;
  /** Steps the sandbox plays for the incident's close calls (see eset-sandbox/faults.ts). */
  steps: FaultStep[];
  /** Not seeded: ESET answers 404. */
  unknown?: boolean;
}

/** The mix, in the order incidents are assigned to it (cycled when --count is larger). */
export const SCENARIOS: Scenario[] = [
  { name: 'closes at once', steps: [] },
  { name: '503 with Retry-After: 1', steps: [{ kind: 'status', status: 503, retryAfter: '1' }] },
  { name: '202 pending, then the answer', steps: [{ kind: 'pending', resendsUntilReady: 1 }] },
  { name: '429 rate limited', steps: [{ kind: 'status', status: 429 }] },
  {
    name: '500, then 502',
    steps: [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
    ],
  },
  { name: 'cache lost after 202', steps: [{ kind: 'lostCache' }] },
  {
    name: '503, then refused (403)',
    steps: [
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'status', status: 403, body: '{"code":7,"message":"permission denied","details":[]}' },
    ],
  },
  { name: 'unknown incident', steps: [], unknown: true },
  { name: 'closes at once', steps: [] },
  // Longer than the receive budget (the hang is set from the bridge's ESET_TIMEOUT_MS): the bridge
  // stops waiting, settles, reads, and finds it closed.
  { name: 'ESET hangs past the timeout', steps: [{ kind: 'hang', ms: 0, applied: true }] },
];

type State = 'sending' | 'queued' | 'closed' | 'dead-lettered' | 'rejected';

interface Item {
  uuid: string;
  scenario: Scenario;
  answer?: number;
  state: State;
}

interface RuntimeInfo {
  eset: string;
  esetApiUrl: string;
  timing: string;
  receiveBudgetMs: number;
  webhookSecret: { value?: string };
  stats: { incidents: Record<string, string> };
}

interface SandboxState {
  incidents: Record<string, { status: string; closesApplied: number }>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

function tally(items: Item[]): Record<State, number> {
  const counts: Record<State, number> = { sending: 0, queued: 0, closed: 0, 'dead-lettered': 0, rejected: 0 };
  for (const item of items) counts[item.state] += 1;
  return counts;
}

async function main(): Promise<number> {
  let values: { count?: string; url?: string; timeout?: string; help?: boolean; sync?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        count: { type: 'string', default: '20' },
        url: { type: 'string' },
        timeout: { type: 'string', default: '120' },
        help: { type: 'boolean', short: 'h' },
        sync: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (values.help) {
    console.log('usage: npm run demo -- [--count 20] [--url http://127.0.0.1:3000] [--timeout 120]');
    console.log(
      '       npm run demo -- --sync [--url http://127.0.0.1:3000]   (with SYNC_TARGET=jira npm start)',
    );
    return 0;
  }
  if (values.sync) {
    const { syncDemo } = await import('./demo-sync');
    return syncDemo(values.url ?? defaultBridgeUrl());
  }
  const count = Number(values.count);
  const timeoutS = Number(values.timeout);
  if (!Number.isInteger(count) || count < 1 || count > 1_000) {
    console.error('--count must be a whole number from 1 to 1000');
    return 2;
  }
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    console.error('--timeout must be a positive number of seconds');
    return 2;
  }
  const webhookUrl = values.url ?? defaultBridgeUrl();
  const localUrl = new URL('/_local/runtime', webhookUrl).href;

  let info: RuntimeInfo;
  try {
    info = await getJson<RuntimeInfo>(localUrl);
  } catch (err) {
    console.error(
      `cannot reach the local runtime at ${localUrl} (${err instanceof Error ? err.message : String(err)}).\n` +
        'Start it first with npm start (and use --url if it listens elsewhere).',
    );
    return 1;
  }
  if (info.eset !== 'sandbox') {
    console.error(
      'the demo drives the ESET sandbox; this bridge talks to a real ESET (ESET_REGION / ESET_API_URL)',
    );
    return 1;
  }
  const sandboxUrl = info.esetApiUrl;
  const secret =
    info.webhookSecret.value ?? process.env.WEBHOOK_SECRET?.split(/[\s,]+/)[0] ?? LOCAL_WEBHOOK_SECRET;

  const items: Item[] = Array.from({ length: count }, (_, i) => ({
    uuid: randomUUID(),
    scenario: SCENARIOS[i % SCENARIOS.length] as Scenario,
    state: 'sending',
  }));
  await postJson(`${sandboxUrl}/_sandbox/incidents`, {
    incidents: items.filter((i) => !i.scenario.unknown).map((i) => ({ uuid: i.uuid })),
  });
  for (const item of items) {
    if (item.scenario.steps.length > 0) {
      const steps = item.scenario.steps.map((step) =>
        step.kind === 'hang' ? { ...step, ms: info.receiveBudgetMs + 1_000 } : step,
      );
      await postJson(`${sandboxUrl}/_sandbox/script`, { uuid: item.uuid, steps });
    }
  }
  if (info.timing !== 'fast') {
    console.log(
      'demo: the bridge runs the deployed timings (a 202 after 30 s, a settle of minutes): this takes a while. ' +
        'For a quick demo start it with LOCAL_TIMING=fast npm start.',
    );
  }
  console.log(
    `demo: ${count} incidents seeded in the sandbox at ${sandboxUrl}; sending signed closes to ${webhookUrl}`,
  );

  const started = Date.now();
  const sending = eachLimited(items, 5, async (item) => {
    const request = signedRequest(
      {
        incidentUuid: item.uuid,
        closureReason: 'true-positive',
        comment: `Closed by npm run demo (${item.scenario.name})`,
        ticketId: `DEMO-${items.indexOf(item) + 1}`,
      },
      secret,
    );
    try {
      const res = await fetch(webhookUrl, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(30_000),
      });
      item.answer = res.status;
      await res.arrayBuffer();
      item.state = res.status === 200 ? 'closed' : res.status === 202 ? 'queued' : 'rejected';
    } catch {
      item.state = 'rejected';
    }
  });

  let last = '';
  let sandbox: SandboxState = { incidents: {} };
  const deadline = started + timeoutS * 1_000;
  let sent = false;
  void sending.then(() => {
    sent = true;
  });
  while (Date.now() < deadline) {
    [sandbox, info] = await Promise.all([
      getJson<SandboxState>(`${sandboxUrl}/_sandbox/state`),
      getJson<RuntimeInfo>(localUrl),
    ]);
    for (const item of items) {
      if (item.state !== 'queued') continue;
      // Settled when the bridge is done with it (ESET may show CLOSED while a re-send or a
      // verification is still queued), and the sandbox agrees.
      const last = info.stats.incidents[item.uuid];
      const done = last === 'closed' || last === 'already';
      if (done && sandbox.incidents[item.uuid]?.status === 'INCIDENT_STATUS_CLOSED') {
        item.state = 'closed';
      } else if (last === 'dead-lettered') item.state = 'dead-lettered';
    }
    const c = tally(items);
    const line = `progress: closed ${c.closed}/${count}  queued ${c.queued}  dead-lettered ${c['dead-lettered']}  rejected ${c.rejected}${c.sending > 0 ? `  sending ${c.sending}` : ''}`;
    if (line !== last) {
      console.log(`${line}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      last = line;
    }
    if (sent && c.queued === 0 && c.sending === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await Promise.race([sending, new Promise((r) => setTimeout(r, 1_000))]);

  console.log(
    '\nscenario                         incident                              answer  final          closes',
  );
  for (const item of items) {
    const closes = sandbox.incidents[item.uuid]?.closesApplied;
    console.log(
      `${item.scenario.name.padEnd(32)} ${item.uuid}  ${String(item.answer ?? '-').padEnd(6)}  ${item.state.padEnd(13)}  ${closes ?? '-'}`,
    );
  }
  const c = tally(items);
  const twice = items.filter((i) => (sandbox.incidents[i.uuid]?.closesApplied ?? 0) > 1);
  const settled = c.queued === 0 && c.sending === 0;
  console.log(
    `\nsummary: ${c.closed} closed, ${c['dead-lettered']} dead-lettered, ${c.rejected} rejected` +
      `${settled ? '' : `, ${c.queued + c.sending} not settled after ${timeoutS} s`}; ` +
      `${twice.length === 0 ? 'no incident closed twice' : `${twice.length} incident(s) closed more than once`}` +
      ` (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return settled && twice.length === 0 ? 0 : 1;
}

process.exitCode = await main();
