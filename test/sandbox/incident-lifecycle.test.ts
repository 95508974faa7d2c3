import { describe, expect, it } from 'vitest';
import { CONSOLE_USER } from '../../infra/local/eset-sandbox/sandbox';
import { admin, clientFor, INCIDENT, OTHER, T0, token, useSandbox } from './sandbox-client';

const harness = useSandbox();

async function started(options: Parameters<typeof harness.start>[0] = {}) {
  const sb = await harness.start(options);
  const client = clientFor(sb, await token(sb));
  return { sb, client };
}

interface CommentBody {
  uuid: string;
  text: string;
  authorUuid: string;
  createTime: string;
  updateTime: string;
  isFinalComment: boolean;
  incidentUuid: string;
}

describe('incident model', () => {
  it('answers every v2Incident field, with severity spelt as ESET documents it', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_IN_PROGRESS', {
      severity: 'INCIDENT_SEVERITY_LEVEL_HIGH',
      displayName: 'Ransomware on HR-PC-7',
      description: 'Encryption behaviour blocked',
      createTime: '2027-01-01T08:00:00+01:00',
    });

    const res = await client.get(INCIDENT);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      incident: {
        uuid: INCIDENT,
        displayName: 'Ransomware on HR-PC-7',
        description: 'Encryption behaviour blocked',
        status: 'INCIDENT_STATUS_IN_PROGRESS',
        severity: 'INCIDENT_SEVERITY_LEVEL_HIGH',
        resolveReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
        assigneeUuid: '',
        tags: [],
        createTime: '2027-01-01T07:00:00.000Z',
        updateTime: '2027-01-01T07:00:00.000Z',
        detectionUuids: [],
        deviceUuids: [],
      },
    });
  });

  it('keeps the two-argument addIncident: medium severity, created at the clock time', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    const { incident } = (await (await client.get(INCIDENT)).json()) as { incident: Record<string, unknown> };

    expect(incident).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      severity: 'INCIDENT_SEVERITY_LEVEL_MEDIUM',
      createTime: new Date(T0).toISOString(),
    });
  });

  it('seeds incidents with attributes through the admin endpoint and refuses bad ones whole', async () => {
    const sb = await harness.start();

    const seeded = await admin(sb, 'incidents', {
      incidents: [{ uuid: INCIDENT, severity: 'INCIDENT_SEVERITY_LEVEL_LOW', displayName: 'Phishing' }],
    });
    const refused = await admin(sb, 'incidents', {
      incidents: [{ uuid: OTHER }, { uuid: 'x', severity: 'INCIDENT_SEVERITY_MEDIUM' }],
    });
    const unknownField = await admin(sb, 'incidents', { incidents: [{ uuid: OTHER, assignee: 'me' }] });

    expect(seeded.status).toBe(200);
    expect(sb.state().incidents[INCIDENT]).toMatchObject({
      severity: 'INCIDENT_SEVERITY_LEVEL_LOW',
      displayName: 'Phishing',
    });
    expect(refused.status).toBe(400);
    expect(unknownField.status).toBe(400);
    expect(Object.keys(sb.state().incidents)).toEqual([INCIDENT]);
  });

  it('moves updateTime on every change: close, reopen, comment and console actions', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    const times = [sb.state().incidents[INCIDENT]?.updateTime];
    const step = async (action: () => unknown) => {
      harness.advance(1_000);
      await action();
      times.push(sb.state().incidents[INCIDENT]?.updateTime);
    };

    await step(() => client.close(INCIDENT));
    await step(() => client.reopen(INCIDENT));
    await step(() => client.comment(INCIDENT, 'looking'));
    await step(() => sb.consoleComment(INCIDENT, 'me too'));
    await step(() => sb.consoleClose(INCIDENT));
    await step(() => sb.consoleReopen(INCIDENT));

    expect(times).toEqual(Array.from({ length: 7 }, (_, i) => new Date(T0 + i * 1_000).toISOString()));
  });
});

