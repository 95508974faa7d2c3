import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEsetSandbox,
  type EsetSandbox,
  type FaultStep,
  type SandboxOptions,
} from '../../infra/local/eset-sandbox/sandbox';

const INCIDENT = '123e4567-e89b-12d3-a456-426614174000';
const OTHER = '223e4567-e89b-12d3-a456-426614174001';
const CLOSE_BODY = JSON.stringify({
  closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  finalComment: { text: 'Resolved in ticket T-1' },
});

let sandbox: EsetSandbox | undefined;
let now = 1_800_000_000_000;
const clock = () => now;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  now = 1_800_000_000_000;
});

async function start(options: SandboxOptions = {}): Promise<EsetSandbox> {
  sandbox = await createEsetSandbox({ clock, ...options });
  return sandbox;
}

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

async function passwordGrant(sb: EsetSandbox): Promise<Tokens> {
  const res = await fetch(
    `${sb.url}/oauth/token`,
    form({ grant_type: 'password', username: 'sandbox-user', password: 'sandbox-password' }),
  );
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

async function token(sb: EsetSandbox): Promise<string> {
  return (await passwordGrant(sb)).access_token;
}

function closeIncident(
  sb: EsetSandbox,
  accessToken: string,
  uuid: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${sb.url}/v2/incidents/${uuid}:close`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      ...options.headers,
    },
    body: options.body ?? CLOSE_BODY,
  });
}

function readIncident(sb: EsetSandbox, accessToken: string, uuid: string): Promise<Response> {
  return fetch(`${sb.url}/v2/incidents/${uuid}`, { headers: { authorization: `Bearer ${accessToken}` } });
}

async function statusOfIncident(sb: EsetSandbox, accessToken: string, uuid: string): Promise<string> {
  const res = await readIncident(sb, accessToken, uuid);
  const body = (await res.json()) as { incident: { status: string } };
  return body.incident.status;
}

function admin(sb: EsetSandbox, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sb.url}/_sandbox/${path}`, {
    method: body === undefined && path === 'state' ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('token endpoint', () => {
  it('answers 415 to a JSON body, as the auth service only takes form encoding', async () => {
    const sb = await start();

    const res = await fetch(`${sb.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        username: 'sandbox-user',
        password: 'sandbox-password',
      }),
    });

    expect(res.status).toBe(415);
    expect(sb.state().tokenRequests).toEqual({ password: 0, refresh: 0 });
  });

  it('issues Bearer tokens for the password grant and counts the request', async () => {
    const sb = await start({ tokenTtlSeconds: 1800 });

    const tokens = await passwordGrant(sb);

    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expires_in).toBe(1800);
    expect(tokens.access_token).not.toBe(tokens.refresh_token);
    expect(sb.state().tokenRequests).toEqual({ password: 1, refresh: 0 });
  });

  it('answers 400 invalid_grant to a wrong password', async () => {
    const sb = await start();

    const res = await fetch(
      `${sb.url}/oauth/token`,
      form({ grant_type: 'password', username: 'sandbox-user', password: 'wrong' }),
    );

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant' });
  });

  it('returns new tokens on refresh and invalidates the old refresh token', async () => {
    const sb = await start();
    const first = await passwordGrant(sb);

    const refreshed = await fetch(
      `${sb.url}/oauth/token`,
      form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
    );
    const second = (await refreshed.json()) as Tokens;
    const reused = await fetch(
      `${sb.url}/oauth/token`,
      form({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
    );

    expect(refreshed.status).toBe(200);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toEqual({ error: 'invalid_grant' });
    expect(sb.state().tokenRequests).toEqual({ password: 1, refresh: 2 });
  });

  it('answers invalid_grant to a refresh token past its lifetime', async () => {
    const sb = await start({ refreshTtlSeconds: 60 });
    const { refresh_token } = await passwordGrant(sb);
    now += 60_000;

    const res = await fetch(`${sb.url}/oauth/token`, form({ grant_type: 'refresh_token', refresh_token }));

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_grant' });
  });
});

describe('authorization', () => {
  it('answers 401 with an empty body and a request-id to a missing or unknown token', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);

    const missing = await fetch(`${sb.url}/v2/incidents/${INCIDENT}`);
    const unknown = await readIncident(sb, 'not-a-token', INCIDENT);

    expect(missing.status).toBe(401);
    expect(await missing.text()).toBe('');
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.headers.get('request-id')).not.toBe(unknown.headers.get('request-id'));
  });

  it('answers 401 once the access token has expired', async () => {
    const sb = await start({ tokenTtlSeconds: 3600 });
    sb.addIncident(INCIDENT);
    const accessToken = await token(sb);
    now += 3_600_000;

    const res = await readIncident(sb, accessToken, INCIDENT);

    expect(res.status).toBe(401);
  });

  it('rejects every issued token after expireAccessTokens but accepts fresh ones', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    const old = await token(sb);

    sb.expireAccessTokens();
    const rejected = await readIncident(sb, old, INCIDENT);
    const accepted = await readIncident(sb, await token(sb), INCIDENT);

    expect(rejected.status).toBe(401);
    expect(accepted.status).toBe(200);
  });
});

describe('close incident', () => {
  it('applies the close once and shows the incident CLOSED', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    const accessToken = await token(sb);

    const res = await closeIncident(sb, accessToken, INCIDENT, {
      headers: { '3rd-integration': 'eset-close-bridge' },
    });
    const read = await readIncident(sb, accessToken, INCIDENT);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(res.headers.get('request-id')).toBeTruthy();
    expect(await read.json()).toMatchObject({
      incident: {
        uuid: INCIDENT,
        status: 'INCIDENT_STATUS_CLOSED',
        resolveReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      },
    });
    const state = sb.state();
    expect(state.incidents[INCIDENT]).toMatchObject({
      status: 'INCIDENT_STATUS_CLOSED',
      resolveReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
      finalComment: 'Resolved in ticket T-1',
      closesApplied: 1,
    });
    expect(state.calls[0]).toMatchObject({
      call: 'close',
      method: 'POST',
      path: `/v2/incidents/${INCIDENT}:close`,
      status: 200,
      responseIdResend: false,
      integration: 'eset-close-bridge',
      requestId: res.headers.get('request-id'),
    });
  });

  it('answers 400 with code 9 when the incident is already closed', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');

    const res = await closeIncident(sb, await token(sb), INCIDENT);

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 9, message: 'incident is already closed' });
    expect(sb.state().incidents[INCIDENT]?.closesApplied).toBe(0);
  });

  it('answers 404 for an unknown incident', async () => {
    const sb = await start();

    const res = await closeIncident(sb, await token(sb), OTHER);

    expect(res.status).toBe(404);
  });

  it('answers 400 with code 3 to an unknown closure reason and leaves the incident open', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);

    const res = await closeIncident(sb, await token(sb), INCIDENT, {
      body: JSON.stringify({ closureReason: 'RESOLVED', finalComment: { text: 'x' } }),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 3, details: [] });
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
  });

  it('accepts a percent-encoded colon in the path', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);

    const res = await fetch(`${sb.url}/v2/incidents/${INCIDENT}%3Aclose`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(sb)}` },
      body: CLOSE_BODY,
    });

    expect(res.status).toBe(200);
  });
});

describe('202 and response-id', () => {
  it('answers 202, then 202 while not ready, then the real answer once, then 404', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending' }, { kind: 'status', status: 503 }]);
    const accessToken = await token(sb);

    const first = await closeIncident(sb, accessToken, INCIDENT);
    const responseId = first.headers.get('response-id') ?? '';
    const resend = () => closeIncident(sb, accessToken, INCIDENT, { headers: { 'response-id': responseId } });
    const notReady = await resend();
    const ready = await resend();
    const retrieved = await resend();
    const fresh = await closeIncident(sb, accessToken, INCIDENT);

    expect(first.status).toBe(202);
    expect(responseId).not.toBe('');
    expect(notReady.status).toBe(202);
    expect(notReady.headers.get('response-id')).toBe(responseId);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({});
    expect(retrieved.status).toBe(404);
    // The re-sends consumed no step: the next plain close meets the scripted 503.
    expect(fresh.status).toBe(503);
    const state = sb.state();
    expect(state.incidents[INCIDENT]?.closesApplied).toBe(1);
    expect(state.calls.map((call) => call.responseIdResend)).toEqual([false, true, true, true, false]);
  });

  it('accepts a re-send with a different token but answers 400 to a different body', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 0 }]);
    const first = await closeIncident(sb, await token(sb), INCIDENT);
    const headers = { 'response-id': first.headers.get('response-id') ?? '' };

    const different = await closeIncident(sb, await token(sb), INCIDENT, {
      headers,
      body: JSON.stringify({ closureReason: 'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE' }),
    });
    const identical = await closeIncident(sb, await token(sb), INCIDENT, { headers });

    expect(different.status).toBe(400);
    expect(identical.status).toBe(200);
  });

  it('answers 404 to a re-send after the cache lifetime', async () => {
    const sb = await start({ cacheTtlMs: 600_000 });
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 0 }]);
    const accessToken = await token(sb);
    const first = await closeIncident(sb, accessToken, INCIDENT);
    now += 600_000;

    const late = await closeIncident(sb, accessToken, INCIDENT, {
      headers: { 'response-id': first.headers.get('response-id') ?? '' },
    });

    expect(late.status).toBe(404);
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_CLOSED');
  });

  it('answers 504 to a re-send past the gateway timeout and drops the cache', async () => {
    const sb = await start({ gatewayTimeoutMs: 120_000 });
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 5 }]);
    const accessToken = await token(sb);
    const first = await closeIncident(sb, accessToken, INCIDENT);
    const headers = { 'response-id': first.headers.get('response-id') ?? '' };
    now += 120_000;

    const timedOut = await closeIncident(sb, accessToken, INCIDENT, { headers });
    const after = await closeIncident(sb, accessToken, INCIDENT, { headers });

    expect(timedOut.status).toBe(504);
    expect(after.status).toBe(404);
  });

  it('answers 404 to every re-send when the cache is lost, though the close was applied', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'lostCache' }]);
    const accessToken = await token(sb);

    const first = await closeIncident(sb, accessToken, INCIDENT);
    const resend = await closeIncident(sb, accessToken, INCIDENT, {
      headers: { 'response-id': first.headers.get('response-id') ?? '' },
    });

    expect(first.status).toBe(202);
    expect(resend.status).toBe(404);
    expect(await statusOfIncident(sb, accessToken, INCIDENT)).toBe('INCIDENT_STATUS_CLOSED');
  });

  it('caches the real outcome, so a pending close of a closed incident retrieves the 400', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 0 }]);
    const accessToken = await token(sb);

    const first = await closeIncident(sb, accessToken, INCIDENT);
    const resend = await closeIncident(sb, accessToken, INCIDENT, {
      headers: { 'response-id': first.headers.get('response-id') ?? '' },
    });

    expect(first.status).toBe(202);
    expect(resend.status).toBe(400);
    expect(await resend.json()).toMatchObject({ code: 9 });
  });

  it('answers 404 to an unknown response-id', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);

    const res = await closeIncident(sb, await token(sb), INCIDENT, { headers: { 'response-id': 'nope' } });

    expect(res.status).toBe(404);
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
  });
});

