import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../functions/errors/errors';
import { BRIDGE_COMMENT_MARKER } from '../../functions/events/ticket-event';
import { type Adapted, ECHOED_COMMENT, IGNORED_ACTOR } from '../../functions/senders/adapters';
import { buildRouteTable, parseSendersConfig, type SendersConfig } from '../../functions/senders/routes';
import { fixtureText, SENDERS_CONFIG } from './sender-events';

const fixture = (name: string): Record<string, unknown> => JSON.parse(fixtureText(name));

/** The routes a typical deployment configures: Jira's ESET field is a custom field. */
const CONFIG: SendersConfig = SENDERS_CONFIG;
const table = buildRouteTable(CONFIG);
const tableOf = (routes: SendersConfig['routes']) => parseSendersConfig(JSON.stringify({ routes }));
const adaptWith = (t: ReturnType<typeof buildRouteTable>, path: string, body: unknown): Adapted => {
  const route = t.find(path);
  if (!route) throw new Error(`no route ${path}`);
  return route.adapter.adapt(body);
};
const adapt = (path: string, name: string) => adaptWith(table, path, fixture(name));
const eventOf = (adapted: Adapted) => {
  if (adapted.kind !== 'event') throw new Error(`ignored: ${adapted.reason}`);
  return adapted.event;
};
const reasonOf = (adapted: Adapted) =>
  adapted.kind === 'ignore' ? adapted.reason : `event ${adapted.event.action}`;

const UUID = '123e4567-e89b-12d3-a456-426614174000';
const UUID_B = '7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b';
const UUID_C = '0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9';

describe('resolve events become close events', () => {
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
        occurredAt: '2024-04-17T17:18:10.123Z',
        actor: '5b10a2844c20165700ede21g',
        eventId: '10200',
      },
    ],
    [
      'Jira Automation "Issue data (Automation format)" (id in the description, last comment)',
      '/jira',
      'jira-automation-issue',
      {
        incidentUuid: UUID_B,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'Jira SEC-4712 resolved (Fixed): Host SRV-DB-02 rebuilt; "Quotes" and\nnew lines survive.',
        ticketId: 'SEC-4712',
        occurredAt: '2024-04-17T17:20:11.600Z',
      },
    ],
    [
      'Jira Automation "Issue data (Jira format)" with Jira Cloud\'s "Done"',
      '/jira',
      'jira-automation-jira-format',
      {
        incidentUuid: UUID_C,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'Jira SEC-4713 resolved (Done).',
        ticketId: 'SEC-4713',
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
        occurredAt: '2024-04-17T17:18:10.000Z',
      },
    ],
    [
      'ServiceNow incident resolved with "Solved (Permanently)"',
      '/servicenow',
      'servicenow-incident-resolved',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment:
          'ServiceNow INC0010024 resolved (Solved (Permanently)): Removed the scheduled task; host rescanned clean.',
        actor: 'ana.analyst',
        eventId: '46d44a23a9fe19810012d100cca80666:7',
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
      'Zendesk trigger written as flat JSON (id and reason in tags)',
      '/zendesk',
      'zendesk-trigger-flat',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'Zendesk ticket #35438 resolved (false_positive).',
        ticketId: '35438',
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
        occurredAt: '2024-04-17T17:18:10.123Z',
        actor: '8447388090494',
        eventId: 'cbe4028c-7239-495d-b020-f22348516046',
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
      'Freshservice "Advanced" flat body',
      '/freshservice',
      'freshservice-advanced-flat',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'Freshservice INC-1235 resolved (False positive).',
        ticketId: 'INC-1235',
      },
    ],
    [
      'Freshdesk {"freshdesk_webhook": ...} (id in a tag)',
      '/freshdesk',
      'freshdesk-simple',
      {
        incidentUuid: UUID,
        closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
        comment: 'Freshdesk ticket #4711 resolved (True positive).',
        ticketId: '4711',
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
        occurredAt: '2024-04-17T17:18:10.123Z',
        actor: 'analyst@soc.example',
      },
    ],
    [
      'TheHive 5 audit: case closed (status is the resolution, customFields list)',
      '/thehive',
      'thehive5-case-closed',
      {
        incidentUuid: UUID_C,
        closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
        comment: 'TheHive case #117 resolved (FalsePositive): Admin tool; allow-listed in ESET.',
        ticketId: '117',
        eventId: '~41316576',
      },
    ],
  ])('%s', (_name, path, name, expected) => {
    expect(eventOf(adapt(path, name))).toMatchObject({ action: 'close', ...expected });
  });
});

