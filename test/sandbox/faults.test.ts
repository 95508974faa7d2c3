import { describe, expect, it, vi } from 'vitest';
import { createFaultDrawer, type FaultMix, parseFaultStep } from '../../infra/local/eset-sandbox/faults';
import { admin, call, clientFor, INCIDENT, OTHER, token, useSandbox } from './sandbox-client';

const harness = useSandbox();

async function started(options: Parameters<typeof harness.start>[0] = {}) {
  const sb = await harness.start(options);
  const accessToken = await token(sb);
  return { sb, accessToken, client: clientFor(sb, accessToken) };
}

describe('faults on every mutating call', () => {
  it('applies an incident script to reopen and comment creation as to close, in call order', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');
    sb.script(INCIDENT, [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 429, retryAfter: '1' },
    ]);

    const reopen = await client.reopen(INCIDENT);
    const read = await client.get(INCIDENT);
    const comment = await client.comment(INCIDENT, 'x');
    const next = await client.comment(INCIDENT, 'x');

    expect([reopen.status, read.status, comment.status, next.status]).toEqual([503, 200, 429, 200]);
    expect(sb.state().incidents[INCIDENT]).toMatchObject({
      status: 'INCIDENT_STATUS_CLOSED',
      commentsCreated: 1,
    });
  });

  it('draws from the mix for mutating calls only, unless the scope is all', async () => {
    const { sb, client } = await started({ faults: { seed: 1, mix: { ok: 0, s503: 1 } } });
    sb.addIncident(INCIDENT);

    const writes = [
      await client.reopen(INCIDENT),
      await client.comment(INCIDENT, 'x'),
      await client.close(INCIDENT),
    ];
    const reads = [await client.get(INCIDENT), await client.list(), await client.comments(INCIDENT)];
    sb.setFaults({ seed: 1, mix: { ok: 0, s503: 1 }, scope: 'all' });
    const readsInScopeAll = [
      await client.get(INCIDENT),
      await client.list(),
      await client.comments(INCIDENT),
    ];

    expect(writes.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(reads.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(readsInScopeAll.map((r) => r.status)).toEqual([503, 503, 503]);
  });

  it('applies the call before answering a 5xx marked applied', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [
      { kind: 'status', status: 502, applied: true },
      { kind: 'status', status: 500, applied: true },
      { kind: 'status', status: 504, applied: true },
    ]);

    const close = await client.close(INCIDENT);
    const comment = await client.comment(INCIDENT, 'lost answer');
    const reopen = await client.reopen(INCIDENT);

    expect([close.status, comment.status, reopen.status]).toEqual([502, 500, 504]);
    expect(sb.state().incidents[INCIDENT]).toMatchObject({
      status: 'INCIDENT_STATUS_OPEN',
      closesApplied: 1,
      reopensApplied: 1,
      commentsCreated: 1,
    });
  });

  it('draws an applied 500 from the mix weight applied500', async () => {
    const { sb, client } = await started({ faults: { seed: 9, mix: { ok: 0, applied500: 1 } } });
    sb.addIncident(INCIDENT);

    const res = await client.close(INCIDENT);

    expect(res.status).toBe(500);
    expect(sb.state().incidents[INCIDENT]?.closesApplied).toBe(1);
  });
});

describe('202 and response-id for reopen and comments', () => {
  it('retrieves the cached reopen and the cached new comment by re-sending the identical request', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT, 'INCIDENT_STATUS_CLOSED');
    sb.script(INCIDENT, [
      { kind: 'pending', resendsUntilReady: 0 },
      { kind: 'pending', resendsUntilReady: 1 },
    ]);

    const reopen = await client.reopen(INCIDENT, { comment: { text: 'back' } });
    const reopenAnswer = await client.reopen(
      INCIDENT,
      { comment: { text: 'back' } },
      { 'response-id': reopen.headers.get('response-id') ?? '' },
    );
    const comment = await client.comment(INCIDENT, 'pending note');
    const resend = { 'response-id': comment.headers.get('response-id') ?? '' };
    const notReady = await client.comment(INCIDENT, 'pending note', resend);
    const ready = await client.comment(INCIDENT, 'pending note', resend);
    const drained = await client.comment(INCIDENT, 'pending note', resend);

    expect([reopen.status, reopenAnswer.status]).toEqual([202, 200]);
    expect([comment.status, notReady.status, ready.status, drained.status]).toEqual([202, 202, 200, 404]);
    const created = ((await ready.json()) as { comment: { text: string; uuid: string } }).comment;
    const state = sb.state().incidents[INCIDENT];
    expect(state).toMatchObject({ reopensApplied: 1, commentsCreated: 1 });
    expect(state?.comments.map((c) => c.uuid)).toContain(created.uuid);
    expect(state?.comments.filter((c) => c.text === 'pending note')).toHaveLength(1);
    const resends = sb.state().calls.filter((c) => c.responseIdResend);
    expect(resends.map((c) => c.call)).toEqual(['reopen', 'comment', 'comment', 'comment']);
  });
});

