import { describe, expect, it, vi } from 'vitest';
import {
  formatOutcome,
  LOCAL_WEBHOOK_SECRET,
  localOptionsFromEnv,
  type OutcomeEvent,
  readyInfo,
  startRuntime,
} from '../../infra/local/runtime';
import { postClose } from './bridge-process';

const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('localOptionsFromEnv', () => {
  it('defaults to port 3000, a free sandbox port and five seeded incidents', () => {
    expect(localOptionsFromEnv({})).toEqual({ port: 3000, sandboxPort: 0, seedIncidents: 5 });
  });

  it('reads every local variable', () => {
    const options = localOptionsFromEnv({
      PORT: '0',
      HOST: '0.0.0.0',
      SANDBOX_PORT: '4010',
      SANDBOX_SEED_INCIDENTS: '0',
      SANDBOX_FAULTS: '{"seed":7,"mix":{"ok":3,"s503":1}}',
      SANDBOX_REPEAT_APPLIES: '1',
      SANDBOX_PENDING_DELAY_MS: '2500',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324',
      QUEUE_PREFIX: 'dev-bridge',
    });

    expect(options).toEqual({
      port: 0,
      host: '0.0.0.0',
      sandboxPort: 4010,
      seedIncidents: 0,
      sandboxFaults: { seed: 7, mix: { ok: 3, s503: 1 } },
      sandbox: { repeatApplies: true, pendingDelayMs: 2500 },
      sqsEndpoint: 'http://127.0.0.1:9324',
      queuePrefix: 'dev-bridge',
    });
  });

  it('names every malformed variable at once', () => {
    expect(() =>
      localOptionsFromEnv({
        PORT: 'http',
        AWS_ENDPOINT_URL_SQS: 'localhost:9324',
        QUEUE_PREFIX: 'has space',
        SANDBOX_FAULTS: '{"seed":1}',
      }),
    ).toThrow(/PORT.*AWS_ENDPOINT_URL_SQS.*QUEUE_PREFIX.*SANDBOX_FAULTS/);
  });
});

