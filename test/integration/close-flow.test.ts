import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionUrlEvent, signedCloseEvent } from '../../infra/local/events';
import { closeCalls, type Harness, startHarness } from '../helpers/harness';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const body = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;

describe('close flow: one test per row of the outcome table', () => {
  beforeEach(async () => {
    h = await startHarness();
  });

  it('closes the incident and answers 200 when ESET answers 200', async () => {
    const id = h.newIncident();
    const answer = await h.receive(
      signedCloseEvent(id, { closureReason: 'false-positive', comment: 'Benign admin tool.' }),
    );
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({ status: 'closed', incidentUuid: id });
    const incident = h.sandbox.state().incidents[id];
    expect(incident).toMatchObject({
      status: 'INCIDENT_STATUS_CLOSED',
      resolveReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
      finalComment: 'Benign admin tool.',
      closesApplied: 1,
    });
    expect(await h.drain()).toBe(0);
  });

  it('queues a 202 and re-sends the identical request with response-id until the answer is ready', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'pending', resendsUntilReady: 1 }]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(202);
    expect(body(answer)).toMatchObject({ status: 'queued', reason: 'pending' });
    await h.drain();
    const resends = h.sandbox.state().calls.filter((c) => c.responseIdResend);
    expect(resends.map((c) => c.status)).toEqual([202, 200]);
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it('keeps re-sending while the 202 is still pending on the second re-send', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'pending', resendsUntilReady: 3 }]);
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    const resends = h.sandbox
      .state()
      .calls.filter((c) => c.responseIdResend)
      .map((c) => c.status);
    expect(resends).toEqual([202, 202, 202, 200]);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('reads the incident after a lost cache (404 on re-send), sees CLOSED and stops: one close in total', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'lostCache' }]);
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    const calls = h.sandbox.state().calls.filter((c) => c.path.includes(id));
    expect(calls.map((c) => `${c.method} ${c.responseIdResend ? 'resend' : ''}${c.status}`)).toEqual([
      'POST 202',
      'POST resend404',
      'GET 200',
    ]);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it.each([
    [429, 'retry'],
    [503, 'unknown'],
  ] as const)('queues a %i (%s) and closes it on retry, honouring Retry-After', async (status, reason) => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status, retryAfter: '1' }]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(202);
    // A 429 applied nothing; a 5xx may have been applied, so the retry reads before closing.
    expect(body(answer)).toMatchObject({ status: 'queued', reason, esetStatus: String(status) });
    const queuedAt = Date.now();
    await h.drain();
    const closes = closeCalls(h.sandbox, id);
    expect(closes.map((c) => c.status)).toEqual([status, 200]);
    // Retry-After: 1 became a 1 s SQS delay; the second call cannot come earlier.
    expect((closes[1]?.at ?? 0) - (closes[0]?.at ?? 0)).toBeGreaterThanOrEqual(900);
    expect(queuedAt).toBeLessThanOrEqual(closes[1]?.at ?? 0);
  });

  it.each([500, 502, 504])('queues a %i and closes it on retry', async (status) => {
    const id = h.newIncident();
    h.sandbox.script(id, [
      { kind: 'status', status: status as 500 | 502 | 504 },
      { kind: 'status', status: status as 500 },
    ]);
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    expect(closeCalls(h.sandbox, id).map((c) => c.status)).toEqual([status, status, 200]);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('queues a comment with characters SQS refuses raw (U+FFFF) and closes with the same text', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 503 }]);
    const comment = 'Reimaged \uFFFF done';
    expect((await h.receive(signedCloseEvent(id, { comment }))).statusCode).toBe(202);
    await h.drain();
    expect(h.sandbox.state().incidents[id]).toMatchObject({ closesApplied: 1, finalComment: comment });
  });

  it('answers 200 already-closed, with the reason that stands, when ESET answers 400 to a closed incident', async () => {
    const id = h.newIncident('INCIDENT_STATUS_CLOSED');
    const answer = await h.receive(signedCloseEvent(id, { closureReason: 'unspecified' }));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toEqual({
      status: 'already-closed',
      incidentUuid: id,
      closureReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
    });
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(0);
  });

  it('says so, and counts a ReasonConflict, when a close asks for another reason than the one that stands', async () => {
    const id = h.newIncident('INCIDENT_STATUS_CLOSED');
    const answer = await h.receive(signedCloseEvent(id, { closureReason: 'true-positive' }));
    expect(answer.statusCode).toBe(200);
    expect(body(answer)).toMatchObject({
      status: 'already-closed',
      closureReason: 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
      requestedReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
    });
    expect(h.outcomes.filter((o) => o.outcome === 'reason-conflict')).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(0);
  });

  it('answers 422 with ESET reason when ESET answers 400 to an open incident, and queues nothing', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [
      {
        kind: 'status',
        status: 400,
        body: '{"code":3,"message":"finalComment.text too long"}',
        contentType: 'application/json',
      },
    ]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(422);
    expect(body(answer)).toMatchObject({
      status: 'rejected',
      esetStatus: 400,
      reason: 'ESET answered 400: finalComment.text too long',
    });
    expect(await h.drain()).toBe(0);
  });

  it('answers 422 with ESET reason to a 403', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [
      { kind: 'status', status: 403, body: 'Access denied. Check permissions.', contentType: 'text/plain' },
    ]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(422);
    expect(body(answer)).toMatchObject({
      esetStatus: 403,
      reason: 'ESET answered 403: Access denied. Check permissions.',
    });
  });

  it('answers 404 for an incident ESET does not know', async () => {
    const answer = await h.receive(signedCloseEvent('0f0e0d0c-0b0a-4909-8807-060504030201'));
    expect(answer.statusCode).toBe(404);
    expect(body(answer)).toMatchObject({ status: 'rejected', esetStatus: 404 });
    expect(await h.drain()).toBe(0);
  });

  it('refreshes the token once on a 401 and repeats the call', async () => {
    const first = h.newIncident();
    expect((await h.receive(signedCloseEvent(first))).statusCode).toBe(200);
    h.sandbox.expireAccessTokens();
    const second = h.newIncident();
    expect((await h.receive(signedCloseEvent(second))).statusCode).toBe(200);
    const state = h.sandbox.state();
    expect(state.tokenRequests).toEqual({ password: 1, refresh: 1 });
    expect(state.callsByStatus['401']).toBe(1);
    expect(state.incidents[second]?.closesApplied).toBe(1);
  });

  it('dead-letters with ESET reason when the retry Lambda meets a 403', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 403, body: '{"message":"no permission"}', contentType: 'application/json' },
    ]);
    expect((await h.receive(signedCloseEvent(id, { ticketId: 'SEC-1' }))).statusCode).toBe(202);
    await h.drain();
    const dead = await h.deadLetters();
    expect(dead).toHaveLength(1);
    const attrs = dead[0]?.MessageAttributes ?? {};
    expect(attrs.reason?.StringValue).toBe('ESET answered 403: no permission');
    expect(attrs.lastStatus?.StringValue).toBe('403');
    expect(attrs.attempts?.StringValue).toBe('2');
    expect(attrs.incidentUuid?.StringValue).toBe(id);
    expect(attrs.esetRequestId?.StringValue).toMatch(/.+/);
    expect(attrs.firstSeen?.StringValue).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.parse(dead[0]?.Body ?? '{}')).toMatchObject({
      v: 2,
      incidentUuid: id,
      want: { status: 'closed', ticketId: 'SEC-1' },
      deadLettered: { action: 'close', status: 403, reason: 'ESET answered 403: no permission' },
    });
  });
});

