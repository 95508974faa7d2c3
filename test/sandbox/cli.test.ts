import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSandboxCliConfig, SANDBOX_USAGE } from '../../infra/local/eset-sandbox/cli-config';
import { type ChildRun, runTs } from '../local/bridge-process';

const CLI = fileURLToPath(new URL('../../infra/local/eset-sandbox/cli.ts', import.meta.url));

describe('loadSandboxCliConfig', () => {
  it('falls back to the documented defaults', () => {
    expect(loadSandboxCliConfig({})).toEqual({
      port: 4010,
      username: 'sandbox-user',
      password: 'sandbox-password',
      seedIncidents: 5,
    });
  });

  it('reads every variable, including a fault mix', () => {
    const config = loadSandboxCliConfig({
      PORT: '0',
      ESET_USERNAME: 'api@example.com',
      ESET_PASSWORD: 'pw',
      SANDBOX_SEED_INCIDENTS: '0',
      SANDBOX_FAULTS: '{"seed":4,"mix":{"ok":1,"s503":1}}',
    });

    expect(config).toEqual({
      port: 0,
      username: 'api@example.com',
      password: 'pw',
      seedIncidents: 0,
      faults: { seed: 4, mix: { ok: 1, s503: 1 } },
    });
  });

  it('names every malformed variable at once', () => {
    expect(() =>
      loadSandboxCliConfig({ PORT: 'http', SANDBOX_SEED_INCIDENTS: '-1', SANDBOX_FAULTS: '{"seed":1}' }),
    ).toThrow(/PORT.*SANDBOX_SEED_INCIDENTS.*SANDBOX_FAULTS/);
  });

  it('turns on repeat-applies mode from the environment or the flag, and reads the pending delay', () => {
    expect(
      loadSandboxCliConfig({ SANDBOX_REPEAT_APPLIES: '1', SANDBOX_PENDING_DELAY_MS: '30000' }),
    ).toMatchObject({
      repeatApplies: true,
      pendingDelayMs: 30_000,
    });
    expect(loadSandboxCliConfig({}, ['--repeat-applies'])).toMatchObject({ repeatApplies: true });
    expect(loadSandboxCliConfig({ SANDBOX_REPEAT_APPLIES: '0' })).not.toHaveProperty('repeatApplies');
  });

  it('refuses unknown flags and malformed new variables, and answers --help', () => {
    expect(() =>
      loadSandboxCliConfig({ SANDBOX_REPEAT_APPLIES: 'yes', SANDBOX_PENDING_DELAY_MS: '-5' }, ['--repeat']),
    ).toThrow(/SANDBOX_REPEAT_APPLIES.*SANDBOX_PENDING_DELAY_MS.*--repeat/);
    expect(loadSandboxCliConfig({}, ['--help'])).toMatchObject({ help: true });
    for (const name of [
      '--repeat-applies',
      'SANDBOX_REPEAT_APPLIES',
      'SANDBOX_PENDING_DELAY_MS',
      'SANDBOX_FAULTS',
    ]) {
      expect(SANDBOX_USAGE).toContain(name);
    }
  });
});

describe('sandbox CLI', () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  function run(env: Record<string, string>, args: string[] = []): ChildRun {
    const started = runTs(CLI, args, env);
    child = started.proc;
    return started;
  }

  it('prints ready with seeded incidents, logs each call and exits cleanly on SIGTERM', async () => {
    const { proc, lines } = run({ PORT: '0', SANDBOX_SEED_INCIDENTS: '2' }, ['--repeat-applies']);

    const ready = await vi.waitFor(
      () => {
        const line = lines.find((l) => l.startsWith('ready '));
        if (line === undefined) throw new Error('not ready yet');
        return JSON.parse(line.slice('ready '.length)) as {
          url: string;
          username: string;
          userUuid: string;
          incidents: string[];
        };
      },
      { timeout: 20_000, interval: 20 },
    );
    const tokenRes = await fetch(`${ready.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=sandbox-user&password=sandbox-password',
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const read = await fetch(`${ready.url}/v2/incidents/${ready.incidents[0]}`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    const mode = await fetch(`${ready.url}/_sandbox/mode`, { method: 'POST', body: '{}' });
    await vi.waitFor(() => expect(lines).toContain(`GET /v2/incidents/${ready.incidents[0]} -> 200`), {
      timeout: 10_000,
      interval: 10,
    });
    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];

    expect(ready.username).toBe('sandbox-user');
    expect(ready.incidents).toHaveLength(2);
    expect(ready.userUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await mode.json()).toMatchObject({ repeatApplies: true });
    expect(read.status).toBe(200);
    expect(lines).toContain('POST /oauth/token -> 200');
    expect(code).toBe(0);
  });

  it('exits with 1, a readable message and the usage on a bad PORT or flag', async () => {
    const { proc, stderr } = run({ PORT: 'eighty' }, ['--bogus']);

    const [code] = (await once(proc, 'exit')) as [number | null];

    expect(code).toBe(1);
    expect(stderr()).toMatch(/PORT must be an integer.*unknown argument "--bogus"/);
    expect(stderr()).toContain('Usage: npm run sandbox');
  });
});