describe('startRuntime (in-process, as benchmarks and the chaos tool use it)', () => {
  it('serves the deployed receive handler, reports the outcome and counts it', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const outcomes: OutcomeEvent[] = [];
    const rt = await startRuntime({
      env: {},
      port: 0,
      seedIncidents: 1,
      logLevel: 'SILENT',
      onOutcome: (o) => outcomes.push(o),
    });
    const id = rt.seededIncidents[0] as string;
    try {
      const answer = await postClose(rt.webhookUrl, LOCAL_WEBHOOK_SECRET, id);
      const local = await fetch(new URL('/_local/runtime', rt.webhookUrl));

      expect(answer.status).toBe(200);
      expect(rt.sandbox?.state().incidents[id]).toMatchObject({
        status: 'INCIDENT_STATUS_CLOSED',
        closesApplied: 1,
      });
      expect(outcomes).toEqual([
        expect.objectContaining({
          lambda: 'receive',
          outcome: 'closed',
          action: 'close',
          incidentUuid: id,
          esetStatus: '200',
        }),
      ]);
      expect(formatOutcome(outcomes[0] as OutcomeEvent)).toMatch(
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ${id} closed +close +ESET 200 +\\[receive\\]$`),
      );
      expect(rt.stats()).toMatchObject({
        answers: { 200: 1 },
        outcomes: { closed: 1 },
        incidents: { [id]: 'closed' },
      });
      // npm start keeps the deployed budgets unless LOCAL_TIMING=fast asks for shorter ones.
      expect(rt.timing).toBe('deployed');
      expect(rt.config).toMatchObject({
        esetTimeoutMs: 8000,
        retryEsetTimeoutMs: 55_000,
        esetSettleSeconds: 190,
      });
      expect(await local.json()).toMatchObject({
        webhookUrl: rt.webhookUrl,
        eset: 'sandbox',
        stats: { outcomes: { closed: 1 } },
      });
    } finally {
      await rt.stop();
    }
    await expect(fetch(rt.webhookUrl)).rejects.toThrow();
    expect(rt.stats().queuesAtStop?.retry).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('answers a repeated delivery with the first outcome and closes once (embedded DynamoDB)', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const rt = await startRuntime({ env: {}, port: 0, seedIncidents: 1, logLevel: 'SILENT', timing: 'fast' });
    const id = rt.seededIncidents[0] as string;
    try {
      // Retry-After fixes the retry 3 s ahead (a backoff could draw 0 s and race the repeat).
      rt.sandbox?.script(id, [{ kind: 'status', status: 503, retryAfter: '3' }]);
      const first = await postClose(rt.webhookUrl, LOCAL_WEBHOOK_SECRET, id);
      const again = await postClose(rt.webhookUrl, LOCAL_WEBHOOK_SECRET, id);
      expect(first).toMatchObject({ status: 202, body: { status: 'queued' } });
      // The repeat waits for the retry that is already scheduled: no ESET call of its own.
      expect(again).toEqual({ ...first, body: { ...first.body, duplicate: true } });
      const closes = () =>
        rt.sandbox?.state().calls.filter((c) => c.method === 'POST' && c.path.includes(id)).length;
      expect(closes()).toBe(1);
      const deadline = Date.now() + 15_000;
      while (
        rt.sandbox?.state().incidents[id]?.status !== 'INCIDENT_STATUS_CLOSED' &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(rt.sandbox?.state().incidents[id]).toMatchObject({
        status: 'INCIDENT_STATUS_CLOSED',
        closesApplied: 1,
      });
      expect(closes()).toBe(2);
    } finally {
      await rt.stop();
    }
  });

  it('uses real ESET when ESET_REGION is set, and names the credentials it lacks', async () => {
    await expect(
      startRuntime({ env: { ESET_REGION: 'eu', WEBHOOK_SECRET: TEST_SECRET }, port: 0 }),
    ).rejects.toThrow(/ESET_USERNAME and ESET_PASSWORD/);
  });

  it('refuses the public built-in webhook secret beyond loopback or against a real ESET, saying what to set', async () => {
    await expect(startRuntime({ env: {}, port: 0, host: '0.0.0.0' })).rejects.toThrow(/set WEBHOOK_SECRET/);
    await expect(
      startRuntime({
        env: { ESET_REGION: 'eu', ESET_USERNAME: 'api@example.com', ESET_PASSWORD: 'pw' },
        port: 0,
      }),
    ).rejects.toThrow(/built-in webhook secret is public.*set WEBHOOK_SECRET/);
  });

  it('refuses LOCAL_TIMING=fast against a real ESET, where a short settle could close an incident twice', async () => {
    await expect(
      startRuntime({
        env: {
          ESET_REGION: 'eu',
          ESET_USERNAME: 'api@example.com',
          ESET_PASSWORD: 'pw',
          WEBHOOK_SECRET: TEST_SECRET,
        },
        port: 0,
        timing: 'fast',
      }),
    ).rejects.toThrow(/LOCAL_TIMING=fast/);
  });

  it('keeps the deployed timing against real ESET, where a short settle could close an incident twice', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const rt = await startRuntime({
      env: {
        ESET_REGION: 'eu',
        ESET_USERNAME: 'api@example.com',
        ESET_PASSWORD: 'pw',
        WEBHOOK_SECRET: TEST_SECRET,
      },
      port: 0,
      logLevel: 'SILENT',
    });
    try {
      expect(rt.sandbox).toBeUndefined();
      expect(rt.timing).toBe('deployed');
      expect(rt.esetApiUrl).toBe('https://eu.incident-management.eset.systems');
      expect(rt.config).toMatchObject({ esetSettleSeconds: 190, esetTimeoutMs: 8000 });
    } finally {
      await rt.stop();
    }
  });

  it('keeps every configuration variable: the fast timing defaults yield to the environment', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const rt = await startRuntime({
      env: {
        ESET_TIMEOUT_MS: '1500',
        RETRY_BASE_SECONDS: '3',
        WEBHOOK_SECRET: TEST_SECRET,
        LOCAL_TIMING: 'fast',
      },
      port: 0,
      logLevel: 'SILENT',
    });
    try {
      expect(rt.config).toMatchObject({ esetTimeoutMs: 1500, retryBaseSeconds: 3, pendingResendSeconds: 1 });
      expect(rt.webhookSecret).toEqual({ source: 'WEBHOOK_SECRET' });
      expect(rt.timing).toBe('fast');
    } finally {
      await rt.stop();
    }
  });

  it('runs two tenants against two sandboxes: each route closes at its own tenant', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    expect(localOptionsFromEnv({ SANDBOX_TENANTS: 'globex, initech' }).sandboxTenants).toEqual([
      'globex',
      'initech',
    ]);
    expect(() => localOptionsFromEnv({ SANDBOX_TENANTS: 'default' })).toThrow(/SANDBOX_TENANTS/);
    const rt = await startRuntime({
      env: {
        WEBHOOK_SECRET: JSON.stringify({ '/': TEST_SECRET, '/globex': TEST_SECRET }),
        SENDERS_CONFIG: JSON.stringify({ routes: { '/globex': { adapter: 'canonical', tenant: 'globex' } } }),
        LOCAL_TIMING: 'fast',
      },
      port: 0,
      seedIncidents: 1,
      sandboxTenants: ['globex'],
      logLevel: 'SILENT',
    });
    try {
      const globex = rt.tenantSandboxes.globex;
      const theirs = Object.keys(globex?.state().incidents ?? {})[0] as string;
      const mine = rt.seededIncidents[0] as string;
      const a = await postClose(rt.webhookUrl, TEST_SECRET, mine);
      const b = await postClose(new URL('/globex', rt.webhookUrl).href, TEST_SECRET, theirs);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(rt.sandbox?.state().incidents[mine]?.status).toBe('INCIDENT_STATUS_CLOSED');
      expect(globex?.state().incidents[theirs]?.status).toBe('INCIDENT_STATUS_CLOSED');
      expect(rt.sandbox?.state().calls.some((c) => c.path.includes(theirs))).toBe(false);
      const ready = readyInfo(rt);
      expect(ready.tenants?.globex).toMatchObject({ esetApiUrl: globex?.url, incidents: [theirs] });
    } finally {
      await rt.stop();
    }
  });
});