describe('API users', () => {
  it('gives every user a stable uuid derived from the username', async () => {
    const first = await harness.start({ username: 'api@example.com' });
    const second = await harness.start({ username: 'api@example.com' });

    expect(first.userUuid()).toBe(second.userUuid());
    expect(first.userUuid()).toBe(first.userUuid('api@example.com'));
    expect(first.userUuid('someone-else')).not.toBe(first.userUuid());
    expect(first.userUuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('close', () => {
  it('keeps the final comment as a comment marked final, written by the caller', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    await client.close(INCIDENT, { finalComment: { text: 'Resolved in T-1' } });
    const { comments } = (await (await client.comments(INCIDENT)).json()) as { comments: CommentBody[] };

    expect(comments).toEqual([
      {
        uuid: expect.any(String),
        incidentUuid: INCIDENT,
        text: 'Resolved in T-1',
        authorUuid: sb.userUuid(),
        createTime: new Date(T0).toISOString(),
        updateTime: new Date(T0).toISOString(),
        isFinalComment: true,
      },
    ]);
    expect(sb.state().incidents[INCIDENT]).toMatchObject({
      finalComment: 'Resolved in T-1',
      commentsCreated: 0,
    });
  });

  it('applies a repeated close again and answers 200 in repeat-applies mode', async () => {
    const { sb, client } = await started({ repeatApplies: true });
    sb.addIncident(INCIDENT);

    await client.close(INCIDENT, { finalComment: { text: 'first' } });
    const again = await client.close(INCIDENT, {
      closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      finalComment: { text: 'second' },
    });

    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({});
    const incident = sb.state().incidents[INCIDENT];
    expect(incident).toMatchObject({
      closesApplied: 2,
      resolveReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      finalComment: 'second',
    });
    expect(incident?.comments.map((c) => [c.text, c.isFinalComment])).toEqual([
      ['first', true],
      ['second', true],
    ]);
  });

  it('answers 400 to misspelt, snake_case and read-only fields instead of ignoring them', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    const answers = await Promise.all(
      [
        { closeReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' },
        { closure_reason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' },
        { finalComment: { text: 'x', isFinalComment: true } },
        { finalComment: { text: 'x', authorUuid: sb.userUuid() } },
        { finalComment: { text: 'x', incidentUuid: OTHER } },
      ].map(async (body) => {
        const res = await client.close(INCIDENT, body);
        return [res.status, ((await res.json()) as { code: number }).code];
      }),
    );

    expect(answers).toEqual(Array.from({ length: 5 }, () => [400, 3]));
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
  });
});

describe('reopen', () => {
  it('reopens a closed incident: open, reason unspecified, final comment made normal, comment by the caller', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    await client.close(INCIDENT, { finalComment: { text: 'fixed' } });
    harness.advance(60_000);

    const res = await client.reopen(INCIDENT, { comment: { text: 'it came back' } });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const incident = sb.state().incidents[INCIDENT];
    expect(incident).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      resolveReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
      reopensApplied: 1,
      closesApplied: 1,
    });
    expect(incident?.finalComment).toBeUndefined();
    expect(incident?.comments.map((c) => [c.text, c.isFinalComment, c.authorUuid])).toEqual([
      ['fixed', false, sb.userUuid()],
      ['it came back', false, sb.userUuid()],
    ]);
  });

  it('refuses to reopen an open incident with 400 in strict mode', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    const res = await client.reopen(INCIDENT, { comment: { text: 'again?' } });

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 9, message: 'incident is not closed', details: [] });
    expect(sb.state().incidents[INCIDENT]).toMatchObject({ reopensApplied: 0, comments: [] });
  });

  it('applies a repeated reopen again and answers 200 in repeat-applies mode', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.setRepeatApplies(true);

    const first = await client.reopen(INCIDENT, { comment: { text: 'again' } });
    const second = await client.reopen(INCIDENT, { comment: { text: 'again' } });

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(sb.state().incidents[INCIDENT]).toMatchObject({ reopensApplied: 2 });
    expect(sb.state().incidents[INCIDENT]?.comments.map((c) => c.text)).toEqual(['again', 'again']);
  });

  it('reopens an incident in progress or waiting, and takes an empty body or {}', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_IN_PROGRESS');
    sb.addIncident(OTHER, 'INCIDENT_STATUS_WAITING_FOR_INPUT');

    const empty = await client.send('POST', `/v2/incidents/${INCIDENT}:reopen`);
    const braces = await client.reopen(OTHER, {});

    expect([empty.status, braces.status]).toEqual([200, 200]);
    expect(sb.state().incidents[INCIDENT]?.comments).toEqual([]);
  });

  it('answers 400 with an rpc status to bad JSON or a bad shape, and 404 to an unknown incident', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');

    const badJson = await client.reopen(INCIDENT, '{"comment":');
    const notObject = await client.reopen(INCIDENT, []);
    const badComment = await client.reopen(INCIDENT, { comment: 'text' });
    const badText = await client.reopen(INCIDENT, { comment: { text: 7 } });
    const unknown = await client.reopen(OTHER);

    for (const res of [badJson, notObject, badComment, badText]) {
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 3, details: [] });
    }
    expect(unknown.status).toBe(404);
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_CLOSED');
  });
});

