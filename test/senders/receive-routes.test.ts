import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../functions/config/config';
import { ConfigError } from '../../functions/errors/errors';
import {
  functionUrlEvent,
  signedCloseEvent,
  signedHeaders,
  TEST_WEBHOOK_SECRET,
} from '../../infra/local/events';
import { type Harness, startHarness } from '../helpers/harness';
import { captureOutput } from '../helpers/logs';
import { fixtureText, ROUTE_SECRETS, SENDERS_CONFIG, SENDERS_ENV, senderEvent } from './sender-events';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const body = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;
const UUID = '123e4567-e89b-12d3-a456-426614174000';
const eset = () => h.sandbox.state().calls.filter((c) => c.path.includes('/v2/incidents'));

describe('sender routes through the receive handler, the ESET sandbox and local SQS', () => {
  beforeEach(async () => {
    h = await startHarness({ env: SENDERS_ENV });
  });

  it.each([
    [
      '/jira',
      'jira-issue-updated',
      UUID,
      'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      'Jira SEC-4711 resolved (False Positive).',
    ],
    [
      '/servicenow',
      'servicenow-security-incident',
      UUID,
      'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      'ServiceNow SIR0010023 resolved (False positive): LSASS access by the backup agent; allow-listed.',
    ],
    [
      '/zendesk',
      'zendesk-event-status-changed',
      UUID,
      'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      'Zendesk ticket #35436 resolved (false_positive).',
    ],
    [
      '/freshservice',
      'freshservice-simple',
      UUID,
      'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
      'Freshservice INC-1234 resolved (Suspicious): Could not rule out misuse; user retrained.',
    ],
    [
      '/freshdesk',
      'freshdesk-simple',
      UUID,
      'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      'Freshdesk ticket #4711 resolved (True positive).',
    ],
    [
      '/thehive',
      'thehive5-case-closed',
      '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9',
      'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      'TheHive case #117 resolved (FalsePositive): Admin tool; allow-listed in ESET.',
    ],
  ] as const)('%s closes the ESET incident named in %s', async (route, name, uuid, reason, comment) => {
    h.sandbox.addIncident(uuid);
    const answer = await h.receive(senderEvent(route, fixtureText(name)));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({ status: 'closed', incidentUuid: uuid });
    expect(h.sandbox.state().incidents[uuid]).toMatchObject({
      status: 'INCIDENT_STATUS_CLOSED',
      resolveReason: reason,
      finalComment: comment,
      closesApplied: 1,
    });
  });

  it('keeps the canonical route at / with Standard Webhooks', async () => {
    const id = h.newIncident();
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(200);
  });

  it('accepts Basic auth on the ServiceNow route without an auth setting (a REST message Basic profile)', async () => {
    h.sandbox.addIncident(UUID);
    const answer = await h.receive(
      senderEvent('/servicenow', fixtureText('servicenow-incident-resolved'), {
        headers: {
          authorization: `Basic ${Buffer.from(`svc.eset:${ROUTE_SECRETS['/servicenow']}`).toString('base64')}`,
        },
      }),
    );
    expect(answer.statusCode).toBe(200);
    expect(h.sandbox.state().incidents[UUID]).toMatchObject({
      resolveReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
    });
  });

  it.each([
    ['a reopen', '/zendesk', 'zendesk-event-reopened', 'reopened', 'INCIDENT_STATUS_OPEN'],
    ['a comment', '/jira', 'jira-issue-commented', 'commented', 'INCIDENT_STATUS_CLOSED'],
  ] as const)('passes %s on to ESET', async (_name, route, name, status, incidentStatus) => {
    h.sandbox.addIncident(UUID, 'INCIDENT_STATUS_CLOSED');
    const answer = await h.receive(senderEvent(route, fixtureText(name)));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({ status, incidentUuid: UUID });
    expect(h.sandbox.state().incidents[UUID]?.status).toBe(incidentStatus);
    expect(await h.drain()).toBe(0);
  });

  it('accepts the previous TheHive token during a rotation', async () => {
    h.sandbox.addIncident(UUID);
    const answer = await h.receive(
      senderEvent('/thehive', fixtureText('thehive4-case-resolved'), {
        secret: ROUTE_SECRETS['/thehive'][1],
      }),
    );
    expect(answer.statusCode).toBe(200);
  });

  it('answers 200 "ignored" to a payload that closes nothing, without calling ESET', async () => {
    const answer = await h.receive(senderEvent('/thehive', fixtureText('thehive4-alert-created')));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({
      status: 'ignored',
      reason: expect.stringMatching(/not a case event/),
    });
    const solvedWithoutIncident = await h.receive(
      senderEvent('/zendesk', fixtureText('zendesk-trigger-no-incident')),
    );
    expect(body(solvedWithoutIncident)).toMatchObject({ status: 'ignored', ticketId: '35437' });
    expect(eset()).toHaveLength(0);
    expect(await h.drain()).toBe(0);
  });

  it.each([
    [
      'a Jira signature under another secret',
      () => senderEvent('/jira', fixtureText('jira-issue-updated'), { secret: 'guess' }),
    ],
    [
      'a Zendesk delivery signed 10 minutes ago',
      () => senderEvent('/zendesk', fixtureText('zendesk-trigger'), { now: new Date(Date.now() - 600_000) }),
    ],
    [
      'a ServiceNow call without a token',
      () =>
        senderEvent('/servicenow', fixtureText('servicenow-security-incident'), {
          headers: { authorization: '' },
        }),
    ],
    [
      'a Standard Webhooks signature on the Jira route',
      () => {
        const b = fixtureText('jira-issue-updated');
        return functionUrlEvent({ body: b, path: '/jira', headers: signedHeaders(b) });
      },
    ],
    [
      'the / secret used on the TheHive route',
      () => senderEvent('/thehive', fixtureText('thehive5-case-closed'), { secret: TEST_WEBHOOK_SECRET }),
    ],
  ])('answers 401 to %s and calls nothing', async (_name, event) => {
    h.sandbox.addIncident(UUID);
    const answer = await h.receive(event());
    expect(answer.statusCode).toBe(401);
    expect(eset()).toHaveLength(0);
  });

  it('answers 401 to a tampered body (signature from the original)', async () => {
    const original = senderEvent('/jira', fixtureText('jira-issue-updated'));
    const tampered = { ...original, body: original.body?.replace('False Positive', 'Fixed') };
    expect((await h.receive(tampered)).statusCode).toBe(401);
    expect(eset()).toHaveLength(0);
  });

  it('answers 404 to a path that is no route', async () => {
    const answer = await h.receive(
      functionUrlEvent({ body: '{}', path: '/remedy', headers: signedHeaders('{}') }),
    );
    expect(answer.statusCode).toBe(404);
    expect(body(answer)).toEqual({ status: 'error', message: 'No webhook route at /remedy' });
  });

  it('answers 400 naming the field when the ticket holds a malformed ESET incident id', async () => {
    const payload = fixtureText('servicenow-security-incident').replace(UUID, 'INC-4711');
    const answer = await h.receive(senderEvent('/servicenow', payload));
    expect(answer.statusCode).toBe(400);
    expect(body(answer)).toMatchObject({ errors: [{ path: 'u_eset_incident' }] });
    expect(eset()).toHaveLength(0);
  });
});

