import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { textToAdf } from '../../functions/jira/adf';
import { JiraClient, type JiraClientOptions } from '../../functions/jira/client';
import { JiraError, NoMatchingTransitionError } from '../../functions/jira/errors';
import { createJiraStandin, type JiraStandin } from '../../infra/local/jira-standin/server';
import { type FakeClock, fakeClock } from '../helpers/clock';
import { type Receiver, startReceiver } from '../helpers/receiver';

const INCIDENT = '123e4567-e89b-12d3-a456-426614174000';
const LABEL = `eset-incident-${INCIDENT}`;

let standin: JiraStandin;
let receivers: Receiver[] = [];
let clock: FakeClock;

beforeEach(async () => {
  clock = fakeClock(Date.parse('2027-03-01T09:00:00Z'));
  standin = await createJiraStandin({ clock: clock.now });
});

afterEach(async () => {
  vi.useRealTimers();
  await standin.close();
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

function client(over: Partial<JiraClientOptions> = {}): JiraClient {
  return new JiraClient({
    baseUrl: standin.url,
    email: standin.apiUser.email,
    apiToken: standin.apiUser.apiToken,
    clock,
    random: () => 0.5,
    ...over,
  });
}

function newIssue(jira: JiraClient, label = LABEL) {
  return jira.createIssue({
    projectKey: 'SEC',
    issueType: 'Task',
    summary: 'ESET Inspect: suspicious PowerShell on FIN-LAPTOP-7',
    description: textToAdf('Raised from ESET.\n\nIncident: https://eset.example/incidents/42'),
    labels: [label, 'eset'],
  });
}

function callsTo(path: string) {
  return standin.state().calls.filter((c) => c.path.startsWith(path));
}

async function caught(promise: Promise<unknown>): Promise<JiraError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JiraError);
  return error as JiraError;
}

describe('JiraClient against the stand-in', () => {
  it('names the API user', async () => {
    expect(await client().myself()).toEqual({
      accountId: standin.apiUser.accountId,
      displayName: 'ESET bridge',
    });
  });

  it('creates an issue with the incident label and finds it by that label', async () => {
    const jira = client();
    const created = await newIssue(jira);
    await newIssue(jira, 'eset-incident-other');

    const found = await jira.searchByLabel(LABEL, ['summary', 'status', 'labels'], { projectKey: 'SEC' });

    expect(created.key).toBe('SEC-1');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      key: 'SEC-1',
      fields: { labels: [LABEL, 'eset'], status: { name: 'To Do', statusCategory: { key: 'new' } } },
    });
    expect(await jira.searchByLabel('eset-incident-none', ['summary'])).toEqual([]);
  });

  it('reads every page of a search, however few issues Jira puts on one', async () => {
    await standin.close();
    standin = await createJiraStandin({ clock: clock.now, searchPageLimit: 2 });
    const jira = client();
    for (let i = 0; i < 5; i++) await newIssue(jira);

    const found = await jira.searchByLabel(LABEL, ['summary']);

    expect(found.map((i) => i.key)).toEqual(['SEC-1', 'SEC-2', 'SEC-3', 'SEC-4', 'SEC-5']);
    expect(callsTo('/rest/api/3/search/jql')).toHaveLength(3);
  });

  it('adds comments and reads every comment back as plain text with its author', async () => {
    const jira = client();
    const { key } = await newIssue(jira);
    const mine = await jira.addComment(
      key,
      textToAdf('ESET: incident closed.\nSee https://eset.example/i/42'),
    );
    standin.comment(key, 'Host reimaged, closing.');

    const comments = await jira.listComments(key);

    expect(mine.authorAccountId).toBe(standin.apiUser.accountId);
    expect(comments.map((c) => [c.authorAccountId, c.text])).toEqual([
      [standin.apiUser.accountId, 'ESET: incident closed.\nSee https://eset.example/i/42'],
      [standin.humanAccountId, 'Host reimaged, closing.'],
    ]);
  });

  it('moves an issue to done and back by status category, leaving it alone when it is there', async () => {
    const jira = client();
    const { key } = await newIssue(jira);

    const done = await jira.transitionToCategory(key, 'done');
    expect(done).toMatchObject({
      changed: true,
      transition: { name: 'Done', to: { statusCategory: { key: 'done' } } },
    });
    expect(standin.state().issues[key]).toMatchObject({ status: 'Done', resolution: 'Done' });

    expect(await jira.transitionToCategory(key, 'done')).toEqual({ changed: false });

    const reopened = await jira.transitionToCategory(key, 'not-done');
    expect(reopened.transition?.to.statusCategory.key).toBe('indeterminate');
    expect(standin.state().issues[key]).toMatchObject({ status: 'In Progress', resolution: null });
    expect(callsTo(`/rest/api/3/issue/${key}/transitions`).filter((c) => c.method === 'POST')).toHaveLength(
      2,
    );
  });

  it('names the offered transitions when none leads to the wanted category', async () => {
    // A workflow whose only way out of To Do leads to In Progress.
    const onlyProgress: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/transitions') || init?.method !== 'GET') return res;
      const body = (await res.json()) as { transitions: Array<{ id: string }> };
      body.transitions = body.transitions.filter((t) => t.id === '21');
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    const jira = client({ fetch: onlyProgress });
    const { key } = await newIssue(jira);

    const error = await caught(jira.transitionToCategory(key, 'done'));

    expect(error).toBeInstanceOf(NoMatchingTransitionError);
    expect((error as NoMatchingTransitionError).available).toEqual([
      { id: '21', name: 'In Progress', category: 'indeterminate' },
    ]);
    expect(error.message).toContain('21 "In Progress" -> indeterminate');
  });
});