describe('reopen events', () => {
  it.each([
    ['Jira: the resolution is cleared', '/jira', 'jira-issue-reopened', UUID, 'Jira SEC-4711 reopened.'],
    [
      'Zendesk: SOLVED back to OPEN',
      '/zendesk',
      'zendesk-event-reopened',
      UUID,
      'Zendesk ticket #35436 reopened.',
    ],
    [
      'ServiceNow: Resolved (6) back to In Progress',
      '/servicenow',
      'servicenow-incident-reopened',
      UUID,
      'ServiceNow INC0010024 reopened.',
    ],
    [
      'TheHive 5: stage back to InProgress',
      '/thehive',
      'thehive5-case-reopened',
      UUID_C,
      'TheHive case #117 reopened.',
    ],
  ])('%s', (_name, path, name, incidentUuid, comment) => {
    const event = eventOf(adapt(path, name));
    expect(event).toMatchObject({ action: 'reopen', incidentUuid, comment });
    expect(event.closureReason).toBeUndefined();
  });

  it('Jira: a status change from Done to an open status without a resolution change', () => {
    const body = fixture('jira-issue-reopened') as {
      changelog: { items: unknown[] };
      issue_event_type_name: string;
    };
    body.changelog.items = body.changelog.items.slice(1);
    body.issue_event_type_name = 'issue_generic';
    expect(eventOf(adaptWith(table, '/jira', body)).action).toBe('reopen');
  });

  it('Freshdesk and Freshservice: an Advanced body declaring "event": "reopened", with the reopen note', () => {
    const body = {
      event: 'reopened',
      ticket: { id: 4711, status: 'Open', eset_incident: UUID, note: 'The user saw it again.' },
    };
    expect(eventOf(adaptWith(table, '/freshdesk', body))).toMatchObject({
      action: 'reopen',
      comment: 'Freshdesk ticket #4711 reopened: The user saw it again.',
    });
  });
});

