import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../functions/clock/clock';
import { EsetClient, type SendOptions } from '../../functions/eset/client';
import { TokenProvider } from '../../functions/eset/token-provider';
import { DynamoIncidentStore } from '../../functions/incidents/dynamodb-store';
import { RateLimiter } from '../../functions/pacing/rate-limiter';
import { SyncEngine, type SyncReport } from '../../functions/sync/engine';
import type { EsetIncident } from '../../functions/sync/eset-incidents';
import { StoredNotices } from '../../functions/sync/notices';
import { DynamoDocStore } from '../../functions/sync/state';
import { type News, type SyncTarget, TargetError, type TicketRef } from '../../functions/sync/target';
import { createEsetSandbox, type EsetSandbox } from '../../infra/local/eset-sandbox/sandbox';
import { type LocalStateStore, startLocalStateStore } from '../../infra/local/state-store';
import { newIncident } from './helpers';

/**
 * The engine against the ESET sandbox and dynalite, with a recording target: paging, the
 * watermark (saved per page, held by an incident not told yet, resumed after a run cut short),
 * the bootstrap without a watermark, giving up after repeated refusals, and the budget's priority.
 */
class RecordingTarget implements SyncTarget {
  readonly name = 'webhook' as const;
  readonly changesStatus = false;
  readonly repeatSafe = true;
  created: string[] = [];
  told: { key: string; news: News['kind']; id: string }[] = [];
  /** Answers for the next creates: an error to throw, or undefined to succeed. */
  failCreate = new Map<string, TargetError>();
  onCreate?: () => void;

  async start() {
    return {};
  }
  async find() {
    return undefined;
  }
  async create(incident: EsetIncident): Promise<TicketRef> {
    this.onCreate?.();
    const err = this.failCreate.get(incident.uuid);
    if (err) throw err;
    this.created.push(incident.uuid);
    return { key: incident.uuid };
  }
  async tell(ref: TicketRef, news: News) {
    this.told.push({ key: ref.key, news: news.kind, id: news.id });
  }
}

let sandbox: EsetSandbox;
let state: LocalStateStore;
let target: RecordingTarget;
let calls: { path: string; priority: SendOptions['priority'] }[];
let clockOffset: number;
let tenant: string;

beforeAll(async () => {
  sandbox = await createEsetSandbox({ rateLimitPerSecond: 0 });
  state = await startLocalStateStore();
});
afterAll(async () => {
  await sandbox?.close();
  await state?.close();
});
beforeEach(() => {
  target = new RecordingTarget();
  calls = [];
  clockOffset = 0;
  tenant = `t${Math.random().toString(36).slice(2, 8)}`;
});
afterEach(() => sandbox.reset());

const clock = { now: () => Date.now() + clockOffset, sleep: systemClock.sleep };

function engine(opts: { pageSize?: number; overlapMs?: number } = {}): SyncEngine {
  const tokens = new TokenProvider({
    authUrl: sandbox.url,
    credentials: async () => ({ username: 'sandbox-user', password: 'sandbox-password' }),
    clock,
    timeoutMs: 2000,
    integrationName: 'test',
  });
  const client = new EsetClient({
    apiUrl: sandbox.url,
    tokens,
    pacer: new RateLimiter(100, clock),
    clock,
    integrationName: 'test',
  });
  const docs = new DynamoDocStore({ table: state.tableName, client: state.client });
  return new SyncEngine({
    eset: {
      send: (req, options) => {
        calls.push({ path: req.path, priority: options.priority });
        return client.send(req, options);
      },
    },
    incidents: new DynamoIncidentStore({ table: state.tableName, client: state.client }),
    docs,
    notices: new StoredNotices(docs),
    target,
    clock,
    tenant,
    minSeverity: 'MEDIUM',
    esetTimeoutMs: 2000,
    ...opts,
  });
}

const run = (e: SyncEngine, ms = 60_000): Promise<SyncReport> => e.run({ deadline: clock.now() + ms });
const lists = () => calls.filter((c) => c.path.startsWith('/v2/incidents?'));
const filterOf = (path: string) => new URL(path, 'http://x').searchParams.get('filter');