describe('JiraClient when Jira throttles or fails', () => {
  it('waits the Retry-After of a 429, then succeeds', async () => {
    standin.fail({ status: 429, retryAfter: '7' });

    const me = await client().myself();

    expect(me.accountId).toBe(standin.apiUser.accountId);
    expect(clock.waits).toEqual([7_000]);
    expect(callsTo('/rest/api/3/myself').map((c) => c.status)).toEqual([429, 200]);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    standin.fail({ status: 503, retryAfter: new Date(clock.now() + 3_000).toUTCString() });

    await client().myself();

    expect(clock.waits).toEqual([3_000]);
  });

  it('repeats a read after a 500 with a jittered backoff, then succeeds', async () => {
    const jira = client({ retry: { baseDelayMs: 400 } });
    const { key } = await newIssue(jira);
    standin.fail({ status: 500 });

    const issue = await jira.getIssue(key, ['status']);

    expect(issue.fields.status?.name).toBe('To Do');
    expect(clock.waits).toEqual([200]);
  });

  it('gives up on a persistent 503 with a typed error before the deadline', async () => {
    standin.fail({ status: 503, times: 50 });
    const start = clock.now();

    const error = await caught(client().myself({ deadline: start + 5_000 }));

    expect(error).toMatchObject({ kind: 'unavailable', status: 503, operation: 'myself', retryable: true });
    expect(error.attempts).toBeGreaterThan(1);
    expect(error.attempts).toBeLessThanOrEqual(4);
    expect(clock.now()).toBeLessThan(start + 5_000);
    expect(callsTo('/rest/api/3/myself')).toHaveLength(error.attempts);
  });

  it('does not wait for a Retry-After that ends past the deadline, and hands it on', async () => {
    standin.fail({ status: 429, retryAfter: '120' });

    const error = await caught(client().myself({ deadline: clock.now() + 10_000 }));

    expect(error).toMatchObject({ kind: 'unavailable', status: 429, retryAfterMs: 120_000, attempts: 1 });
    expect(clock.waits).toEqual([]);
  });

  it('does not re-send a create that met a 500 after Jira had applied it', async () => {
    const jira = client();
    standin.fail({ status: 500, applied: true });

    const error = await caught(newIssue(jira));

    expect(error).toMatchObject({ kind: 'unknown-outcome', status: 500, retryable: false });
    expect(callsTo('/rest/api/3/issue').filter((c) => c.method === 'POST')).toHaveLength(1);
    // The caller reads before acting again, and finds the one issue.
    expect(await jira.searchByLabel(LABEL, ['summary'])).toHaveLength(1);
  });

  it('reads the status again when a transition loses its answer, instead of sending it twice', async () => {
    const jira = client();
    const { key } = await newIssue(jira);
    // The GET of the status, then the GET of transitions pass; the POST is applied, then fails.
    const failAfterTwo: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      return init?.method === 'POST' && String(input).endsWith('/transitions')
        ? new Response('', { status: 502 })
        : res;
    };

    const outcome = await client({ fetch: failAfterTwo }).transitionToCategory(key, 'done');

    expect(outcome.changed).toBe(true);
    expect(standin.state().issues[key]?.status).toBe('Done');
    expect(callsTo(`/rest/api/3/issue/${key}/transitions`).filter((c) => c.method === 'POST')).toHaveLength(
      1,
    );
  });

  it('reports a write whose answer never came as an unknown outcome', async () => {
    // Prepare: the attempt timeout is a timer the test moves once the write has arrived.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const silent = await startReceiver(() => ({ status: 200, hang: true }));
    receivers.push(silent);
    const jira = client({ baseUrl: silent.url, retry: { attemptTimeoutMs: 50 } });

    // Act
    const outcome = caught(jira.addComment('SEC-1', textToAdf('hello')));
    while (silent.received.length === 0) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(50);
    const error = await outcome;

    // Assess
    expect(error).toMatchObject({ kind: 'unknown-outcome', attempts: 1 });
    expect(silent.received).toHaveLength(1);
  });

  it('rejects wrong credentials with a typed error that never quotes them', async () => {
    const apiToken = 'wrong-token-ATATT3xFfGF0s3cr3t';
    const error = await caught(client({ apiToken }).myself());

    expect(error).toMatchObject({ kind: 'rejected', status: 401, retryable: false });
    const credentials = Buffer.from(`${standin.apiUser.email}:${apiToken}`).toString('base64');
    for (const text of [error.message, error.reason, String(error.stack), JSON.stringify(error)]) {
      expect(text).not.toContain(apiToken);
      expect(text).not.toContain(credentials);
    }
  });

  it("keeps Jira's reason for a refused create", async () => {
    const error = await caught(
      client().createIssue({
        projectKey: 'NOPE',
        issueType: 'Epic',
        summary: ' ',
        description: textToAdf('x'),
        labels: [LABEL],
      }),
    );

    expect(error).toMatchObject({ kind: 'rejected', status: 400 });
    expect(error.reason).toBe(
      'project: Specify a valid project ID or key; issuetype: Specify a valid issue type; summary: You must specify a summary of the issue.',
    );
  });

  it('never follows a redirect, so the credentials go nowhere else', async () => {
    const elsewhere = await startReceiver();
    const redirecting = await startReceiver(() => ({
      status: 307,
      headers: { location: `${elsewhere.url}/x` },
    }));
    receivers.push(elsewhere, redirecting);

    const error = await caught(client({ baseUrl: redirecting.url }).myself());

    expect(error).toMatchObject({ kind: 'redirected', status: 307 });
    expect(elsewhere.received).toEqual([]);
  });

  it('refuses a 200 whose body is not what Jira documents', async () => {
    const odd = await startReceiver(() => ({ status: 200, headers: { 'content-type': 'application/json' } }));
    receivers.push(odd);

    const error = await caught(client({ baseUrl: odd.url }).myself());

    expect(error).toMatchObject({ kind: 'invalid-answer', status: 200 });
  });
});
