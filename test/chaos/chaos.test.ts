import { describe, expect, it } from 'vitest';
import { runChaos } from '../../scripts/chaos/run';

// A small version of `npm run chaos`: the bridge as a child process, the sandbox's fault mix,
// and the account at the end. The full runs (1,000 closes) are `npm run chaos [-- --crash]`.
describe('chaos run', () => {
  it('ends every incident in its latest event, every comment once, when ESET applies every repeat again', async () => {
    // Closes, reopens and comments, shuffled so many arrive out of order, under the fault mix.
    const report = await runChaos({ incidents: 16, senders: 8, seed: 7, repeatApplies: true, mixed: true });
    expect(report.accepted).toBe(16);
    expect(report.settled).toBe(true);
    expect(report.mixed?.events).toBeGreaterThan(24);
    expect(report.mixed).toMatchObject({ wrongFinalState: 0, commentsMissing: 0, commentsDoubled: 0 });
    expect(report.lost).toBe(0);
    // The mix did inject faults: the run is not a plain happy path.
    expect(Object.keys(report.esetCallsByStatus).length).toBeGreaterThan(3);
  }, 120_000);

  it('loses nothing when the bridge is killed with SIGKILL mid-run and restarted', async () => {
    const report = await runChaos({ incidents: 24, senders: 8, seed: 11, crashAt: 0.4 });
    expect(report.crashes).toBe(1);
    expect(report.accepted).toBe(24);
    expect(report.settled).toBe(true);
    expect(report.lost).toBe(0);
    expect(report.closedMoreThanOnce).toBe(0);
  }, 120_000);
});
