import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/config/config';
import { createSync, type Sync } from '../../functions/sync/compose';
import { TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { functionUrlListener } from '../../infra/local/http-adapter';
import { createJiraStandin, type JiraStandin } from '../../infra/local/jira-standin/server';
import { type Harness, startHarness } from '../helpers/harness';
import { changingCalls, issueOf, issuesOf, newIncident } from './helpers';

/**
 * The Jira target through the real handlers, the sandbox, dynalite and the Jira stand-in, with
 * the /jira route NOT told the bridge's account (no JIRA_BRIDGE_ACCOUNT_ID): the incident record's
 * guard alone keeps echoes from acting; and Jira writes whose answer is lost are looked for,
 * never made twice.
 */
const JIRA_SECRET = 'jira-route-secret-for-tests';
let h: Harness | undefined;
let jira: JiraStandin | undefined;
let server: Server | undefined;

afterEach(async () => {
  await jira?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
  h = undefined;
  jira = undefined;
  server = undefined;
});

/** A fetch that, once armed, lets the next request to `path` through and then loses its answer. */
function losingFetch(path: string) {
  let armed = false;
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (armed && init?.method === 'POST' && new URL(url).pathname === path) {
      armed = false;
      await fetch(input, init);
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      });
    }
    return fetch(input, init);
  };
  return { fetch: wrapped, arm: () => (armed = true) };
}

async function start(
  env: Record<string, string> = {},
  fetchOverride?: typeof fetch,
): Promise<{ h: Harness; jira: JiraStandin; sync: Sync }> {
  jira = await createJiraStandin();
  const jiraEnv = {
    SYNC_TARGET: 'jira',
    JIRA_BASE_URL: jira.url,
    JIRA_EMAIL: jira.apiUser.email,
    JIRA_API_TOKEN: jira.apiUser.apiToken,
    JIRA_PROJECT_KEY: 'SEC',
    SENDERS_CONFIG: JSON.stringify({ routes: { '/jira': {} } }),
    WEBHOOK_SECRET: JSON.stringify({ '/': TEST_WEBHOOK_SECRET, '/jira': JIRA_SECRET }),
    ...env,
  };
  h = await startHarness({ env: jiraEnv });
  const harness = h;
  server = createServer(functionUrlListener((event) => harness.receive(event)));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jira`;
  jira.registerWebhook({ url, secret: JIRA_SECRET });
  const config = loadConfig(harness.env, { stateTable: true, sync: true });
  const sync = createSync(config, {
    dynamo: harness.stateStore.client,
    sqs: harness.queues.sqs,
    ...(fetchOverride ? { fetch: fetchOverride } : {}),
  });
  return { h: harness, jira, sync };
}

const runOnce = async (sync: Sync, standin: JiraStandin) => {
  const report = await sync.run({ deadline: Date.now() + 30_000 });
  await standin.deliveriesSettled();
  return report;
};

describe('the Jira target', () => {
  it("keeps its own transition's echo, prompt or late, from acting at ESET without the route knowing its account", async () => {
    // Prepare: a second registration holds the first done transition's echo back.
    const { h, jira, sync } = await start();
    const id = newIncident(h.sandbox);
    await runOnce(sync, jira);
    const key = issueOf(jira, id).key;
    let held = false;
    jira.registerWebhook({
      url: jira.state().webhooks[0]?.url as string,
      secret: JIRA_SECRET,
      events: ['jira:issue_updated'],
      delayMs: (payload) => {
        const done =
          (payload.issue as { fields?: { status?: { statusCategory?: { key?: string } } } }).fields?.status
            ?.statusCategory?.key === 'done';
        if (held || !done) return 0;
        held = true;
        return 800;
      },
    });
    h.sandbox.consoleClose(id, { comment: 'Nothing found.' });
    await sync.run({ deadline: Date.now() + 30_000 });

    // Act
    h.sandbox.consoleReopen(id);
    await sync.run({ deadline: Date.now() + 30_000 });
    const late = jira.state().deliveries.filter((d) => d.issueKey === key && !d.delivered);
    await jira.deliveriesSettled();
    await h.drain();

    // Assess
    expect(late.length).toBeGreaterThanOrEqual(1);
    const echoes = h.outcomes.filter((o) => o.incidentUuid === id && o.outcome === 'ignored');
    expect(echoes.length).toBeGreaterThanOrEqual(2);
    expect(echoes.every((o) => o.detail?.includes('echoed back'))).toBe(true);
    expect(changingCalls(h.sandbox, id)).toEqual([]);
    expect(h.sandbox.state().incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(issueOf(jira, id).category).not.toBe('done');
  });

  it('finds the issue whose creation lost its answer instead of making another', async () => {
    // Prepare: Jira creates the issue, and the answer is lost on the way back.
    const lose = losingFetch('/rest/api/3/issue');
    const { h, jira, sync } = await start({}, lose.fetch);
    const id = newIncident(h.sandbox);
    lose.arm();

    // Act
    const first = await runOnce(sync, jira);
    const second = await runOnce(sync, jira);

    // Assess
    expect(first).toMatchObject({ created: 0, retry: 1 });
    expect(second).toMatchObject({ created: 0, linked: 1 });
    expect(issuesOf(jira, id)).toHaveLength(1);
  });

  it('looks for a comment whose answer was lost before posting it again', async () => {
    // Prepare
    const { h, jira, sync } = await start();
    const id = newIncident(h.sandbox);
    await runOnce(sync, jira);
    h.sandbox.consoleComment(id, 'Quarantined by the SOC.');
    jira.fail({ status: 500, applied: true, times: 1 });

    // Act
    const first = await runOnce(sync, jira);
    const second = await runOnce(sync, jira);

    // Assess
    expect(first.retry).toBe(1);
    expect(second.told.commented).toBe(1);
    expect(issueOf(jira, id).comments.filter((c) => c.text.includes('Quarantined by the SOC.'))).toHaveLength(
      1,
    );
  });

  it("refuses to run when JIRA_BRIDGE_ACCOUNT_ID is not the API user's account", async () => {
    const { h, jira, sync } = await start({ JIRA_BRIDGE_ACCOUNT_ID: '557058:someone-else' });
    newIncident(h.sandbox);
    await expect(sync.run({ deadline: Date.now() + 30_000 })).rejects.toThrow(/JIRA_BRIDGE_ACCOUNT_ID/);
    expect(Object.keys(jira.state().issues)).toEqual([]);
  });
});
