import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

/** Runs one of the project's tools as `npm run` does (through tsx), with a bounded time. */
function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'scripts', script), ...args],
      { cwd: root, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the tools answer bad options with the usage, not a stack trace', () => {
  it('npm run chaos -- --help prints the usage and exits 0, without running anything', async () => {
    const r = await run('chaos.ts', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: npm run chaos');
    expect(r.stdout).toContain('--repeat-applies');
    expect(r.stderr).not.toContain('chaos:');
  });

  it.each([
    ['chaos.ts', ['--bogus'], "Unknown option '--bogus'"],
    ['chaos.ts', ['--incidents', '0'], '--incidents must be a positive whole number'],
    ['fuzz.ts', ['--only', 'everything'], '--only is webhook or retry'],
    ['bench.ts', ['--rate', '20'], '--rate: ESET allows at most 10 calls per second'],
  ])('%s %j: exit 2 with the problem and the usage', async (script, args, problem) => {
    const r = await run(script, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(problem);
    expect(r.stderr).toContain('usage: npm run');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