describe('scripted statuses', () => {
  it('answers scripted 429 and 503 with Retry-After without applying, then applies on ok', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [
      { kind: 'status', status: 429, retryAfter: '2' },
      { kind: 'status', status: 503, retryAfter: '30', body: 'maintenance' },
      { kind: 'ok' },
    ]);
    const accessToken = await token(sb);

    const limited = await closeIncident(sb, accessToken, INCIDENT);
    const maintenance = await closeIncident(sb, accessToken, INCIDENT);
    const openMeanwhile = sb.state().incidents[INCIDENT]?.status;
    const ok = await closeIncident(sb, accessToken, INCIDENT);

    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(maintenance.status).toBe(503);
    expect(maintenance.headers.get('retry-after')).toBe('30');
    expect(maintenance.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await maintenance.text()).toBe('maintenance');
    expect(openMeanwhile).toBe('INCIDENT_STATUS_OPEN');
    expect(ok.status).toBe(200);
    expect(sb.state().callsByStatus).toEqual({ '429': 1, '503': 1, '200': 1 });
  });
});

describe('rate limit', () => {
  it('answers 429 to the 11th call in one second and admits calls again a second later', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    const accessToken = await token(sb);

    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push((await readIncident(sb, accessToken, INCIDENT)).status);
    now += 1_000;
    const later = await readIncident(sb, accessToken, INCIDENT);

    expect(statuses.filter((status) => status === 429)).toHaveLength(1);
    expect(statuses.at(-1)).toBe(429);
    expect(later.status).toBe(200);
    const state = sb.state();
    expect(state.callsByStatus).toEqual({ '200': 11, '429': 1 });
    expect(state.maxCallsInAnySecond).toBe(11);
  });

  it('shares the budget between all tokens of the same credentials', async () => {
    const sb = await start({ rateLimitPerSecond: 2 });
    sb.addIncident(INCIDENT);
    const first = await token(sb);
    const second = await token(sb);

    const a = await readIncident(sb, first, INCIDENT);
    const b = await readIncident(sb, second, INCIDENT);
    const c = await closeIncident(sb, second, INCIDENT);

    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
  });

  it('admits any number of calls when the limit is 0', async () => {
    const sb = await start({ rateLimitPerSecond: 0 });
    sb.addIncident(INCIDENT);
    const accessToken = await token(sb);

    const statuses = await Promise.all(
      Array.from({ length: 15 }, async () => (await readIncident(sb, accessToken, INCIDENT)).status),
    );

    expect(new Set(statuses)).toEqual(new Set([200]));
  });
});