describe('close flow: a close that gets no answer in time', () => {
  // The receive path gives up after 1.5 s; ESET holds the close 3 s.
  beforeEach(async () => {
    h = await startHarness({ env: { ESET_TIMEOUT_MS: '1500' } });
  });

  it('after a timeout where ESET never applied the close, reads the incident and closes it once', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'hang', ms: 3000, applied: false }]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(202);
    expect(body(answer)).toMatchObject({ reason: 'unknown' });
    await h.drain();
    const calls = h.sandbox.state().calls.filter((c) => c.path.includes(id) && c.status !== 499);
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual(['GET 200', 'POST 200']);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('after a timeout where ESET did apply the close, reads CLOSED and does not close again', async () => {
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'hang', ms: 3000, applied: true }]);
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    expect(closeCalls(h.sandbox, id)).toHaveLength(1);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });
});

describe('close flow: tokens, budget and poison', () => {
  it('makes exactly one token request for 40 concurrent requests', async () => {
    h = await startHarness({
      sandbox: { rateLimitPerSecond: 0 },
      env: { ESET_MAX_RPS: '10', ESET_TIMEOUT_MS: '20000' },
    });
    const ids = Array.from({ length: 40 }, () => h.newIncident());
    const answers = await Promise.all(ids.map((id) => h.receive(signedCloseEvent(id))));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(h.sandbox.state().tokenRequests).toEqual({ password: 1, refresh: 0 });
    // The spacing of the calls is the shared budget's (test/integration/shared-budget.test.ts);
    // arrival times here also carry this machine's scheduling jitter, so they are not asserted.
  });

  it('refreshes an expired token mid-run and falls back to the password grant when the refresh is refused', async () => {
    // Time as the bridge and ESET both see it, moved on by the test instead of slept through: a
    // slow first close cannot outlive its token.
    let skipped = 0;
    const now = () => Date.now() + skipped;
    h = await startHarness({
      sandbox: { tokenTtlSeconds: 60, refreshTtlSeconds: 120, clock: now },
      overrides: { clock: { now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } },
    });
    expect((await h.receive(signedCloseEvent(h.newIncident()))).statusCode).toBe(200);
    skipped += 150_000; // token and refresh token both expire
    expect((await h.receive(signedCloseEvent(h.newIncident()))).statusCode).toBe(200);
    const { tokenRequests } = h.sandbox.state();
    expect(tokenRequests.password).toBe(2);
    expect(tokenRequests.refresh).toBe(1);
  });

  it('dead-letters with the reason when the retry budget is exhausted', async () => {
    // A minute's budget; the bridge's time moves on two minutes during the retry's first close, so
    // the budget runs out after exactly that retry, however fast or slow this machine is.
    let skipped = 0;
    const now = () => Date.now() + skipped;
    let closes = 0;
    const skipping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith(':close') && ++closes === 2) skipped += 120_000;
      return res;
    };
    h = await startHarness({
      env: { RETRY_MAX_AGE_SECONDS: '60' },
      overrides: { fetch: skipping, clock: { now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } },
    });
    const id = h.newIncident();
    h.sandbox.script(
      id,
      Array.from({ length: 200 }, () => ({ kind: 'status' as const, status: 503 as const })),
    );
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    const dead = await h.deadLetters();
    expect(dead).toHaveLength(1);
    const attrs = dead[0]?.MessageAttributes ?? {};
    expect(attrs.reason?.StringValue).toMatch(/^retry budget exhausted after \d+ s: ESET answered 503$/);
    expect(attrs.lastStatus?.StringValue).toBe('503');
    expect(attrs.attempts?.StringValue).toBe('2');
    expect(h.sandbox.state().incidents[id]?.status).toBe('INCIDENT_STATUS_OPEN');
  });

  it('gives a redriven dead-letter a new budget and reads the incident before closing it', async () => {
    h = await startHarness();
    const id = h.newIncident();
    h.sandbox.script(id, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 403 },
    ]);
    expect((await h.receive(signedCloseEvent(id))).statusCode).toBe(202);
    await h.drain();
    const [parked] = await h.deadLetters();
    expect(JSON.parse(parked?.Body ?? '{}')).toMatchObject({ deadLettered: { reason: 'ESET answered 403' } });
    // The operator fixes the API user's permissions and redrives (start-message-move-task moves the body as is).
    await h.sendRaw(parked?.Body ?? '');
    await h.drain();
    const calls = h.sandbox.state().calls.filter((c) => c.path.includes(id));
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      'POST 503',
      'GET 200',
      'POST 403',
      'GET 200',
      'POST 200',
    ]);
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
    expect(await h.deadLetters()).toHaveLength(0);
  });

  it('dead-letters a poison message untouched, with the reason, without calling ESET', async () => {
    h = await startHarness();
    const poison = '{"v":1,"request":{"incidentUuid":"../../etc/passwd"},"phase":"close"}';
    await h.sendRaw(poison);
    await h.sendRaw('not json at all');
    await h.drain();
    const dead = await h.deadLetters();
    expect(dead.map((m) => m.Body).sort()).toEqual([poison, 'not json at all'].sort());
    for (const m of dead)
      expect(m.MessageAttributes?.reason?.StringValue).toMatch(/^invalid retry message: /);
    expect(h.sandbox.state().calls).toHaveLength(0);
    expect(h.sandbox.state().tokenRequests).toEqual({ password: 0, refresh: 0 });
  });

  it('keeps trying while the ESET credentials are refused, and says so', async () => {
    h = await startHarness({ env: { ESET_PASSWORD: 'wrong-password' } });
    const id = h.newIncident();
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(202);
    expect(h.sandbox.state().calls).toHaveLength(0);
    const message = await h.queues.sqs.send(
      new (await import('@aws-sdk/client-sqs')).ReceiveMessageCommand({
        QueueUrl: h.queues.retryQueueUrl,
        WaitTimeSeconds: 1,
      }),
    );
    expect(JSON.parse(message.Messages?.[0]?.Body ?? '{}')).toMatchObject({ v: 2, incidentUuid: id });
    expect((await h.incidentRecord(id))?.progress).toMatchObject({
      lastStatus: 'not-sent',
      lastReason: 'token endpoint answered 400 (password grant)',
    });
  });

  it('retries a network error that never reached ESET', async () => {
    let failures = 1;
    const flaky: typeof fetch = async (input, init) => {
      if (String(input).includes(':close') && failures-- > 0) {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        });
      }
      return fetch(input, init);
    };
    h = await startHarness({ overrides: { fetch: flaky } });
    const id = h.newIncident();
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(202);
    expect(body(answer)).toMatchObject({ reason: 'retry' });
    await h.drain();
    expect(h.sandbox.state().incidents[id]?.closesApplied).toBe(1);
  });

  it('answers 503, never 202, when the retry queue cannot store the request', async () => {
    h = await startHarness({ env: { RETRY_QUEUE_URL: 'http://127.0.0.1:9/123456789012/missing-queue' } });
    const id = h.newIncident();
    h.sandbox.script(id, [{ kind: 'status', status: 503 }]);
    const answer = await h.receive(signedCloseEvent(id));
    expect(answer.statusCode).toBe(503);
    expect(body(answer)).toMatchObject({ status: 'error' });
  });

  it('answers 405 to a GET', async () => {
    h = await startHarness();
    const answer = await h.receive(functionUrlEvent({ method: 'GET' }));
    expect(answer.statusCode).toBe(405);
  });
});
