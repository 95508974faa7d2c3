import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authenticate } from '../../functions/auth/schemes';
import { textToAdf } from '../../functions/jira/adf';
import { createJiraStandin, type JiraStandin } from '../../infra/local/jira-standin/server';
import { type Received, type Receiver, startReceiver } from '../helpers/receiver';

const SECRET = 'jira-admin-webhook-secret-4f1c';
const LABEL = 'eset-incident-123e4567-e89b-12d3-a456-426614174000';

let standin: JiraStandin;
let receiver: Receiver | undefined;

beforeEach(async () => {
  standin = await createJiraStandin({ webhookRetryDelayMs: 5 });
});

afterEach(async () => {
  vi.useRealTimers();
  await standin.close();
  await receiver?.close();
  receiver = undefined;
});

function auth(token = standin.apiUser.apiToken): string {
  return `Basic ${Buffer.from(`${standin.apiUser.email}:${token}`).toString('base64')}`;
}

function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${standin.url}${path}`, {
    method,
    headers: { authorization: auth(), 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

const createBody = (fields: Record<string, unknown> = {}) => ({
  fields: {
    project: { key: 'SEC' },
    issuetype: { name: 'Task' },
    summary: 'ESET incident',
    description: textToAdf('Raised from ESET.'),
    labels: [LABEL],
    ...fields,
  },
});

function payload(r: Received): Record<string, unknown> {
  return JSON.parse(r.body);
}

describe('Jira stand-in REST API', () => {
  it("answers 401 without the API user's Basic credentials", async () => {
    for (const authorization of ['', auth('wrong'), 'Bearer x']) {
      const res = await call('GET', '/rest/api/3/myself', undefined, { authorization });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ errorMessages: [expect.any(String)], errors: {} });
    }
  });

  it.each([
    ['a description that is not ADF', { description: 'plain text' }, 'description'],
    [
      'a text node without text',
      {
        description: {
          type: 'doc',
          version: 1,
          content: [{ type: 'paragraph', content: [{ type: 'text', text: '' }] }],
        },
      },
      'description',
    ],
    ['a label with a space', { labels: ['two words'] }, 'labels'],
    ['a missing summary', { summary: undefined }, 'summary'],
    ['an unknown project', { project: { key: 'OPS' } }, 'project'],
    ['an unknown issue type', { issuetype: { name: 'Epic' } }, 'issuetype'],
    ['a field not on the screen', { priority: { name: 'High' } }, 'priority'],
  ])('refuses a create with %s, naming the field', async (_name, fields, field) => {
    const res = await call('POST', '/rest/api/3/issue', createBody(fields));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Record<string, string> };
    expect(Object.keys(body.errors)).toEqual([field]);
    expect(standin.state().issues).toEqual({});
  });

  it.each([
    [`labels = "${LABEL}"`, 1],
    [`labels = ${LABEL}`, 1],
    [`project = SEC AND labels = "${LABEL}"`, 1],
    [`PROJECT = "SEC" and LABELS IN ("other", "${LABEL}")`, 1],
    ['labels in ("other")', 0],
  ])('reads the JQL %s', async (jql, count) => {
    await call('POST', '/rest/api/3/issue', createBody());
    const res = await call('POST', '/rest/api/3/search/jql', { jql, fields: ['labels'] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issues: unknown[] }).issues).toHaveLength(count);
  });

  it.each([
    'summary ~ "ESET"',
    `labels = "${LABEL}" OR labels = x`,
    `labels = "${LABEL}" ORDER BY created`,
    'project = SEC',
  ])('refuses the JQL %s with errorMessages', async (jql) => {
    const res = await call('POST', '/rest/api/3/search/jql', { jql });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errorMessages: string[] }).errorMessages[0]).toMatch(
      /^Error in the JQL Query/,
    );
  });

  it('refuses a search body with a property the API does not have', async () => {
    const res = await call('POST', '/rest/api/3/search/jql', { jql: `labels = x`, startAt: 0 });
    expect(res.status).toBe(400);
  });

  it('returns only issue ids when no fields are asked for, as search/jql does', async () => {
    await call('POST', '/rest/api/3/issue', createBody());
    const res = await call('POST', '/rest/api/3/search/jql', { jql: `labels = "${LABEL}"` });
    expect(await res.json()).toEqual({ issues: [{ id: '10000' }], isLast: true });
  });

  it('offers transitions with string ids and refuses one the issue does not offer', async () => {
    await call('POST', '/rest/api/3/issue', createBody());
    const res = await call('GET', '/rest/api/3/issue/SEC-1/transitions');
    const { transitions } = (await res.json()) as {
      transitions: Array<{ id: string; to: { statusCategory: { key: string } } }>;
    };
    expect(transitions.map((t) => [t.id, t.to.statusCategory.key])).toEqual([
      ['21', 'indeterminate'],
      ['31', 'done'],
    ]);
    expect(
      (await call('POST', '/rest/api/3/issue/SEC-1/transitions', { transition: { id: '11' } })).status,
    ).toBe(400);
    const withField = await call('POST', '/rest/api/3/issue/SEC-1/transitions', {
      transition: { id: '31' },
      fields: { resolution: { name: 'Done' } },
    });
    expect(withField.status).toBe(400);
    expect(
      (await call('POST', '/rest/api/3/issue/SEC-1/transitions', { transition: { id: '31' } })).status,
    ).toBe(204);
  });

  it('answers 404 for an unknown issue and 415 for a body that is not JSON', async () => {
    expect((await call('GET', '/rest/api/3/issue/SEC-99')).status).toBe(404);
    const res = await call('POST', '/rest/api/3/issue', 'x=1', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
  });
});

describe('Jira stand-in human actions and admin endpoints', () => {
  it('lets another user resolve with a resolution, reopen and comment', async () => {
    await call('POST', '/rest/api/3/issue', createBody());

    standin.resolve('SEC-1', { resolution: 'False Positive' });
    expect(standin.state().issues['SEC-1']).toMatchObject({
      status: 'Done',
      category: 'done',
      resolution: 'False Positive',
    });
    standin.reopen('SEC-1');
    expect(standin.state().issues['SEC-1']).toMatchObject({
      status: 'To Do',
      category: 'new',
      resolution: null,
    });
    standin.comment('SEC-1', 'Looked at it.', { accountId: 'someone-else' });
    expect(standin.state().issues['SEC-1']?.comments).toEqual([
      { id: expect.any(String), authorAccountId: 'someone-else', text: 'Looked at it.' },
    ]);
    expect(() => standin.reopen('SEC-1')).toThrow(/not Done/);
  });

  it('takes the same actions, faults and resets over loopback admin endpoints', async () => {
    const admin = (path: string, body?: unknown) =>
      fetch(`${standin.url}/_standin/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    await call('POST', '/rest/api/3/issue', createBody());

    expect((await admin('resolve', { key: 'SEC-1', resolution: "Won't Do" })).status).toBe(200);
    expect((await admin('comment', { key: 'SEC-1', text: 'done here' })).status).toBe(200);
    expect((await admin('comment', { key: 'SEC-9', text: 'x' })).status).toBe(400);
    expect((await admin('faults', { status: 418 })).status).toBe(400);
    expect((await admin('faults', { status: 429, retryAfter: '2', times: 2 })).status).toBe(200);
    expect((await call('GET', '/rest/api/3/myself')).status).toBe(429);

    const state = (await (await admin('state')).json()) as ReturnType<JiraStandin['state']>;
    expect(state.issues['SEC-1']).toMatchObject({
      resolution: "Won't Do",
      comments: [{ text: 'done here' }],
    });
    expect(state.faultsPending).toBe(1);

    expect((await admin('reset', {})).status).toBe(200);
    expect(standin.state()).toMatchObject({ issues: {}, calls: [], faultsPending: 0 });
  });
});