describe('hang', () => {
  it('leaves the incident open when applied is false, and close() ends the held request', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'hang', ms: 600_000, applied: false }]);
    const accessToken = await token(sb);

    const pending = closeIncident(sb, accessToken, INCIDENT);
    await vi.waitFor(() => expect(sb.state().hanging).toBe(1), { interval: 5, timeout: 10_000 });
    await sb.close();
    const res = await pending;

    expect(res.status).toBe(504);
    expect(res.headers.get('request-id')).toBeTruthy();
    const state = sb.state();
    expect(state.incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(state.hanging).toBe(0);
    expect(state.callsByStatus).toEqual({ '504': 1 });
  });

  it('applies the close before answering 504 when applied is true', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'hang', ms: 5, applied: true }]);

    const res = await closeIncident(sb, await token(sb), INCIDENT);

    expect(res.status).toBe(504);
    expect(sb.state().incidents[INCIDENT]?.closesApplied).toBe(1);
  });

  it('records 499 when the client gives up first', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'hang', ms: 600_000, applied: false }]);
    const accessToken = await token(sb);
    const controller = new AbortController();

    const pending = fetch(`${sb.url}/v2/incidents/${INCIDENT}:close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: CLOSE_BODY,
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(sb.state().hanging).toBe(1), { interval: 5, timeout: 10_000 });
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(sb.state().hanging).toBe(0), { interval: 5, timeout: 10_000 });

    expect(sb.state().calls.map((call) => call.status)).toEqual([499]);
  });
});

describe('fault mix', () => {
  const mix = { ok: 3, pending: 1, lostCache: 1, s429: 1, s500: 1, s503: 1, s504: 1, hang: 1, hangMs: 1 };

  async function sequence(seed: number, count: number): Promise<number[]> {
    const sb = await createEsetSandbox({ clock, faults: { seed, mix } });
    try {
      const accessToken = await token(sb);
      const statuses: number[] = [];
      for (let i = 0; i < count; i += 1) {
        const uuid = `incident-${i}`;
        sb.addIncident(uuid);
        now += 1_000;
        statuses.push((await closeIncident(sb, accessToken, uuid)).status);
      }
      return statuses;
    } finally {
      await sb.close();
    }
  }

  it('gives the same sequence for the same seed', async () => {
    const first = await sequence(42, 30);
    const second = await sequence(42, 30);
    const other = await sequence(7, 30);

    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(2);
  });

  it('lets a script take precedence over the mix', async () => {
    const sb = await start({ faults: { seed: 1, mix: { ok: 0, s500: 1 } } });
    sb.addIncident(INCIDENT);
    sb.addIncident(OTHER);
    sb.script(INCIDENT, [{ kind: 'ok' }]);
    const accessToken = await token(sb);

    const scripted = await closeIncident(sb, accessToken, INCIDENT);
    const drawn = await closeIncident(sb, accessToken, OTHER);

    expect(scripted.status).toBe(200);
    expect(drawn.status).toBe(500);
  });

  it('restarts the sequence on reset', async () => {
    const sb = await start({ faults: { seed: 3, mix: { ok: 1, s503: 1 } } });
    const accessToken = await token(sb);
    const run = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1) {
        sb.addIncident(`incident-${i}`);
        now += 1_000;
        statuses.push((await closeIncident(sb, accessToken, `incident-${i}`)).status);
      }
      return statuses;
    };

    const before = await run();
    sb.reset();
    const after = await run();

    expect(after).toEqual(before);
  });

  it('refuses a script step it cannot honour', async () => {
    const sb = await start();

    expect(() => sb.script(INCIDENT, [{ kind: 'status', status: 418 } as unknown as FaultStep])).toThrow(
      /status/,
    );
  });
});

describe('admin endpoints', () => {
  it('seeds incidents, scripts, expires tokens, reports state and resets', async () => {
    const sb = await start();
    const accessToken = await token(sb);

    const seeded = await admin(sb, 'incidents', {
      incidents: [{ uuid: INCIDENT }, { uuid: OTHER, status: 'INCIDENT_STATUS_IN_PROGRESS' }],
    });
    const scripted = await admin(sb, 'script', { uuid: INCIDENT, steps: [{ kind: 'status', status: 502 }] });
    const failed = await closeIncident(sb, accessToken, INCIDENT);
    const closed = await closeIncident(sb, accessToken, OTHER);
    const expired = await admin(sb, 'expire-tokens');
    const afterExpiry = await readIncident(sb, accessToken, INCIDENT);
    const stateRes = await admin(sb, 'state');
    const state = (await stateRes.json()) as ReturnType<EsetSandbox['state']>;
    const reset = await admin(sb, 'reset');

    expect(seeded.status).toBe(200);
    expect(await seeded.json()).toEqual({ incidents: [INCIDENT, OTHER] });
    expect(scripted.status).toBe(200);
    expect(failed.status).toBe(502);
    expect(closed.status).toBe(200);
    expect(expired.status).toBe(200);
    expect(afterExpiry.status).toBe(401);
    expect(stateRes.status).toBe(200);
    expect(state.incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(state.incidents[OTHER]?.status).toBe('INCIDENT_STATUS_CLOSED');
    expect(state.callsByStatus).toEqual({ '502': 1, '200': 1, '401': 1 });
    expect(state.tokenRequests).toEqual({ password: 1, refresh: 0 });
    expect(reset.status).toBe(200);
    expect(sb.state()).toMatchObject({ incidents: {}, calls: [], callsByStatus: {}, maxCallsInAnySecond: 0 });
  });

  it('switches the fault mix on and off', async () => {
    const sb = await start();
    sb.addIncident(INCIDENT);
    sb.addIncident(OTHER);
    const accessToken = await token(sb);

    const on = await admin(sb, 'faults', { seed: 1, mix: { ok: 0, s503: 1 } });
    const faulted = await closeIncident(sb, accessToken, INCIDENT);
    const off = await admin(sb, 'faults', {});
    const clean = await closeIncident(sb, accessToken, OTHER);

    expect(on.status).toBe(200);
    expect(faulted.status).toBe(503);
    expect(off.status).toBe(200);
    expect(clean.status).toBe(200);
  });

  it('answers 400 to malformed admin input and changes nothing', async () => {
    const sb = await start();

    const badIncidents = await admin(sb, 'incidents', { incidents: [{ status: 'INCIDENT_STATUS_OPEN' }] });
    const badScript = await admin(sb, 'script', { uuid: INCIDENT, steps: [{ kind: 'explode' }] });
    const badMix = await admin(sb, 'faults', { seed: 1, mix: { ok: 0 } });
    const notJson = await fetch(`${sb.url}/_sandbox/incidents`, { method: 'POST', body: '{' });

    expect([badIncidents.status, badScript.status, badMix.status, notJson.status]).toEqual([
      400, 400, 400, 400,
    ]);
    expect(sb.state().incidents).toEqual({});
  });
});