describe('delayed 202', () => {
  it('holds the request for delayMs with the call already applied, then answers 202', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending', delayMs: 600_000, resendsUntilReady: 0 }]);

    const pending = client.close(INCIDENT);
    await vi.waitFor(() => expect(sb.state().hanging).toBe(1), { interval: 5, timeout: 10_000 });
    const whileHeld = sb.state().incidents[INCIDENT]?.closesApplied;
    await sb.close();
    const res = await pending;

    expect(whileHeld).toBe(1);
    expect(res.status).toBe(202);
    expect(res.headers.get('response-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(sb.state().calls.map((c) => [c.status, c.responseId])).toEqual([
      [202, res.headers.get('response-id')],
    ]);
  });

  it('gives drawn and scripted pendings without their own delay the sandbox pendingDelayMs', async () => {
    const { sb, client } = await started({
      pendingDelayMs: 600_000,
      faults: { seed: 1, mix: { ok: 0, pending: 1 } },
    });
    sb.addIncident(INCIDENT);
    sb.addIncident(OTHER);
    sb.script(OTHER, [{ kind: 'pending' }]);

    const answers = Promise.all([client.close(INCIDENT), client.close(OTHER)]);
    await vi.waitFor(() => expect(sb.state().hanging).toBe(2), { interval: 5, timeout: 10_000 });
    await sb.close();

    expect((await answers).map((res) => res.status)).toEqual([202, 202]);
  });

  it('records 499 and keeps the cached answer when the client gives up during the hold', async () => {
    const { sb, accessToken } = await started({ pendingDelayMs: 600_000 });
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'pending', resendsUntilReady: 0 }]);
    const controller = new AbortController();
    const body = { closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' };

    const pending = call(sb, accessToken, 'POST', `/v2/incidents/${INCIDENT}:close`, {
      body,
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(sb.state().hanging).toBe(1), { interval: 5, timeout: 10_000 });
    controller.abort();
    await expect(pending).rejects.toThrow();
    await vi.waitFor(() => expect(sb.state().hanging).toBe(0), { interval: 5, timeout: 10_000 });
    const [gaveUp] = sb.state().calls;
    // Only the sandbox knows the id; a client that had it could still fetch the answer.
    const resend = await call(sb, accessToken, 'POST', `/v2/incidents/${INCIDENT}:close`, {
      body,
      headers: { 'response-id': gaveUp?.responseId ?? '' },
    });

    expect(gaveUp).toMatchObject({ status: 499, call: 'close', responseId: expect.any(String) });
    expect(resend.status).toBe(200);
    expect(sb.state().incidents[INCIDENT]?.closesApplied).toBe(1);
  });
});

describe('redirects', () => {
  it('answers a scripted redirect to a sign-in page that answers 200 in HTML, without applying', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'redirect', status: 302 }]);

    const res = await client.close(INCIDENT);
    const location = res.headers.get('location') ?? '';
    const page = await fetch(location);

    expect(res.status).toBe(302);
    expect(location).toBe(`${sb.url}/sso/login`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<form/);
    expect(sb.state().incidents[INCIDENT]?.status).toBe('INCIDENT_STATUS_OPEN');
    expect(sb.state().calls.map((c) => `${c.call} ${c.method} ${c.path} ${c.status}`)).toEqual([
      `close POST /v2/incidents/${INCIDENT}:close 302`,
      'other GET /sso/login 200',
    ]);
  });

  it('serves a custom location on the sandbox, and a 307 keeps a following client posting to it', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'redirect', status: 307, location: '/maintenance' }]);

    const followed = await client.send('POST', `/v2/incidents/${INCIDENT}:close`, {
      body: {},
      redirect: 'follow',
    });

    expect(followed.status).toBe(200);
    expect(followed.url).toBe(`${sb.url}/maintenance`);
    expect(sb.state().calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `POST /v2/incidents/${INCIDENT}:close 307`,
      'POST /maintenance 200',
    ]);
  });

  it('never turns its own API paths into the sign-in page', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [{ kind: 'redirect', status: 301, location: '/v2/incidents' }]);

    const moved = await client.close(INCIDENT);
    const list = await client.list();

    expect(moved.status).toBe(301);
    expect(list.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('long request-id', () => {
  it('answers a request-id of the asked length with any step', async () => {
    const { sb, client } = await started();
    sb.addIncident(INCIDENT);
    sb.script(INCIDENT, [
      { kind: 'status', status: 503, requestIdLength: 300 },
      { kind: 'ok', requestIdLength: 5_000 },
    ]);

    const failed = await client.close(INCIDENT);
    const ok = await client.close(INCIDENT);

    expect(failed.headers.get('request-id')).toHaveLength(300);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('request-id')).toHaveLength(5_000);
    expect(sb.state().calls.map((c) => c.requestId.length)).toEqual([300, 5_000]);
  });
});

describe('step and mix validation', () => {
  it.each([
    [{ kind: 'status', status: 404, applied: true }, /applied/],
    [{ kind: 'status', status: 503, aplied: true }, /aplied/],
    [{ kind: 'redirect', status: 303 }, /status/],
    [{ kind: 'redirect', status: 302, location: 'a\r\nb' }, /location/],
    [{ kind: 'pending', delayMs: -1 }, /delayMs/],
    [{ kind: 'ok', requestIdLength: 0 }, /requestIdLength/],
    [{ kind: 'ok', requestIdLength: 9_000 }, /requestIdLength/],
    [{ kind: 'explode' }, /kind/],
  ])('refuses %j', (step, message) => {
    expect(() => parseFaultStep(step)).toThrow(message);
  });

  it('refuses an unknown scope through the admin endpoint', async () => {
    const sb = await harness.start();

    const res = await admin(sb, 'faults', { seed: 1, mix: { ok: 1 }, scope: 'reads' });

    expect(res.status).toBe(400);
  });

  it('draws the same sequence for a mix whether or not it names the new weights at 0', () => {
    const mix: FaultMix = { ok: 3, pending: 1, lostCache: 1, s429: 1, s500: 1, s503: 1, s504: 1, hang: 1 };
    const draw = (m: FaultMix) => {
      const next = createFaultDrawer({ seed: 11, mix: m });
      return Array.from({ length: 200 }, () => next());
    };

    expect(draw({ ...mix, applied500: 0 })).toEqual(draw(mix));
  });
});