describe('Jira stand-in webhooks', () => {
  it('signs every delivery like a Jira admin webhook and names the API user for its own changes', async () => {
    receiver = await startReceiver();
    standin.registerWebhook({ url: receiver.url, secret: SECRET });
    const me = (await (await call('GET', '/rest/api/3/myself')).json()) as { accountId: string };
    const key = 'SEC-1';

    await call('POST', '/rest/api/3/issue', createBody());
    await call('POST', `/rest/api/3/issue/${key}/transitions`, { transition: { id: '31' } });
    await call('POST', `/rest/api/3/issue/${key}/comment`, { body: textToAdf('ESET closed the incident.') });
    await standin.deliveriesSettled();

    const events = receiver.received.map(payload);
    expect(events.map((e) => e.webhookEvent)).toEqual([
      'jira:issue_created',
      'jira:issue_updated',
      'comment_created',
      'jira:issue_updated',
    ]);
    for (const r of receiver.received) {
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
      expect(() =>
        authenticate({ scheme: 'hub-signature' }, [SECRET], {
          headers,
          body: r.body,
          nowSeconds: 0,
          toleranceSeconds: 0,
        }),
      ).not.toThrow();
      expect(r.headers['x-atlassian-webhook-identifier']).toEqual(expect.any(String));
    }
    const [created, resolved, comment, commented] = events;
    expect(created).toMatchObject({
      issue_event_type_name: 'issue_created',
      user: { accountId: me.accountId },
      issue: { key },
    });
    expect(resolved).toMatchObject({
      issue_event_type_name: 'issue_generic',
      user: { accountId: me.accountId },
      issue: { key, fields: { status: { name: 'Done' }, resolution: { name: 'Done' } } },
      changelog: {
        items: [
          { field: 'resolution', fromString: null, toString: 'Done' },
          { field: 'status', fromString: 'To Do', toString: 'Done' },
        ],
      },
    });
    expect(comment).toMatchObject({ comment: { author: { accountId: me.accountId } }, issue: { key } });
    expect(comment).not.toHaveProperty('user');
    expect(commented).toMatchObject({
      issue_event_type_name: 'issue_commented',
      user: { accountId: me.accountId },
    });
    expect(typeof created?.timestamp).toBe('number');
  });

  it("names the other user for a human's changes, with the resolution cleared on reopen", async () => {
    receiver = await startReceiver();
    standin.registerWebhook({ url: receiver.url, secret: SECRET, events: ['jira:issue_updated'] });
    await call('POST', '/rest/api/3/issue', createBody());
    standin.resolve('SEC-1');
    standin.reopen('SEC-1');
    await standin.deliveriesSettled();

    const [, reopened] = receiver.received.map(payload);
    expect(reopened).toMatchObject({
      user: { accountId: standin.humanAccountId },
      changelog: {
        items: [
          { field: 'resolution', fromString: 'Done', to: null, toString: null },
          { field: 'status', fromString: 'Done', toString: 'To Do' },
        ],
      },
    });
  });

  it('retries a failed delivery with the same identifier and body, a bounded number of times', async () => {
    receiver = await startReceiver((_r, i) => ({ status: i < 2 ? 503 : 200 }));
    standin.registerWebhook({ url: receiver.url, secret: SECRET, events: ['jira:issue_created'] });
    const gone = await startReceiver(() => ({ status: 500 }));
    standin.registerWebhook({ url: gone.url, events: ['jira:issue_created'], maxRetries: 2 });

    await call('POST', '/rest/api/3/issue', createBody());
    await standin.deliveriesSettled();
    await gone.close();

    const ids = receiver.received.map((r) => r.headers['x-atlassian-webhook-identifier']);
    expect(new Set(ids).size).toBe(1);
    expect(receiver.received.map((r) => r.headers['x-atlassian-webhook-retry'])).toEqual([
      undefined,
      '1',
      '2',
    ]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(gone.received).toHaveLength(3);
    expect(standin.state().deliveries.map((d) => [d.attempts, d.delivered])).toEqual([
      [[503, 503, 200], true],
      [[500, 500, 500], false],
    ]);
  });

  it('can hold a delivery back, so an echo arrives after later events', async () => {
    // The hold is a timer the test moves once the later events have arrived, not a race with them.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const got = await startReceiver();
    receiver = got;
    standin.registerWebhook({
      url: got.url,
      delayMs: (p) => (p.webhookEvent === 'jira:issue_created' ? 300 : 0),
    });
    await call('POST', '/rest/api/3/issue', createBody());
    standin.comment('SEC-1', 'early');
    while (got.received.length < 2) await new Promise((r) => setImmediate(r));
    await vi.advanceTimersByTimeAsync(300);
    await standin.deliveriesSettled();

    expect(receiver.received.map((r) => payload(r).webhookEvent)).toEqual([
      'comment_created',
      'jira:issue_updated',
      'jira:issue_created',
    ]);
  });
});