describe('SyncEngine', () => {
  it('reads every page, opens each ticket once and moves the watermark to the run start', async () => {
    // Prepare
    const ids = Array.from({ length: 25 }, () => newIncident(sandbox));
    const e = engine({ pageSize: 10, overlapMs: 0 });

    // Act
    const first = await run(e);
    const second = await run(e);

    // Assess
    expect(first).toMatchObject({ complete: true, pages: 3, listed: 25, created: 25 });
    expect(new Set(target.created)).toEqual(new Set(ids));
    expect(first.watermark).toBe(new Date(first.startedAt).toISOString());
    expect(filterOf(lists()[0]?.path ?? '')).toBe('status != "INCIDENT_STATUS_CLOSED"');
    expect(filterOf(lists()[3]?.path ?? '')).toBe(`update_time >= timestamp("${first.watermark}")`);
    // Incidents made in the run's first millisecond are read again (`>=`), and left alone.
    expect(second).toMatchObject({ complete: true, created: 0 });
    expect(second.unchanged).toBe(second.listed);
    expect(calls.every((c) => c.priority === 'sync')).toBe(true);
    expect(target.created).toHaveLength(25);
  });

  it('reads comments only for incidents that changed since they were told, and tells only what is new', async () => {
    // Prepare
    const [a, b] = [newIncident(sandbox), newIncident(sandbox)];
    const e = engine();
    await run(e);
    calls = [];

    // Act
    sandbox.consoleComment(a as string, 'Host isolated.');
    const report = await run(e);

    // Assess
    expect(report).toMatchObject({ unchanged: 1, told: { commented: 1 } });
    expect(calls.filter((c) => c.path.endsWith('/comments'))).toEqual([
      { path: `/v2/incidents/${a}/comments`, priority: 'sync' },
    ]);
    expect(target.told).toEqual([{ key: a, news: 'commented', id: expect.stringMatching(/^comment:/) }]);
    expect(b).toBeDefined();
  });

  it('holds the watermark at an incident it could not tell yet, and tells it on the next run', async () => {
    // Prepare
    const [first, stuck, last] = [newIncident(sandbox), newIncident(sandbox), newIncident(sandbox)];
    target.failCreate.set(stuck as string, new TargetError('transient', 'Jira answered 503'));
    const e = engine({ overlapMs: 0 });

    // Act
    const held = await run(e);
    target.failCreate.clear();
    const next = await run(e);

    // Assess
    const stuckTime = sandbox.state().incidents[stuck as string]?.updateTime;
    expect(held).toMatchObject({ complete: true, created: 2, retry: 1, watermark: stuckTime });
    expect(next).toMatchObject({ complete: true, created: 1 });
    expect(target.created.slice(-1)).toEqual([stuck]);
    expect(new Set(target.created)).toEqual(new Set([first, last, stuck]));
    expect(next.watermark).toBe(new Date(next.startedAt).toISOString());
  });

  it('gives up after three refusals so one bad incident cannot hold the watermark for ever', async () => {
    // Prepare
    const bad = newIncident(sandbox);
    target.failCreate.set(bad, new TargetError('permanent', 'Jira answered 400: issue type unknown'));
    const e = engine({ overlapMs: 0 });

    // Act
    const reports = [await run(e), await run(e), await run(e), await run(e)];

    // Assess
    expect(reports.map((r) => r.retry)).toEqual([1, 1, 0, 0]);
    expect(reports.map((r) => r.gaveUp)).toEqual([0, 0, 1, 0]);
    expect(reports[3]?.watermark).toBe(new Date(reports[3]?.startedAt ?? 0).toISOString());
  });

  it('stops when its time is up, saving where it stopped, and the next run carries on', async () => {
    // Prepare: every ticket takes two seconds of the run's (fake) time.
    const ids = Array.from({ length: 6 }, () => newIncident(sandbox));
    const e = engine({ pageSize: 2, overlapMs: 0 });
    await run(e); // the bootstrap: all six
    const more = Array.from({ length: 6 }, () => newIncident(sandbox));
    target.onCreate = () => {
      clockOffset += 2_000;
    };

    // Act
    const cut = await run(e, 12_000);
    target.onCreate = undefined;
    const rest = await run(e);

    // Assess
    expect(cut.complete).toBe(false);
    expect(cut.stoppedBy).toContain('time');
    expect(cut.created).toBeGreaterThan(0);
    expect(cut.created).toBeLessThan(6);
    expect(rest).toMatchObject({ complete: true, created: 6 - cut.created });
    expect(target.created).toHaveLength(12);
    expect(new Set(target.created)).toEqual(new Set([...ids, ...more]));
  });

  it('lets one run at a time work: a second one at once does nothing', async () => {
    newIncident(sandbox);
    const e = engine();
    const [a, b] = await Promise.all([run(e), run(e)]);
    expect([a.busy, b.busy].filter(Boolean)).toHaveLength(1);
    expect(target.created).toHaveLength(1);
  });

  it('opens no ticket for an incident below the minimum severity or closed when first seen', async () => {
    newIncident(sandbox, { severity: 'LOW' });
    newIncident(sandbox, { status: 'closed' });
    const open = newIncident(sandbox, { severity: 'MEDIUM' });
    const e = engine();
    await run(e);
    const report = await run(e);
    expect(target.created).toEqual([open]);
    expect(report.created).toBe(0);
  });
});