describe('comment events', () => {
  it.each([
    [
      'Jira jira:issue_updated that only added a comment (issue_commented): a comment, not another close',
      '/jira',
      'jira-issue-commented',
      {
        incidentUuid: UUID,
        comment: "Jira SEC-4711 comment: Checked again: the script is the backup agent's.",
        eventId: '10312',
        occurredAt: '2024-04-17T18:18:10.123Z',
      },
    ],
    [
      'Jira comment_created (id in the summary)',
      '/jira',
      'jira-comment-created',
      {
        incidentUuid: UUID_B,
        comment: 'Jira SEC-4712 comment: Host isolated; reimage scheduled for tonight.',
        actor: '712020:5f1c3a0e-bd4e-4c55-9a1e-0b0c6ad4e7f2',
        eventId: '10313',
      },
    ],
    [
      'Jira Automation "comment added" custom data',
      '/jira',
      'jira-automation-custom-commented',
      {
        incidentUuid: UUID,
        comment:
          'Jira SEC-4711 comment: Confirmed with the user: "update.ps1" is theirs.\nClosing as benign.',
        eventId: '10320',
      },
    ],
    [
      'Zendesk ticket.comment_added (public)',
      '/zendesk',
      'zendesk-event-comment-added',
      {
        incidentUuid: UUID,
        comment: 'Zendesk ticket #35436 comment: We isolated the laptop and are checking the script.',
        eventId: '27810455529117',
        occurredAt: '2024-04-17T17:05:12.048Z',
      },
    ],
    [
      'ServiceNow additional comment (journal entry)',
      '/servicenow',
      'servicenow-journal-comment',
      {
        incidentUuid: UUID,
        comment: 'ServiceNow INC0010024 comment: We are reimaging the laptop this afternoon.',
        eventId: 'a83820b58f723300e7e16c7827bdeed2',
        actor: 'ana.analyst',
      },
    ],
    [
      'TheHive 5 comment (the case in context)',
      '/thehive',
      'thehive5-comment-created',
      { incidentUuid: UUID_C, ticketId: '117', eventId: '~40964216' },
    ],
    [
      'TheHive 4 task log (the id in the message)',
      '/thehive',
      'thehive4-task-log-created',
      { incidentUuid: UUID, eventId: '~4412', occurredAt: '2024-04-17T16:44:50.123Z' },
    ],
    [
      'Freshservice note added (Advanced, nested)',
      '/freshservice',
      'freshservice-note-added',
      { incidentUuid: UUID, comment: 'Freshservice INC-1234 comment: Asked the user to run a full scan.' },
    ],
    [
      'Freshdesk latest public comment (Simple)',
      '/freshdesk',
      'freshdesk-note-added',
      {
        incidentUuid: UUID,
        comment: 'Freshdesk ticket #4711 comment: The laptop is back with the user, scanned clean.',
      },
    ],
  ])('%s', (_name, path, name, expected) => {
    expect(eventOf(adapt(path, name))).toMatchObject({ action: 'comment', ...expected });
  });

  it('keeps two comments with the same text apart by their ids', () => {
    const first = fixture('zendesk-event-comment-added');
    const second = structuredClone(first) as { id: string; event: { comment: { id: string } } };
    second.id = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
    second.event.comment.id = '27810455529999';
    const a = eventOf(adaptWith(table, '/zendesk', first));
    const b = eventOf(adaptWith(table, '/zendesk', second));
    expect(a.comment).toBe(b.comment);
    expect(a.eventId).not.toBe(b.eventId);
  });

  describe('which comments are copied (comments: public | all | none)', () => {
    const privateZendesk = () => {
      const body = fixture('zendesk-event-comment-added') as { event: { comment: { is_public: boolean } } };
      body.event.comment.is_public = false;
      return body;
    };
    const internalJira = () => {
      const body = fixture('jira-comment-created') as { comment: Record<string, unknown> };
      body.comment.visibility = { type: 'role', value: 'Administrators', identifier: 'Administrators' };
      return body;
    };
    const jsmInternal = () => {
      const body = fixture('jira-comment-created') as { comment: Record<string, unknown> };
      body.comment.jsdPublic = false;
      return body;
    };

    it.each([
      ['a private Zendesk comment', '/zendesk', privateZendesk],
      ['a ServiceNow work note', '/servicenow', () => fixture('servicenow-work-note')],
      ['a Jira comment restricted to a role', '/jira', internalJira],
      ['a Jira Service Management internal comment', '/jira', jsmInternal],
      [
        'a Freshdesk private note alone',
        '/freshdesk',
        () => ({
          freshdesk_webhook: {
            ticket_id: 1,
            ticket_status: 'Open',
            ticket_cf_eset_incident: UUID,
            ticket_latest_private_comment: 'internal only',
          },
        }),
      ],
    ])('by default (public) ignores %s, and copies it with comments: all', (_name, path, body) => {
      expect(reasonOf(adaptWith(table, path, body()))).toMatch(/internal comment .*comments: public/);
      const all = tableOf({
        ...CONFIG.routes,
        [path]: { ...(CONFIG.routes as Record<string, object>)[path], comments: 'all' },
      });
      expect(eventOf(adaptWith(all, path, body())).action).toBe('comment');
    });

    it('copies no comment with comments: none, and still closes', () => {
      const none = tableOf({ '/zendesk': { comments: 'none' } });
      expect(reasonOf(adaptWith(none, '/zendesk', fixture('zendesk-event-comment-added')))).toBe(
        'comments are not copied on this route (comments: none)',
      );
      expect(eventOf(adaptWith(none, '/zendesk', fixture('zendesk-event-status-changed'))).action).toBe(
        'close',
      );
    });
  });
});