describe('comments', () => {
  it('creates a comment by the caller and answers it whole', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    const res = await client.comment(INCIDENT, 'Ticket T-9 opened');

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      comment: {
        uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        text: 'Ticket T-9 opened',
        authorUuid: sb.userUuid(),
        createTime: new Date(T0).toISOString(),
        updateTime: new Date(T0).toISOString(),
        isFinalComment: false,
        incidentUuid: INCIDENT,
      },
    });
    expect(sb.state().incidents[INCIDENT]?.commentsCreated).toBe(1);
  });

  it('adds a new comment for every POST, even with the same text, and lists them oldest first', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    await client.comment(INCIDENT, 'same');
    harness.advance(1);
    await client.comment(INCIDENT, 'same');
    harness.advance(1);
    await client.comment(INCIDENT, 'later');
    const { comments } = (await (await client.comments(INCIDENT)).json()) as { comments: CommentBody[] };

    expect(comments.map((c) => c.text)).toEqual(['same', 'same', 'later']);
    expect(new Set(comments.map((c) => c.uuid)).size).toBe(3);
    expect(comments.map((c) => c.createTime)).toEqual([0, 1, 2].map((ms) => new Date(T0 + ms).toISOString()));
  });

  it('answers 400 to a comment without a non-empty text', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    const post = (body: unknown) => client.send('POST', `/v2/incidents/${INCIDENT}/comments`, { body });

    const statuses = await Promise.all(
      [{}, { comment: {} }, { comment: { text: '' } }, { comment: { text: 1 } }, { text: 'x' }].map(
        async (body) => (await post(body)).status,
      ),
    );

    expect(statuses).toEqual([400, 400, 400, 400, 400]);
    expect(sb.state().incidents[INCIDENT]?.comments).toEqual([]);
  });

  it('reads, updates the text of and deletes a comment', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    const created = ((await (await client.comment(INCIDENT, 'draft')).json()) as { comment: CommentBody })
      .comment;
    const path = `/v2/incidents/${INCIDENT}/comments/${created.uuid}`;
    harness.advance(5_000);

    const updated = await client.send('POST', `${path}/text:update`, { body: { text: 'final words' } });
    const read = await client.send('GET', path);
    const removed = await client.send('DELETE', path);
    const gone = await client.send('GET', path);

    expect(updated.status).toBe(200);
    expect(await updated.json()).toEqual({});
    expect(await read.json()).toEqual({
      comment: { ...created, text: 'final words', updateTime: new Date(T0 + 5_000).toISOString() },
    });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({});
    expect(gone.status).toBe(404);
    expect(sb.state().incidents[INCIDENT]?.comments).toEqual([]);
  });

  it("refuses to change another user's comment with 403", async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.consoleComment(INCIDENT, 'analyst note');
    const uuid = sb.state().incidents[INCIDENT]?.comments[0]?.uuid ?? '';
    const path = `/v2/incidents/${INCIDENT}/comments/${uuid}`;

    const update = await client.send('POST', `${path}/text:update`, { body: { text: 'mine now' } });
    const remove = await client.send('DELETE', path);

    expect([update.status, remove.status]).toEqual([403, 403]);
    expect(sb.state().incidents[INCIDENT]?.comments[0]?.text).toBe('analyst note');
  });

  it('answers 400 to a text update without text and 404 to unknown incidents and comments', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    const uuid = ((await (await client.comment(INCIDENT, 'x')).json()) as { comment: CommentBody }).comment
      .uuid;

    const noText = await client.send('POST', `/v2/incidents/${INCIDENT}/comments/${uuid}/text:update`, {
      body: { comment: { text: 'y' } },
    });
    const unknownIncident = await client.comments(OTHER);
    const unknownComment = await client.send('GET', `/v2/incidents/${INCIDENT}/comments/${OTHER}`);
    const commentOnUnknown = await client.comment(OTHER, 'hello');

    expect(noText.status).toBe(400);
    expect([unknownIncident.status, unknownComment.status, commentOnUnknown.status]).toEqual([404, 404, 404]);
  });
});

