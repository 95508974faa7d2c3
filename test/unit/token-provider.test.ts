import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Credentials } from '../../functions/config/config';
import { TokenError, TokenProvider } from '../../functions/eset/token-provider';
import { fakeClock } from '../helpers/clock';
import { empty, grant, json, networkError, scriptedFetch } from '../helpers/fetch';
import { T0 } from '../helpers/incidents';

const AUTH = 'https://de.business-account.iam.eset.systems';
const USER = 'api-user@example.com';
const PASSWORD = 'Pa55-eset-api-user-s3cret';

function tokenRig(opts: { credentials?: () => Promise<Credentials> } = {}) {
  const clock = fakeClock(T0);
  const http = scriptedFetch(clock);
  const tokens = new TokenProvider({
    authUrl: AUTH,
    credentials: opts.credentials ?? (async () => ({ username: USER, password: PASSWORD })),
    clock,
    fetch: http.fetch,
    timeoutMs: 8_000,
    integrationName: 'eset-close-bridge',
  });
  return { clock, http, tokens };
}

/** A promise settled by hand: the token endpoint answers when the test says so. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<TokenError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TokenError) return err;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenProvider', () => {
  it('asks for a password grant with the credentials and the integration name', async () => {
    const rig = tokenRig();

    const token = await rig.tokens.get();

    expect(token).toBe('tok-1');
    const [call] = rig.http.calls;
    expect(call?.url).toBe(`${AUTH}/oauth/token`);
    expect(call?.method).toBe('POST');
    expect(call?.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(call?.headers.get('3rd-integration')).toBe('eset-close-bridge');
    expect(rig.http.tokenCalls()).toEqual([{ grant_type: 'password', username: USER, password: PASSWORD }]);
  });

  it('makes one token request however many callers wait for it (single flight)', async () => {
    // Prepare
    const rig = tokenRig();
    const answer = deferred<Response>();
    rig.http.tokens(() => answer.promise);

    // Act
    const waiting = Array.from({ length: 20 }, () => rig.tokens.get());
    answer.resolve(grant('tok-shared'));
    const tokens = await Promise.all(waiting);

    // Assess
    expect(new Set(tokens)).toEqual(new Set(['tok-shared']));
    expect(rig.http.calls).toHaveLength(1);
    expect(rig.tokens.requests).toEqual({ password: 1, refresh: 0 });
  });

  it('hands a cached token out until its last minute, then asks again', async () => {
    // Prepare: an hour's token.
    const rig = tokenRig();
    await rig.tokens.get();

    // Act
    rig.clock.set(T0 + 3_540_000 - 1);
    const late = await rig.tokens.get();
    rig.clock.set(T0 + 3_540_000);
    const renewed = await rig.tokens.get();

    // Assess
    expect(late).toBe('tok-1');
    expect(renewed).toBe('tok-2');
    expect(rig.http.tokenCalls().map((t) => t.grant_type)).toEqual(['password', 'refresh_token']);
  });

  it('keeps a tenth of a short lifetime as its margin', async () => {
    // Prepare: a five-minute token: its margin is 30 s, not a minute.
    const rig = tokenRig();
    rig.http.tokens(grant('tok-short', { expiresIn: 300 }));
    await rig.tokens.get();

    // Act
    rig.clock.set(T0 + 270_000 - 1);
    const late = await rig.tokens.get();
    rig.clock.set(T0 + 270_000);
    const renewed = await rig.tokens.get();

    // Assess
    expect(late).toBe('tok-short');
    expect(renewed).toBe('tok-1');
  });

  it('uses the refresh grant first, and the password grant when the refresh token is refused', async () => {
    // Prepare
    const rig = tokenRig();
    rig.http.tokens(
      grant('tok-a', { refresh: 'refresh-a' }),
      json(400, { error: 'invalid_grant', error_description: 'refresh token expired' }),
      grant('tok-b', { refresh: 'refresh-b' }),
    );
    await rig.tokens.get();

    // Act
    rig.clock.advance(3_600_000);
    const token = await rig.tokens.get();

    // Assess
    expect(token).toBe('tok-b');
    expect(rig.http.tokenCalls()).toEqual([
      { grant_type: 'password', username: USER, password: PASSWORD },
      { grant_type: 'refresh_token', refresh_token: 'refresh-a' },
      { grant_type: 'password', username: USER, password: PASSWORD },
    ]);
    expect(rig.tokens.requests).toEqual({ password: 2, refresh: 1 });
  });

  it('takes a 400 or 401 from the token endpoint as refused credentials', async () => {
    const rig = tokenRig();
    rig.http.tokens(json(400, { error: 'invalid_grant' }), empty(401));

    const first = await failure(rig.tokens.get());
    const second = await failure(rig.tokens.get());

    expect([first.message, first.rejected]).toEqual(['token endpoint answered 400 (password grant)', true]);
    expect([second.message, second.rejected]).toEqual(['token endpoint answered 401 (password grant)', true]);
  });

  it('does not take a 5xx or an unreachable endpoint as refused, nor fall back to the password grant', async () => {
    // Prepare
    const rig = tokenRig();
    await rig.tokens.get();
    rig.clock.advance(3_600_000);
    rig.http.tokens(empty(503), networkError('ECONNREFUSED'));

    // Act
    const down = await failure(rig.tokens.get());
    const unreachable = await failure(rig.tokens.get());

    // Assess
    expect([down.message, down.rejected]).toEqual(['token endpoint answered 503 (refresh grant)', false]);
    expect([unreachable.message, unreachable.rejected]).toEqual([
      'token endpoint unreachable (refresh grant)',
      false,
    ]);
    expect(rig.http.tokenCalls().map((t) => t.grant_type)).toEqual([
      'password',
      'refresh_token',
      'refresh_token',
    ]);
  });

  it('lets a caller give up at its deadline without cancelling the request for the others', async () => {
    // Prepare
    vi.useFakeTimers();
    const rig = tokenRig();
    const answer = deferred<Response>();
    rig.http.tokens(() => answer.promise);

    // Act
    const hurried = failure(rig.tokens.get(T0 + 1_000));
    const patient = rig.tokens.get(T0 + 30_000);
    await vi.advanceTimersByTimeAsync(1_000);
    const abandoned = await hurried;
    answer.resolve(grant('tok-late'));

    // Assess
    expect([abandoned.message, abandoned.rejected]).toEqual([
      'token request abandoned: time budget spent',
      false,
    ]);
    expect(await patient).toBe('tok-late');
    expect(await rig.tokens.get()).toBe('tok-late');
    expect(rig.http.calls).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0); // the patient caller's timer went with its answer
  });

  it('drops only the token it is told ESET refused', async () => {
    // Prepare
    const rig = tokenRig();
    const first = await rig.tokens.get();

    // Act
    rig.tokens.invalidate('some-other-token');
    const kept = await rig.tokens.get();
    rig.tokens.invalidate(first);
    const renewed = await rig.tokens.get();
    rig.tokens.invalidate(first); // a late 401 for the old token
    const still = await rig.tokens.get();

    // Assess
    expect([kept, renewed, still]).toEqual(['tok-1', 'tok-2', 'tok-2']);
    expect(rig.http.calls).toHaveLength(2);
  });

  it.each([
    ['not JSON', 'access_token=tok-in-body&expires_in=3600'],
    ['JSON without an access token', JSON.stringify({ token: 'tok-in-body', expires_in: 3600 })],
    ['an empty access token', JSON.stringify({ access_token: '', refresh_token: 'tok-in-body' })],
  ])('takes a 200 with %s as an error that does not quote the body', async (_name, body) => {
    const rig = tokenRig();
    rig.http.tokens(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));

    const err = await failure(rig.tokens.get());

    expect(err.message).toBe('token endpoint answered 200 without a usable token (password grant)');
    expect(err.rejected).toBe(false);
  });

  it('passes on a TokenError from the credentials resolver (a malformed secret) as it is', async () => {
    // Prepare
    const malformed = new TokenError('the ESET credentials secret is not JSON {"username","password"}', true);
    const rig = tokenRig({
      credentials: async () => {
        throw malformed;
      },
    });

    // Act
    const err = await failure(rig.tokens.get());

    // Assess
    expect(err).toBe(malformed);
    expect(rig.http.calls).toEqual([]);
  });
});
