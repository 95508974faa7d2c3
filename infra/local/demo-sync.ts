/**
 * `npm run demo -- --sync [--url http://127.0.0.1:3000]`: the whole ESET-to-ticket loop against a
 * running `SYNC_TARGET=jira npm start` (its ESET sandbox and embedded Jira stand-in), step by step:
 * incidents -> issues (none below the minimum severity); an issue resolved in Jira -> the incident
 * closed in ESET, once; a close, a comment and a reopen in the ESET console -> the issues follow;
 * more sync runs -> nothing new anywhere. Each step says what it checks; exits 0 when all hold.
 */
import { randomUUID } from 'node:crypto';
import { defaultBridgeUrl } from './send';

interface RuntimeInfo {
  eset: string;
  esetApiUrl: string;
  sync?: { target: string; intervalSeconds: number; jiraUrl?: string };
}
interface SandboxIncident {
  status: string;
  closesApplied: number;
  reopensApplied: number;
  comments: { text: string }[];
}
interface Issue {
  summary: string;
  status: string;
  category: string;
  labels: string[];
  comments: { text: string }[];
}

async function call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function syncDemo(bridgeUrl = defaultBridgeUrl()): Promise<number> {
  const local = (path: string) => new URL(path, bridgeUrl).href;
  let info: RuntimeInfo;
  try {
    info = await call<RuntimeInfo>('GET', local('/_local/runtime'));
  } catch (err) {
    console.error(
      `cannot reach the local runtime (${err instanceof Error ? err.message : String(err)}).\n` +
        'Start it first with SYNC_TARGET=jira npm start (and use --url if it listens elsewhere).',
    );
    return 1;
  }
  const jiraUrl = info.sync?.jiraUrl;
  if (info.eset !== 'sandbox' || !jiraUrl) {
    console.error(
      'the sync demo needs npm start with its ESET sandbox and SYNC_TARGET=jira without JIRA_BASE_URL',
    );
    return 1;
  }
  const eset = info.esetApiUrl;
  const incidents = async () =>
    (await call<{ incidents: Record<string, SandboxIncident> }>('GET', `${eset}/_sandbox/state`)).incidents;
  const issues = async () =>
    (await call<{ issues: Record<string, Issue> }>('GET', `${jiraUrl}/_standin/state`)).issues;
  const issueOf = async (uuid: string) => {
    const found = Object.entries(await issues()).filter(([, i]) =>
      i.labels.includes(`eset-incident-${uuid}`),
    );
    return found.map(([key, issue]) => ({ key, ...issue }));
  };
  const sync = async () => {
    const r = await call<{ created: number; told: Record<string, number>; listed: number }>(
      'POST',
      local('/_local/sync'),
    );
    console.log(
      `  sync run: listed ${r.listed}, tickets created ${r.created}, news told ${JSON.stringify(r.told)}`,
    );
  };
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };

  const tag = randomUUID().slice(0, 4);
  const demo = [
    { name: `Ransomware note on FS-01 (${tag})`, severity: 'HIGH' },
    { name: `Credential dumping on WS-17 (${tag})`, severity: 'HIGH' },
    { name: `Suspicious PowerShell on WS-22 (${tag})`, severity: 'MEDIUM' },
    { name: `Adware on KIOSK-3 (${tag})`, severity: 'LOW' },
  ].map((d) => ({ ...d, uuid: randomUUID() }));
  const [resolved, consoleClosed, commented, low] = demo as [
    (typeof demo)[0],
    (typeof demo)[0],
    (typeof demo)[0],
    (typeof demo)[0],
  ];

  try {
    console.log(`1. Four new ESET incidents (minimum severity for a ticket: MEDIUM by default)`);
    await call('POST', `${eset}/_sandbox/incidents`, {
      incidents: demo.map((d) => ({
        uuid: d.uuid,
        displayName: d.name,
        severity: `INCIDENT_SEVERITY_LEVEL_${d.severity}`,
      })),
    });
    await sync();
    for (const d of demo) {
      const found = await issueOf(d.uuid);
      const expected = d === low ? 0 : 1;
      check(
        found.length === expected,
        `${d.severity.padEnd(6)} ${d.name}: ${found.length === 1 ? `issue ${found[0]?.key}` : `${found.length} issues`}`,
      );
    }
    const keyOf = async (d: (typeof demo)[0]) => (await issueOf(d.uuid))[0]?.key ?? '?';

    console.log(
      `2. An analyst resolves ${await keyOf(resolved)} in Jira: the bridge closes the incident in ESET`,
    );
    await call('POST', `${jiraUrl}/_standin/resolve`, { key: await keyOf(resolved), resolution: 'Done' });
    await until(
      'the incident closed in ESET',
      async () => (await incidents())[resolved.uuid]?.status === 'INCIDENT_STATUS_CLOSED',
    );
    check(true, `${resolved.name}: closed in ESET`);

    console.log('3. In the ESET console: one incident closed with a comment, another commented');
    await call('POST', `${eset}/_sandbox/console/close`, {
      uuid: consoleClosed.uuid,
      reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      comment: 'Dumped credentials rotated, host reimaged.',
      by: 'ana@example.com',
    });
    await call('POST', `${eset}/_sandbox/console/comment`, {
      uuid: commented.uuid,
      text: 'Script signed by our backup vendor; watching.',
      by: 'bob@example.com',
    });
    await sync();
    const closedIssue = (await issueOf(consoleClosed.uuid))[0];
    check(closedIssue?.category === 'done', `${closedIssue?.key} moved to ${closedIssue?.status}`);
    check(
      closedIssue?.comments.some((c) => c.text.includes('Dumped credentials rotated')) === true,
      `${closedIssue?.key} has a comment with who closed it, why, and ESET's final comment`,
    );
    const commentedIssue = (await issueOf(commented.uuid))[0];
    check(
      commentedIssue?.comments.filter((c) => c.text.includes('backup vendor')).length === 1,
      `${commentedIssue?.key} has the ESET comment, once`,
    );

    console.log(`4. The incident closed in the console is reopened there`);
    await call('POST', `${eset}/_sandbox/console/reopen`, {
      uuid: consoleClosed.uuid,
      by: 'ana@example.com',
    });
    await sync();
    const reopenedIssue = (await issueOf(consoleClosed.uuid))[0];
    check(reopenedIssue?.category !== 'done', `${reopenedIssue?.key} left done: ${reopenedIssue?.status}`);

    console.log('5. Two more sync runs: nothing new anywhere, no echo acted on');
    const before = JSON.stringify(await issues());
    await sync();
    await sync();
    // The webhooks of those runs' changes (none expected) have been answered before looking again.
    await until('the Jira webhooks delivered', async () => {
      const { deliveries } = await call<{ deliveries: { delivered: boolean; attempts: unknown[] }[] }>(
        'GET',
        `${jiraUrl}/_standin/state`,
      );
      return deliveries.every((d) => d.delivered || d.attempts.length > 0);
    });
    check(JSON.stringify(await issues()) === before, 'the issues did not change');
    const state = await incidents();
    check(
      state[resolved.uuid]?.closesApplied === 1 && state[resolved.uuid]?.reopensApplied === 0,
      `${resolved.name}: closed by the bridge exactly once, never reopened`,
    );
    check(
      demo.every(
        (d) =>
          d === resolved ||
          ((state[d.uuid]?.closesApplied ?? 0) === 0 && (state[d.uuid]?.reopensApplied ?? 0) === 0),
      ),
      "no close or reopen at ESET came from an echo of the bridge's own Jira changes",
    );
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
    console.error(`demo stopped: ${failures.at(-1)}`);
  }
  console.log(
    failures.length === 0
      ? '\nsummary: every step as expected'
      : `\nsummary: ${failures.length} step(s) failed`,
  );
  return failures.length === 0 ? 0 : 1;
}