describe('sender configuration at cold start', () => {
  const base = { ESET_REGION: 'eu', ESET_USERNAME: 'u', ESET_PASSWORD: 'p' };

  it('names every route the local webhook secret does not cover, never the values', () => {
    const secrets = { '/': TEST_WEBHOOK_SECRET, '/jira': 'jira-secret-value' };
    let error: unknown;
    try {
      loadConfig({
        ...base,
        SENDERS_CONFIG: JSON.stringify(SENDERS_CONFIG),
        WEBHOOK_SECRET: JSON.stringify(secrets),
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const route of ['/servicenow', '/zendesk', '/freshservice', '/freshdesk', '/thehive']) {
      expect(message).toContain(`WEBHOOK_SECRET has no secret for route ${route}`);
    }
    expect(message).not.toContain('jira-secret-value');
    expect(message).not.toContain(TEST_WEBHOOK_SECRET);
  });

  it('keeps a plain whsec_ secret working and refuses a non-whsec secret on a Standard Webhooks route', () => {
    expect(loadConfig({ ...base, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET }).routes.find('/')?.adapter.name).toBe(
      'canonical',
    );
    expect(() => loadConfig({ ...base, WEBHOOK_SECRET: JSON.stringify({ '/': 'plain-text' }) })).toThrow(
      'WEBHOOK_SECRET for route / must look like whsec_<base64>',
    );
  });

  it('reports SENDERS_CONFIG problems together with the other variables', () => {
    expect(() =>
      loadConfig({ ESET_MAX_RPS: '50', SENDERS_CONFIG: '{"routes":{"/jira":{"auth":{"scheme":"none"}}}}' }),
    ).toThrow(/ESET_MAX_RPS.*SENDERS_CONFIG routes\.\/jira\.auth\.scheme/);
  });
});

describe('a metric per route and result', () => {
  it('counts each webhook request with its route and what it came to', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const output = captureOutput();
    try {
      h = await startHarness({ env: SENDERS_ENV });
      h.sandbox.addIncident(UUID);
      await h.receive(senderEvent('/jira', fixtureText('jira-issue-updated')));
      await h.receive(senderEvent('/zendesk', fixtureText('zendesk-trigger-no-incident')));
      await h.receive(senderEvent('/jira', fixtureText('jira-issue-updated'), { secret: 'wrong' }));
    } finally {
      output.restore();
    }
    const counted = output
      .lines()
      .filter((l) => l.includes('"Requests"'))
      .map((l) => JSON.parse(l) as { route: string; result: string; Requests: number });
    expect(counted.map((m) => `${m.route} ${m.result} ${m.Requests}`)).toEqual([
      '/jira closed 1',
      '/zendesk ignored 1',
      '/jira unauthorized 1',
    ]);
  });
});
