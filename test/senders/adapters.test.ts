import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../functions/errors/errors';
import { buildRouteTable, parseSendersConfig, type SendersConfig } from '../../functions/senders/routes';
import { fixtureText, SENDERS_CONFIG } from './sender-events';

const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

/** The routes a typical deployment configures: Jira's ESET field is a custom field. */
const CONFIG: SendersConfig = SENDERS_CONFIG;
const table = buildRouteTable(CONFIG);
const adapt = (path: string, name: string) => {
  const route = table.find(path);
  if (!route) throw new Error(`no route ${path}`);
  return route.adapter.adapt(fixture(name));
};

const UUID = '123e4567-e89b-12d3-a456-426614174000';

describe('sender payloads map to the canonical close request', () => {
  it.each([
    [
      'Jira admin webhook jira:issue_updated (custom field, custom resolution)',
      '/jira',
      'jira-issue-updated',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'Jira SEC-4711 resolved (False Positive).',
        ticketId: 'SEC-4711',
      },
    ],
    [
      'Jira Automation "Issue data" (id in the description, last comment, quotes and new lines)',
      '/jira',
      'jira-automation-issue',
      {
        incidentUuid: '7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b',
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'Jira SEC-4712 resolved (Fixed): Host SRV-DB-02 rebuilt; "Quotes" and\nnew lines survive.',
        ticketId: 'SEC-4712',
      },
    ],
    [
      'ServiceNow Security Incident closed (u_ field, close_code, close_notes)',
      '/servicenow',
      'servicenow-security-incident',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment:
          'ServiceNow SIR0010023 resolved (False positive): LSASS access by the backup agent; allow-listed.',
        ticketId: 'SIR0010023',
      },
    ],
    [
      'Zendesk trigger with the documented body template',
      '/zendesk',
      'zendesk-trigger',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'Zendesk ticket #35436 resolved (True positive).',
        ticketId: '35436',
      },
    ],
    [
      'Zendesk event webhook ticket.status_changed (id in the description, reason tag)',
      '/zendesk',
      'zendesk-event-status-changed',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'Zendesk ticket #35436 resolved (false_positive).',
        ticketId: '35436',
      },
    ],
    [
      'Freshservice "Simple" webhook (ESET console link in a custom field)',
      '/freshservice',
      'freshservice-simple',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
        comment: 'Freshservice INC-1234 resolved (Suspicious): Could not rule out misuse; user retrained.',
        ticketId: 'INC-1234',
      },
    ],
    [
      'TheHive 4 case resolved (resolutionStatus, customFields object)',
      '/thehive',
      'thehive4-case-resolved',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'TheHive case #42 resolved (TruePositive): Malware removed, host reimaged.',
        ticketId: '42',
      },
    ],
    [
      'TheHive 5 audit: case closed (status is the resolution, customFields list)',
      '/thehive',
      'thehive5-case-closed',
      {
        incidentUuid: '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9',
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'TheHive case #117 resolved (FalsePositive): Admin tool; allow-listed in ESET.',
        ticketId: '117',
      },
    ],
  ])('%s', (_name, path, name, request) => {
    expect(adapt(path, name)).toEqual({ kind: 'close', request });
  });

  it.each([
    [
      'a Jira comment on an already resolved issue',
      '/jira',
      'jira-issue-commented-after-resolve',
      /did not change the resolution/,
    ],
    [
      'a ServiceNow update that does not resolve',
      '/servicenow',
      'servicenow-incident-in-progress',
      /not a resolve event \(state in/,
    ],
    [
      'a TheHive alert creation',
      '/thehive',
      'thehive4-alert-created',
      /not a resolve event \(objectType in \[case\]\)/,
    ],
    [
      'a solved Zendesk ticket that has no ESET incident',
      '/zendesk',
      'zendesk-trigger-no-incident',
      /no ESET incident id/,
    ],
  ])('ignores %s (200 "ignored")', (_name, path, name, reason) => {
    const adapted = adapt(path, name);
    expect(adapted.kind).toBe('ignore');
    expect(adapted.kind === 'ignore' && adapted.reason).toMatch(reason);
  });

  it('maps TheHive resolutions by the documented table', () => {
    const base = fixture('thehive4-case-resolved') as { details: Record<string, unknown> };
    const route = table.find('/thehive');
    const reasonOf = (resolutionStatus: string) => {
      const adapted = route?.adapter.adapt({ ...base, details: { ...base.details, resolutionStatus } });
      return adapted?.kind === 'close' ? adapted.request.closureReason : adapted?.kind;
    };
    expect(
      Object.fromEntries(
        ['TruePositive', 'FalsePositive', 'Indeterminate', 'Other', 'Duplicated', 'SomethingNew'].map((r) => [
          r,
          reasonOf(r),
        ]),
      ),
    ).toEqual({
      TruePositive: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      FalsePositive: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      Indeterminate: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
      Other: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
      Duplicated: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
      SomethingNew: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
    });
  });
});