describe('modes', () => {
  it('switches repeat-applies mode and the rate limit through /_sandbox/mode', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');

    const strict = await client.close(INCIDENT);
    const mode = await admin(sb, 'mode', { repeatApplies: true, rateLimitPerSecond: 2 });
    const repeated = await client.close(INCIDENT);
    const limited = await client.get(INCIDENT);
    const bad = await admin(sb, 'mode', { repeatApplies: 'yes', rateLimitPerSecond: 5 });
    const unknown = await admin(sb, 'mode', { repeat: true });

    expect(strict.status).toBe(400);
    expect(await mode.json()).toEqual({ repeatApplies: true, rateLimitPerSecond: 2, pendingDelayMs: 0 });
    expect(repeated.status).toBe(200);
    expect(limited.status).toBe(429);
    expect([bad.status, unknown.status]).toEqual([400, 400]);
    // The refused request changed nothing, not even the valid half of it.
    expect(await (await admin(sb, 'mode')).json()).toMatchObject({ rateLimitPerSecond: 2 });
  });
});

describe('rate limit per API user', () => {
  it('shares the limit between two tokens of one user and keeps two users apart', async () => {
    const sb = await harness.start({
      rateLimitPerSecond: 2,
      extraUsers: [{ username: 'second-user', password: 'second-password' }],
    });
    sb.addIncident(INCIDENT);
    const a1 = clientFor(sb, await token(sb));
    const a2 = clientFor(sb, await token(sb));
    const b = clientFor(sb, await token(sb, 'second-user', 'second-password'));

    const statuses = [];
    for (const client of [a1, a2, a1, b, b, b]) statuses.push((await client.get(INCIDENT)).status);

    expect(statuses).toEqual([200, 200, 429, 200, 200, 429]);
  });

  it('writes the comments of a second user under that user uuid', async () => {
    const sb = await harness.start({ extraUsers: [{ username: 'second-user', password: 'pw' }] });
    sb.addIncident(INCIDENT);
    const b = clientFor(sb, await token(sb, 'second-user', 'pw'));

    await b.comment(INCIDENT, 'from b');

    expect(sb.state().incidents[INCIDENT]?.comments[0]?.authorUuid).toBe(sb.userUuid('second-user'));
    expect(sb.userUuid('second-user')).not.toBe(sb.userUuid());
  });
});

