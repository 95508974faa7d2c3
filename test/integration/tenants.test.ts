import { afterEach, describe, expect, it } from 'vitest';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { functionUrlEvent, signedHeaders, TEST_WEBHOOK_SECRET } from '../../infra/local/events';
import { ESET_PASSWORD, ESET_USER, type Harness, startHarness } from '../helpers/harness';

/**
 * Two ESET tenants served by one bridge: each has its own API user, token cache and rate budget.
 * One tenant's ESET throttles hard (2 calls per second, 429 beyond); the other's closes keep their
 * pace, and neither tenant's calls wait for the other's.
 */
let h: Harness | undefined;
let other: EsetSandbox | undefined;
afterEach(async () => {
  await h?.close();
  await other?.close();
});

const close = (path: string, incidentUuid: string) => {
  const body = JSON.stringify({ incidentUuid, comment: `closed through ${path}` });
  return functionUrlEvent({ path, body, headers: signedHeaders(body) });
};

describe('several ESET tenants', () => {
  it("keeps one tenant's closes at their pace while another tenant's ESET throttles hard", async () => {
    other = await createEsetSandbox({ username: 'globex-api', password: 'globex-pw', rateLimitPerSecond: 2 });
    // The default tenant's ESET counts nothing here: what is checked is that its closes never
    // wait for the other tenant (the budget's own spacing is test/integration/shared-budget.test.ts).
    h = await startHarness({
      sandbox: { rateLimitPerSecond: 0 },
      env: {
        ESET_TIMEOUT_MS: '6000',
        ESET_TENANTS: JSON.stringify({
          globex: { apiUrl: other.url, authUrl: other.url, username: 'globex-api', password: 'globex-pw' },
        }),
        SENDERS_CONFIG: JSON.stringify({ routes: { '/globex': { adapter: 'canonical', tenant: 'globex' } } }),
        WEBHOOK_SECRET: JSON.stringify({ '/': TEST_WEBHOOK_SECRET, '/globex': TEST_WEBHOOK_SECRET }),
      },
    });
    const mine = Array.from({ length: 20 }, () => (h as Harness).newIncident());
    const theirs = Array.from({ length: 5 }, () => crypto.randomUUID());
    for (const id of theirs) other.addIncident(id);

    const answers = await Promise.all([
      ...mine.map((id) => (h as Harness).receive(close('/', id))),
      ...theirs.map((id) => (h as Harness).receive(close('/globex', id))),
    ]);

    // The default tenant: every close answered 200 at once (none queued behind the other's pauses), its own token.
    expect(answers.slice(0, 20).map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(h.sandbox.state().tokenRequests.password).toBe(1);
    // The throttled tenant: refused by its ESET, queued, then closed through the retry path.
    expect(other.state().callsByStatus['429']).toBeGreaterThan(0);
    expect(answers.slice(20).some((a) => a.statusCode === 202)).toBe(true);
    await h.drain({ maxMs: 60_000 });
    for (const id of theirs) expect(other.state().incidents[id]?.status).toBe('INCIDENT_STATUS_CLOSED');
    expect(other.state().tokenRequests.password).toBe(1);
    // Each tenant's outcomes carry its name (logs, metrics dimension, dead letters).
    expect(new Set(h.outcomes.filter((o) => o.outcome === 'closed').map((o) => o.tenant))).toEqual(
      new Set(['default', 'globex']),
    );
    expect(ESET_USER).not.toBe('globex-api');
    expect(ESET_PASSWORD).not.toBe('globex-pw');
  }, 90_000);
});
