import { describe, expect, it } from 'vitest';
import { measureSync } from '../../scripts/bench/sync';

/** A tiny run of `npm run bench -- --sync`, so it keeps working; the figures are the machine's. */
describe('the sync benchmark', () => {
  it('counts ESET and Jira calls per run: one list page, a comment read per changed incident, no duplicate', async () => {
    // Act
    const r = await measureSync({ incidents: 20, changed: 4, rateLimit: 10 });

    // Assess
    expect(r.duplicates).toBe(0);
    expect(r.runs.map((run) => run.created)).toEqual([20, 0, 0, 0]);
    expect(r.runs.map((run) => run.esetCalls.list)).toEqual([1, 1, 1, 1]);
    expect(r.runs.map((run) => run.esetCalls.comments)).toEqual([0, 0, 0, 4]);
    expect(r.runs[3]?.told).toMatchObject({ closed: 2, commented: 2 });
    expect(r.runs.every((run) => run.complete && run.lagSeconds >= 0)).toBe(true);
  });
});