describe('echoes and the bridge’s own account', () => {
  it(`never copies a comment that carries ${BRIDGE_COMMENT_MARKER}`, () => {
    const body = fixture('zendesk-event-comment-added') as { event: { comment: { body: string } } };
    body.event.comment.body = `ESET incident closed as FALSE_POSITIVE. ${BRIDGE_COMMENT_MARKER}`;
    expect(adaptWith(table, '/zendesk', body)).toEqual({
      kind: 'ignore',
      reason: ECHOED_COMMENT,
      ticketId: '35436',
    });
  });

  it('ignores changes made by an ignored actor, whatever the action', () => {
    const t = tableOf({
      '/jira': { ignoreActors: ['5B10A2844C20165700EDE21G'] },
      '/servicenow': { ignoreActors: ['svc.eset'] },
    });
    expect(reasonOf(adaptWith(t, '/jira', fixture('jira-issue-commented')))).toBe(IGNORED_ACTOR);
    expect(reasonOf(adaptWith(t, '/jira', fixture('jira-issue-reopened')))).toBe(IGNORED_ACTOR);
    const byBridge = {
      ...fixture('servicenow-journal-comment'),
      journal: { ...(fixture('servicenow-journal-comment').journal as object), sys_created_by: 'svc.eset' },
    };
    expect(reasonOf(adaptWith(t, '/servicenow', byBridge))).toBe(IGNORED_ACTOR);
    expect(eventOf(adaptWith(t, '/servicenow', fixture('servicenow-journal-comment'))).actor).toBe(
      'ana.analyst',
    );
  });

  it('applies both on the canonical route too', () => {
    const t = tableOf({ '/': { ignoreActors: ['eset-bridge'] } });
    const comment = {
      action: 'comment',
      incidentUuid: UUID,
      comment: `Closed in ESET ${BRIDGE_COMMENT_MARKER}`,
    };
    expect(reasonOf(adaptWith(t, '/', comment))).toBe(ECHOED_COMMENT);
    expect(reasonOf(adaptWith(t, '/', { ...comment, comment: 'hi', actor: 'eset-bridge' }))).toBe(
      IGNORED_ACTOR,
    );
  });
});

describe('events that are not ticket changes the bridge maps', () => {
  it.each([
    [
      'a Jira edit of an already resolved issue (labels)',
      '/jira',
      'jira-issue-commented-after-resolve',
      /comment text|did not change/,
    ],
    [
      'a ServiceNow update that does not resolve',
      '/servicenow',
      'servicenow-incident-in-progress',
      /not a resolve event \(state 2\)/,
    ],
    [
      'a TheHive alert creation',
      '/thehive',
      'thehive4-alert-created',
      /not a case event \(objectType alert\)/,
    ],
    [
      'a solved Zendesk ticket that has no ESET incident',
      '/zendesk',
      'zendesk-trigger-no-incident',
      /no ESET incident id/,
    ],
    [
      'a Zendesk ticket.tags_changed event of a solved ticket',
      '/zendesk',
      'zendesk-event-tags-changed',
      /not a status change or comment/,
    ],
  ])('ignores %s (200 "ignored")', (_name, path, name, reason) => {
    const adapted = adapt(path, name);
    expect(adapted.kind).toBe('ignore');
    expect(reasonOf(adapted)).toMatch(reason);
  });

  it('ignores a Zendesk status change from solved to closed (the close already went out)', () => {
    const body = fixture('zendesk-event-status-changed') as { event: { current: string; previous: string } };
    body.event = { current: 'CLOSED', previous: 'SOLVED' };
    expect(reasonOf(adaptWith(table, '/zendesk', body))).toMatch(/already resolved/);
  });
});

