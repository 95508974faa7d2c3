import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BridgeProcess, DEMO, type ReadyInfo, runTs, spawnBridge } from './bridge-process';

describe('SYNC_TARGET=jira npm start: the sync with an embedded Jira stand-in', () => {
  let bridge: BridgeProcess;
  let ready: ReadyInfo;

  beforeAll(async () => {
    bridge = spawnBridge({ SYNC_TARGET: 'jira', SANDBOX_SEED_INCIDENTS: '0' });
    ready = await bridge.ready;
  });

  afterAll(() => bridge?.kill());

  it('prints the sync and the stand-in in the ready line', () => {
    expect(ready.sync).toEqual({
      target: 'jira',
      intervalSeconds: 60,
      jiraUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      jiraProjectKey: 'SEC',
    });
  });

  it('npm run demo -- --sync walks the whole loop and every step holds', async () => {
    const demo = runTs(DEMO, ['--sync', '--url', ready.webhookUrl], {});
    const code = await demo.exited;

    expect(code, demo.lines.join('\n')).toBe(0);
    expect(demo.lines.filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(demo.lines.at(-1)).toBe('summary: every step as expected');
    expect(bridge.lines.some((l) => /told closed +SEC-\d+ +\[sync\]/.test(l))).toBe(true);
  });
});
