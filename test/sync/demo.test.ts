import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncDemo } from '../../infra/local/demo-sync';
import { type Runtime, readyInfo, startRuntime } from '../../infra/local/runtime';

/** `SYNC_TARGET=jira npm start` (in-process, as the runtime tests start it) and `npm run demo -- --sync` against it. */
describe('SYNC_TARGET=jira npm start with npm run demo -- --sync', () => {
  let rt: Runtime;

  beforeAll(async () => {
    rt = await startRuntime({
      env: { SYNC_TARGET: 'jira' },
      port: 0,
      seedIncidents: 0,
      logLevel: 'SILENT',
      timing: 'fast',
      retryConcurrency: 1,
    });
  });

  afterAll(async () => {
    await rt?.stop();
  });

  it('names the sync and the embedded Jira stand-in in the ready line', () => {
    expect(readyInfo(rt).sync).toEqual({
      target: 'jira',
      intervalSeconds: 60,
      jiraUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      jiraProjectKey: 'SEC',
    });
  });

  it('walks the whole loop and every step holds', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });

    const code = await syncDemo(rt.webhookUrl);

    expect(code, lines.join('\n')).toBe(0);
    expect(lines.filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(lines.filter((l) => l.includes('  ok ')).length).toBeGreaterThanOrEqual(12);
    expect(lines.at(-1)).toBe('\nsummary: every step as expected');
  });
});