describe('default reason tables', () => {
  const resolutionsOf = (path: string, make: (resolution: string) => unknown, names: string[]) =>
    Object.fromEntries(
      names.map((n) => {
        const a = adaptWith(table, path, make(n));
        return [
          n,
          a.kind === 'event' ? a.event.closureReason?.replace('INCIDENT_RESOLVE_REASON_', '') : a.reason,
        ];
      }),
    );

  it("maps Jira Cloud's and Jira Server's resolutions deliberately", () => {
    const make = (name: string) => {
      const body = fixture('jira-issue-updated') as { issue: { fields: { resolution: { name: string } } } };
      body.issue.fields.resolution.name = name;
      return body;
    };
    expect(
      resolutionsOf('/jira', make, [
        'Done',
        "Won't Do",
        'Duplicate',
        'Cannot Reproduce',
        'Declined',
        'Fixed',
        "Won't Fix",
        'Not a Bug',
        'Incomplete',
        'False Positive',
        'Something new',
      ]),
    ).toEqual({
      Done: 'TRUE_POSITIVE',
      "Won't Do": 'UNSPECIFIED',
      Duplicate: 'UNSPECIFIED',
      'Cannot Reproduce': 'FALSE_POSITIVE',
      Declined: 'FALSE_POSITIVE',
      Fixed: 'TRUE_POSITIVE',
      "Won't Fix": 'UNSPECIFIED',
      'Not a Bug': 'FALSE_POSITIVE',
      Incomplete: 'UNSPECIFIED',
      'False Positive': 'FALSE_POSITIVE',
      'Something new': 'UNSPECIFIED',
    });
  });

  it('maps ServiceNow incident and Security Incident Response close codes deliberately', () => {
    const make = (close_code: string) => ({ ...fixture('servicenow-incident-resolved'), close_code });
    expect(
      resolutionsOf('/servicenow', make, [
        'Solved (Permanently)',
        'Solved (Work Around)',
        'Not Solved (Not Reproducible)',
        'Not Solved (Too Costly)',
        'Closed/Resolved by Caller',
        'Solution provided',
        'User error',
        'False positive',
        'Threat mitigated',
        'Not resolved',
        'Investigation completed',
      ]),
    ).toEqual({
      'Solved (Permanently)': 'TRUE_POSITIVE',
      'Solved (Work Around)': 'TRUE_POSITIVE',
      'Not Solved (Not Reproducible)': 'FALSE_POSITIVE',
      'Not Solved (Too Costly)': 'SUSPICIOUS',
      'Closed/Resolved by Caller': 'UNSPECIFIED',
      'Solution provided': 'TRUE_POSITIVE',
      'User error': 'FALSE_POSITIVE',
      'False positive': 'FALSE_POSITIVE',
      'Threat mitigated': 'TRUE_POSITIVE',
      'Not resolved': 'SUSPICIOUS',
      'Investigation completed': 'UNSPECIFIED',
    });
  });

  it('maps TheHive resolutions by the documented table', () => {
    const base = fixture('thehive4-case-resolved') as { details: Record<string, unknown> };
    const make = (resolutionStatus: string) => ({ ...base, details: { ...base.details, resolutionStatus } });
    expect(
      resolutionsOf('/thehive', make, [
        'TruePositive',
        'FalsePositive',
        'Indeterminate',
        'Other',
        'Duplicated',
        'SomethingNew',
      ]),
    ).toEqual({
      TruePositive: 'TRUE_POSITIVE',
      FalsePositive: 'FALSE_POSITIVE',
      Indeterminate: 'SUSPICIOUS',
      Other: 'UNSPECIFIED',
      Duplicated: 'UNSPECIFIED',
      SomethingNew: 'UNSPECIFIED',
    });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'falls back to the "*" reason for a resolution named %s (no prototype lookups)',
    (name) => {
      const t = tableOf({ '/jira': { reasons: { '*': 'SUSPICIOUS' } } });
      const body = fixture('jira-automation-issue') as { fields: { resolution: { name: string } } };
      body.fields.resolution.name = name;
      expect(eventOf(adaptWith(t, '/jira', body)).closureReason).toBe('INCIDENT_RESOLVE_REASON_SUSPICIOUS');
    },
  );
});

describe('how the ESET comment names the sender', () => {
  it("uses the route's own name when it borrows another system's adapter", () => {
    const t = tableOf({ '/helpdesk': { adapter: 'freshservice' } });
    expect(eventOf(adaptWith(t, '/helpdesk', fixture('freshdesk-simple'))).comment).toBe(
      'helpdesk 4711 resolved (True positive).',
    );
  });

  it('uses the label setting when there is one', () => {
    const t = tableOf({ '/helpdesk': { adapter: 'freshservice', label: 'Freshdesk (EU)' } });
    expect(eventOf(adaptWith(t, '/helpdesk', fixture('freshdesk-simple'))).comment).toMatch(
      /^Freshdesk \(EU\) 4711 resolved/,
    );
  });
});

describe('per-route settings', () => {
  it('extends the reason table and can reject tickets without an ESET incident', () => {
    const t = tableOf({
      '/jira': { reasons: { Done: 'false-positive' } },
      '/zendesk': { onMissingIncident: 'reject' },
    });
    const done = fixture('jira-automation-issue') as { fields: { resolution: { name: string } } };
    done.fields.resolution.name = 'Done';
    expect(eventOf(adaptWith(t, '/jira', done)).closureReason).toBe('INCIDENT_RESOLVE_REASON_FALSE_POSITIVE');
    expect(() => adaptWith(t, '/zendesk', fixture('zendesk-trigger-no-incident'))).toThrow(
      'No ESET incident id in the payload',
    );
  });

  it('answers 400 naming the field when the ESET incident field holds something else', () => {
    const payload = fixture('jira-issue-updated') as { issue: { fields: Record<string, unknown> } };
    payload.issue.fields.customfield_10050 = 'N/A';
    let error: unknown;
    try {
      adaptWith(table, '/jira', payload);
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
    expect(() => adaptWith(table, '/thehive', [1, 2])).toThrow('Invalid payload');
  });

  it('reads occurredAt, actor and eventId from the route’s own field paths first', () => {
    const t = tableOf({
      '/servicenow': { occurredAt: ['u_closed_at'], actor: ['u_closed_by'], eventId: ['u_event'] },
    });
    const body = {
      ...fixture('servicenow-incident-resolved'),
      u_closed_at: '2024-04-17T19:00:00+02:00',
      u_closed_by: 'bob',
      u_event: 'ev-1',
    };
    expect(eventOf(adaptWith(t, '/servicenow', body))).toMatchObject({
      occurredAt: '2024-04-17T17:00:00.000Z',
      actor: 'bob',
      eventId: 'ev-1',
    });
  });

  it('keeps the canonical route at / and serves unknown paths nothing', () => {
    expect(table.find('/')?.adapter.name).toBe('canonical');
    expect(table.find('/jira/')?.adapter.name).toBe('jira');
    expect(table.find('/JIRA')?.adapter.name).toBe('jira');
    expect(table.find('/nope')).toBeUndefined();
    expect(buildRouteTable().find('/anything')?.adapter.name).toBe('canonical');
  });

  it('gives each system its default authentication, overridable per route', () => {
    const t = tableOf({
      ...CONFIG.routes,
      '/jira-automation': { adapter: 'jira', auth: { scheme: 'bearer' } },
      '/any': { adapter: 'generic', incident: [{ field: 'id' }], resolvedWhen: [] },
    });
    expect(Object.fromEntries(t.routes.map((r) => [r.path, r.auth.scheme]))).toEqual({
      '/': 'standard-webhooks',
      '/jira': 'hub-signature',
      '/jira-automation': 'bearer',
      '/servicenow': 'basic-or-bearer',
      '/zendesk': 'zendesk',
      '/freshservice': 'basic',
      '/freshdesk': 'basic',
      '/thehive': 'bearer',
      '/any': 'basic-or-bearer',
    });
  });

  it('names every problem in SENDERS_CONFIG at once, with its path', () => {
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
      /must be one of canonical, generic/,
    ],
    [
      'an unknown auth scheme',
      JSON.stringify({ routes: { '/jira': { auth: { scheme: 'hmac' } } } }),
      /must be one of standard-webhooks/,
    ],
    ['a route that is not a path', JSON.stringify({ routes: { jira: {} } }), /route must be a path/],
    [
      'an unknown comments policy',
      JSON.stringify({ routes: { '/jira': { comments: 'some' } } }),
      /SENDERS_CONFIG routes\.\/jira\.comments: must be public, all, none/,
    ],
    [
      'ignoreActors that is not a list',
      JSON.stringify({ routes: { '/jira': { ignoreActors: 'svc' } } }),
      /SENDERS_CONFIG routes\.\/jira\.ignoreActors/,
    ],
  ])('refuses %s', (_name, json, message) => {
    expect(() => parseSendersConfig(json)).toThrow(message);
  });
});

describe('the canonical and generic adapters', () => {
  it('refuses field paths on a canonical route at cold start instead of dropping them', () => {
    expect(() =>
      tableOf({
        '/relay': {
          adapter: 'canonical',
          incident: [{ field: 'x' }],
          reasonFrom: [{ field: 'r' }],
          comment: ['c'],
          resolvedWhen: [],
        },
      }),
    ).toThrow(
      /routes\.\/relay\.incident: not read by the canonical adapter.*routes\.\/relay\.reasonFrom.*routes\.\/relay\.comment.*routes\.\/relay\.resolvedWhen/,
    );
  });

  it('reads any JSON sender with the generic adapter and field paths', () => {
    const t = tableOf({
      '/relay': {
        adapter: 'generic',
        incident: [{ field: 'data.eset_incident' }],
        reasonFrom: [{ field: 'data.verdict' }],
        reasons: { benign: 'FALSE_POSITIVE' },
        comment: ['data.note'],
        ticketId: ['data.ref'],
        occurredAt: ['at'],
        actor: ['by'],
        resolvedWhen: [{ anyOf: ['kind'], equals: ['resolved'] }],
        reopenedWhen: [{ anyOf: ['kind'], equals: ['reopened'] }],
        commentedWhen: [{ anyOf: ['kind'], equals: ['note'] }],
      },
    });
    const body = (kind: string) => ({
      kind,
      at: 1713374290,
      by: 'ana',
      data: { eset_incident: UUID, verdict: 'Benign', note: 'Backup agent.', ref: 'R-7' },
    });
    expect(eventOf(adaptWith(t, '/relay', body('resolved')))).toEqual({
      action: 'close',
      incidentUuid: UUID,
      closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      comment: 'relay ticket R-7 resolved (Benign): Backup agent.',
      ticketId: 'R-7',
      occurredAt: '2024-04-17T17:18:10.000Z',
      actor: 'ana',
    });
    expect(eventOf(adaptWith(t, '/relay', body('reopened'))).action).toBe('reopen');
    expect(eventOf(adaptWith(t, '/relay', body('note'))).comment).toBe(
      'relay ticket R-7 comment: Backup agent.',
    );
    expect(reasonOf(adaptWith(t, '/relay', body('other')))).toMatch(/none of resolvedWhen/);
  });

  it('requires a generic route to say where the incident is and when it acts', () => {
    expect(() => tableOf({ '/relay': { adapter: 'generic' } })).toThrow(
      /routes\.\/relay\.incident: required.*routes\.\/relay\.resolvedWhen: the generic adapter needs/,
    );
  });

  it('takes action and occurredAt on the canonical route, and names a wrong action', () => {
    expect(
      eventOf(
        adaptWith(table, '/', {
          action: 'reopen',
          incidentUuid: UUID,
          occurredAt: '2024-04-17T19:00:00+02:00',
        }),
      ),
    ).toEqual({
      action: 'reopen',
      incidentUuid: UUID,
      occurredAt: '2024-04-17T17:00:00.000Z',
    });
    let error: unknown;
    try {
      adaptWith(table, '/', { action: 'escalate', incidentUuid: UUID, comment: 'x' });
    } catch (err) {
      error = err;
    }
    expect((error as BadRequestError).statusCode).toBe(400);
    expect((error as BadRequestError).details).toEqual([
      { path: 'action', message: 'must be one of close, reopen, comment' },
    ]);
  });
});