describe('per-route settings', () => {
  it('extends the reason table and can reject tickets without an ESET incident', () => {
    const t = parseSendersConfig(
      JSON.stringify({
        routes: {
          '/jira': { reasons: { Done: 'true-positive' } },
          '/zendesk': { onMissingIncident: 'reject' },
        },
      }),
    );
    const jira = t.find('/jira')?.adapter.adapt(fixture('jira-automation-issue')) as {
      request: { closureReason: string };
    };
    expect(jira.request.closureReason).toBe('INCIDENT_RESOLVE_REASON_TRUE_POSITIVE');
    const done = structuredClone(fixture('jira-automation-issue')) as {
      fields: { resolution: { name: string } };
    };
    done.fields.resolution.name = 'Done';
    const adapted = t.find('/jira')?.adapter.adapt(done);
    expect(adapted?.kind === 'close' && adapted.request.closureReason).toBe(
      'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
    );
    expect(() => t.find('/zendesk')?.adapter.adapt(fixture('zendesk-trigger-no-incident'))).toThrow(
      'No ESET incident id in the payload',
    );
  });

  it('answers 400 naming the field when the ESET incident field holds something else', () => {
    const payload = structuredClone(fixture('jira-issue-updated')) as {
      issue: { fields: Record<string, unknown> };
    };
    payload.issue.fields.customfield_10050 = 'N/A';
    let error: unknown;
    try {
      table.find('/jira')?.adapter.adapt(payload);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).statusCode).toBe(400);
    expect((error as BadRequestError).details).toEqual([
      {
        path: 'issue.fields.customfield_10050',
        message: 'must be an ESET incident UUID (8-4-4-4-12 hex digits)',
      },
    ]);
  });

  it('refuses a payload that is not a JSON object', () => {
    expect(() => table.find('/thehive')?.adapter.adapt([1, 2])).toThrow('Invalid payload');
  });

  it('keeps the canonical route at / and serves unknown paths nothing', () => {
    expect(table.find('/')?.adapter.name).toBe('canonical');
    expect(table.find('/jira/')?.adapter.name).toBe('jira');
    expect(table.find('/JIRA')?.adapter.name).toBe('jira');
    expect(table.find('/nope')).toBeUndefined();
    expect(buildRouteTable().find('/anything')?.adapter.name).toBe('canonical');
  });

  it('gives each system its default authentication, overridable per route', () => {
    const t = parseSendersConfig(
      JSON.stringify({
        routes: { ...CONFIG.routes, '/jira-automation': { adapter: 'jira', auth: { scheme: 'bearer' } } },
      }),
    );
    expect(Object.fromEntries(t.routes.map((r) => [r.path, r.auth.scheme]))).toEqual({
      '/': 'standard-webhooks',
      '/jira': 'hub-signature',
      '/jira-automation': 'bearer',
      '/servicenow': 'bearer',
      '/zendesk': 'zendesk',
      '/freshservice': 'basic',
      '/thehive': 'bearer',
    });
  });

  it('names every problem in SENDERS_CONFIG at once', () => {
    let message = '';
    try {
      parseSendersConfig(
        JSON.stringify({
          routes: {
            '/custom': {},
            '/jira': {
              incident: [{ field: 'issue..x' }, { pattern: '([unclosed', in: 'issue.fields.description' }],
              reasons: { Done: 'maybe' },
            },
          },
        }),
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('routes./custom.adapter: required');
    expect(message).toContain('routes./jira.incident[0]: invalid field path "issue..x"');
    expect(message).toContain('routes./jira.incident[1].pattern:');
    expect(message).toContain('routes./jira.reasons.Done: must be');
  });

  it.each([
    ['not JSON', '{routes:', /must be JSON/],
    ['an unknown key (a typo)', JSON.stringify({ routes: { '/jira': { incidents: [] } } }), /routes\.\/jira/],
    [
      'an unknown adapter',
      JSON.stringify({ routes: { '/x': { adapter: 'remedy' } } }),
      /must be one of canonical/,
    ],
    [
      'an unknown auth scheme',
      JSON.stringify({ routes: { '/jira': { auth: { scheme: 'hmac' } } } }),
      /must be one of standard-webhooks/,
    ],
    ['a route that is not a path', JSON.stringify({ routes: { jira: {} } }), /route must be a path/],
  ])('refuses %s', (_name, json, message) => {
    expect(() => parseSendersConfig(json)).toThrow(message);
  });
});