describe('console actions', () => {
  it('close, comment and reopen like the API, by the console user, counting no API call', async () => {
    const sb = await harness.start();
    sb.addIncident(INCIDENT);

    sb.consoleClose(INCIDENT, { reason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE', comment: 'benign' });
    const closed = structuredClone(sb.state().incidents[INCIDENT]);
    sb.consoleComment(INCIDENT, 'note', 'lead@example.com');
    sb.consoleReopen(INCIDENT, { comment: 'not benign after all' });
    const state = sb.state();

    expect(closed).toMatchObject({
      status: 'INCIDENT_STATUS_CLOSED',
      resolveReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      finalComment: 'benign',
    });
    expect(state.incidents[INCIDENT]).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      closesApplied: 0,
      reopensApplied: 0,
      commentsCreated: 0,
    });
    expect(state.incidents[INCIDENT]?.comments.map((c) => [c.text, c.authorUuid, c.isFinalComment])).toEqual([
      ['benign', sb.userUuid(CONSOLE_USER), false],
      ['note', sb.userUuid('lead@example.com'), false],
      ['not benign after all', sb.userUuid(CONSOLE_USER), false],
    ]);
    expect(state.calls).toEqual([]);
  });

  it('meets no faults or rate limits and leaves scripted steps for the API', async () => {
    const { sb, client } = await started({
      rateLimitPerSecond: 1,
      faults: { seed: 1, mix: { ok: 0, s503: 1 } },
    });
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'status', status: 502 }]);

    for (let i = 0; i < 5; i += 1) sb.consoleComment(INCIDENT, `note ${i}`);
    sb.consoleClose(INCIDENT);
    sb.consoleReopen(INCIDENT);
    const api = await client.comment(INCIDENT, 'from the bridge');

    expect(sb.state().incidents[INCIDENT]?.comments).toHaveLength(5);
    expect(api.status).toBe(502);
  });

  it('refuses what ESET would refuse: unknown incident, closing a closed one, reopening an open one', async () => {
    const sb = await harness.start();
    sb.addIncident(INCIDENT);

    expect(() => sb.consoleReopen(INCIDENT)).toThrow(/not closed/);
    expect(() => sb.consoleComment(OTHER, 'x')).toThrow(/unknown incident/);
    expect(() => sb.consoleComment(INCIDENT, '')).toThrow(/text/);
    sb.consoleClose(INCIDENT);
    expect(() => sb.consoleClose(INCIDENT)).toThrow(/already closed/);
  });

  it('are reachable through the admin endpoints', async () => {
    const sb = await harness.start();
    sb.addIncident(INCIDENT);

    const close = await admin(sb, 'console/close', {
      uuid: INCIDENT,
      reason: 'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
      comment: 'closing',
      by: 'lead@example.com',
    });
    const closeAgain = await admin(sb, 'console/close', { uuid: INCIDENT });
    const comment = await admin(sb, 'console/comment', { uuid: INCIDENT, text: 'note' });
    const reopen = await admin(sb, 'console/reopen', { uuid: INCIDENT, comment: 'again' });
    const badReason = await admin(sb, 'console/close', { uuid: INCIDENT, reason: 'RESOLVED' });
    const noText = await admin(sb, 'console/comment', { uuid: INCIDENT });

    expect([close.status, comment.status, reopen.status]).toEqual([200, 200, 200]);
    expect([closeAgain.status, badReason.status, noText.status]).toEqual([400, 400, 400]);
    expect(sb.state().incidents[INCIDENT]?.comments.map((c) => [c.text, c.authorUuid])).toEqual([
      ['closing', sb.userUuid('lead@example.com')],
      ['note', sb.userUuid(CONSOLE_USER)],
      ['again', sb.userUuid(CONSOLE_USER)],
    ]);
  });
});

describe('call kinds', () => {
  it('names every call in state().calls', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);

    await client.list();
    await client.get(INCIDENT);
    await client.comment(INCIDENT, 'x');
    await client.comments(INCIDENT);
    await client.close(INCIDENT);
    await client.reopen(INCIDENT);
    await client.send('GET', `/v2/incidents/${INCIDENT}:close`);
    await client.send('GET', '/v2/unknown');

    expect(sb.state().calls.map((c) => c.call)).toEqual([
      'list',
      'read',
      'comment',
      'comments',
      'close',
      'reopen',
      'other',
      'other',
    ]);
  });
});
