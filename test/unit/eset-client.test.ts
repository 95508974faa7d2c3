import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../functions/config/config';
import type { EsetAnswer } from '../../functions/eset/answer';
import { type EsetCallObserver, EsetClient, EsetRequests } from '../../functions/eset/client';
import { TokenError, TokenProvider } from '../../functions/eset/token-provider';
import { RateLimiter } from '../../functions/pacing/rate-limiter';
import { fakeClock } from '../helpers/clock';
import { empty, hang, json, networkError, scriptedFetch } from '../helpers/fetch';
import { INCIDENT, T0 } from '../helpers/incidents';

const API = 'https://de.incident-management.eset.systems';
const AUTH = 'https://de.business-account.iam.eset.systems';
const PASSWORD = 'Pa55-eset-api-user-s3cret';
const READ = EsetRequests.read(INCIDENT);
const CLOSE = EsetRequests.close(INCIDENT, 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE', 'Resolved in INC-1042');

/** A real client, token provider and rate limiter, over a scripted fetch and a clock moved by hand. */
function clientRig(opts: { credentials?: () => Promise<Credentials> } = {}) {
  const clock = fakeClock(T0);
  const http = scriptedFetch(clock);
  const tokens = new TokenProvider({
    authUrl: AUTH,
    credentials: opts.credentials ?? (async () => ({ username: 'api-user@example.com', password: PASSWORD })),
    clock,
    fetch: http.fetch,
    timeoutMs: 8_000,
    integrationName: 'eset-close-bridge',
  });
  const pacer = new RateLimiter(10, clock);
  const observed: Parameters<EsetCallObserver>[0][] = [];
  const client = new EsetClient({
    apiUrl: API,
    tokens,
    pacer,
    clock,
    integrationName: 'eset-close-bridge',
    fetch: http.fetch,
    observe: (call) => observed.push(call),
  });
  /** Options for a call with a minute of budget and a 55 s timeout. */
  const options = (over: { timeoutMs?: number; responseId?: string } = {}) => ({
    deadline: clock.now() + 60_000,
    timeoutMs: 55_000,
    ...over,
  });
  return { clock, http, tokens, pacer, client, observed, options };
}

function response(answer: EsetAnswer): Extract<EsetAnswer, { kind: 'response' }> {
  if (answer.kind !== 'response')
    throw new Error(`expected a response, got ${answer.kind}: ${answer.reason}`);
  return answer;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EsetClient.send', () => {
  it('sends the request with the token, the integration name, JSON and redirect: manual', async () => {
    // Prepare
    const rig = clientRig();
    rig.http.api(json(200, { incident: { status: 'INCIDENT_STATUS_CLOSED' } }, { 'request-id': 'req-1' }));

    // Act
    const answer = await rig.client.send(CLOSE, rig.options());

    // Assess
    const [call] = rig.http.apiCalls();
    expect(call?.url).toBe(`${API}/v2/incidents/${INCIDENT}:close`);
    expect(call?.method).toBe('POST');
    expect(call?.body).toBe(CLOSE.body);
    expect(call?.redirect).toBe('manual');
    expect(Object.fromEntries(call?.headers ?? [])).toEqual({
      authorization: 'Bearer tok-1',
      accept: 'application/json',
      'content-type': 'application/json',
      '3rd-integration': 'eset-close-bridge',
    });
    expect(answer).toEqual({
      kind: 'response',
      status: 200,
      requestId: 'req-1',
      json: { incident: { status: 'INCIDENT_STATUS_CLOSED' } },
      latencyMs: 0,
    });
  });

  it('answers a 401 by refreshing the token once and repeating the call once', async () => {
    // Prepare
    const rig = clientRig();
    rig.http.api(empty(401), json(200, {}));

    // Act
    const answer = await rig.client.send(READ, rig.options());

    // Assess
    expect(response(answer).status).toBe(200);
    expect(rig.http.apiCalls().map((c) => c.headers.get('authorization'))).toEqual([
      'Bearer tok-1',
      'Bearer tok-2',
    ]);
    expect(rig.http.tokenCalls().map((t) => t.grant_type)).toEqual(['password', 'refresh_token']);
    expect(rig.observed).toHaveLength(1);
  });

  it('gives up after a second 401: no third try', async () => {
    const rig = clientRig();
    rig.http.api(empty(401), empty(401));

    const answer = await rig.client.send(READ, rig.options());

    expect(response(answer).status).toBe(401);
    expect(rig.http.apiCalls()).toHaveLength(2);
  });

  it('sends a re-send’s response-id as a header', async () => {
    const rig = clientRig();
    rig.http.api(json(200, {}));

    await rig.client.send(CLOSE, rig.options({ responseId: 'resp-7' }));

    expect(rig.http.apiCalls()[0]?.headers.get('response-id')).toBe('resp-7');
  });

  it('takes no answer within the timeout as lost', async () => {
    // Prepare
    vi.useFakeTimers();
    const rig = clientRig();
    rig.http.api(hang);
    let settled = false;

    // Act
    const pending = rig.client.send(CLOSE, rig.options({ timeoutMs: 5_000 })).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(4_999);
    const before = settled;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(before).toBe(false);
    expect(await pending).toEqual({ kind: 'lost', reason: 'no answer within 5000 ms', latencyMs: 0 });
  });

  it('waits no longer than the deadline when it comes before the timeout', async () => {
    vi.useFakeTimers();
    const rig = clientRig();
    rig.http.api(hang);

    const pending = rig.client.send(CLOSE, { deadline: rig.clock.now() + 2_000, timeoutMs: 55_000 });
    await vi.advanceTimersByTimeAsync(2_000);

    expect(await pending).toMatchObject({ kind: 'lost', reason: 'no answer within 2000 ms' });
  });

  it('does not send at all when the deadline is already spent', async () => {
    const rig = clientRig();

    const answer = await rig.client.send(CLOSE, { deadline: rig.clock.now(), timeoutMs: 55_000 });

    expect(answer).toEqual({ kind: 'not-sent', reason: 'time budget spent', latencyMs: 0 });
    expect(rig.http.calls).toEqual([]);
  });

  it('does not send when the rate budget has no slot before the deadline', async () => {
    const rig = clientRig();
    await rig.tokens.get();
    rig.pacer.pause(30_000);

    const answer = await rig.client.send(CLOSE, { deadline: rig.clock.now() + 10_000, timeoutMs: 55_000 });

    expect(answer).toMatchObject({ kind: 'not-sent', reason: 'rate budget: no slot within the time budget' });
    expect(rig.http.apiCalls()).toEqual([]);
  });

  it.each([
    ['ECONNREFUSED', 'not-sent', 'connection failed (ECONNREFUSED)'],
    ['ENOTFOUND', 'not-sent', 'connection failed (ENOTFOUND)'],
    ['ECONNRESET', 'lost', 'connection broken (ECONNRESET)'],
    ['UND_ERR_SOCKET', 'lost', 'connection broken (UND_ERR_SOCKET)'],
  ])('takes a connection error %s as %s', async (code, kind, reason) => {
    const rig = clientRig();
    rig.http.api(networkError(code));

    const answer = await rig.client.send(CLOSE, rig.options());

    expect(answer).toEqual({ kind, reason, latencyMs: 0 });
  });

  it('keeps a redirect’s location, clipped, and never follows it', async () => {
    const rig = clientRig();
    const location = `https://login.example.com/sso?next=${'a'.repeat(300)}`;
    rig.http.api(empty(302, { location }));

    const answer = response(await rig.client.send(CLOSE, rig.options()));

    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${location.slice(0, 200)}…`);
    expect(rig.http.apiCalls()).toHaveLength(1);
  });

  it('clips a request-id of 300 characters to 256', async () => {
    const rig = clientRig();
    rig.http.api(json(200, {}, { 'request-id': 'r'.repeat(300) }));

    const answer = response(await rig.client.send(READ, rig.options()));

    expect(answer.requestId).toBe('r'.repeat(256));
  });

  it('drops a response-id over 1024 characters and flags it unusable; keeps one of 1024', async () => {
    const rig = clientRig();
    rig.http.api(
      empty(202, { 'response-id': 'x'.repeat(1025) }),
      empty(202, { 'response-id': 'y'.repeat(1024) }),
    );

    const tooLong = response(await rig.client.send(CLOSE, rig.options()));
    const longest = response(await rig.client.send(CLOSE, rig.options()));

    expect(tooLong.responseId).toBeUndefined();
    expect(tooLong.responseIdUnusable).toBe(true);
    expect(longest.responseId).toBe('y'.repeat(1024));
    expect(longest.responseIdUnusable).toBeUndefined();
  });

  it('pauses every call after a 429: Retry-After when given, else 1 s doubling while 429s follow each other', async () => {
    // Prepare
    const rig = clientRig();
    rig.http.api(
      empty(429),
      empty(429),
      empty(429),
      json(200, {}),
      empty(429),
      empty(429, { 'retry-after': '7' }),
      json(200, {}),
    );

    // Act
    for (let i = 0; i < 7; i++)
      await rig.client.send(READ, { deadline: rig.clock.now() + 120_000, timeoutMs: 55_000 });

    // Assess: a 200 resets the doubling; between calls without a pause, the limiter's 105 ms.
    const at = rig.http.apiCalls().map((c) => c.at);
    expect(at.slice(1).map((t, i) => t - (at[i] ?? 0))).toEqual([1_000, 2_000, 4_000, 105, 1_000, 7_000]);
  });

  it('pauses at most 60 s for a long Retry-After', async () => {
    const rig = clientRig();
    rig.http.api(empty(429, { 'retry-after': '3600' }), json(200, {}));

    await rig.client.send(READ, rig.options());
    await rig.client.send(READ, { deadline: rig.clock.now() + 120_000, timeoutMs: 55_000 });

    const [first, second] = rig.http.apiCalls();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBe(60_000);
  });

  it('tells the observer of every call, sent or not', async () => {
    // Prepare
    const rig = clientRig();
    rig.http.api(json(200, {}), empty(202, { 'response-id': 'resp-2' }));

    // Act
    const read = await rig.client.send(READ, rig.options());
    const resend = await rig.client.send(CLOSE, rig.options({ responseId: 'resp-1' }));
    const list = await rig.client.send(EsetRequests.list({ pageSize: 10 }), {
      deadline: rig.clock.now(),
      timeoutMs: 1,
    });

    // Assess
    expect(rig.observed).toEqual([
      { call: 'read', resend: false, incidentUuid: INCIDENT, answer: read },
      { call: 'close', resend: true, incidentUuid: INCIDENT, answer: resend },
      { call: 'list', resend: false, answer: list },
    ]);
    expect(list.kind).toBe('not-sent');
  });

  it('reports a token endpoint failure as not sent, flagged as an auth failure only when the grant was refused', async () => {
    // Prepare
    const rig = clientRig();
    rig.http.tokens(json(400, { error: 'invalid_grant' }), empty(503));

    // Act
    const refused = await rig.client.send(READ, rig.options());
    const down = await rig.client.send(READ, rig.options());

    // Assess
    expect(refused).toEqual({
      kind: 'not-sent',
      reason: 'token endpoint answered 400 (password grant)',
      authFailure: true,
      latencyMs: 0,
    });
    expect(down).toEqual({
      kind: 'not-sent',
      reason: 'token endpoint answered 503 (password grant)',
      latencyMs: 0,
    });
    expect(rig.http.apiCalls()).toEqual([]);
  });

  it('passes on a credentials TokenError’s safe message, and hides any other error’s', async () => {
    // Prepare
    const malformed = new TokenError('the ESET credentials secret is not JSON {"username","password"}', true);
    const failing = [malformed, new Error(`Unexpected token in {"password":"${PASSWORD}"`)];
    const rig = clientRig({
      credentials: async () => {
        throw failing.shift();
      },
    });

    // Act
    const first = await rig.client.send(READ, rig.options());
    const second = await rig.client.send(READ, rig.options());

    // Assess
    expect(first).toEqual({ kind: 'not-sent', reason: malformed.message, authFailure: true, latencyMs: 0 });
    expect(second).toEqual({ kind: 'not-sent', reason: 'token unavailable', latencyMs: 0 });
  });

  it('never puts the token or the Authorization value into an answer’s reason', async () => {
    // Prepare: an ESET that quotes the request's Authorization header in its error bodies, once
    // where clipping the reason to 300 characters would cut the token in two.
    const rig = clientRig();
    const auth = (c: { headers: Headers }) => c.headers.get('authorization') ?? '';
    rig.http.api(
      (c) => json(400, { message: `malformed header: ${auth(c)}` }),
      (c) => json(403, { error: { message: `credential ${auth(c).slice('Bearer '.length)} may not close` } }),
      (c) =>
        new Response(`Forbidden for ${auth(c)}`, { status: 403, headers: { 'content-type': 'text/plain' } }),
      (c) => json(500, { message: `${'x'.repeat(289)} ${auth(c)}` }),
      (c) => json(401, { message: `expired: ${auth(c)}` }),
      (c) => json(401, { message: `expired: ${auth(c)}` }),
    );

    // Act
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++)
      reasons.push(response(await rig.client.send(CLOSE, rig.options())).reason ?? '');

    // Assess: the bodies did quote both tokens; no reason keeps any part of one.
    expect(new Set(rig.http.apiCalls().map(auth))).toEqual(new Set(['Bearer tok-1', 'Bearer tok-2']));
    expect(reasons[0]).toBe('malformed header: Bearer [redacted]');
    for (const reason of reasons) {
      expect(reason).toMatch(/^(malformed|credential|Forbidden|x{289}|expired)/);
      expect(reason).not.toMatch(/tok/);
    }
  });
});
