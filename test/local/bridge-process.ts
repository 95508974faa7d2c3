/**
 * Runs `npm start`'s entry (infra/local/start.ts) as a child process, the way a user runs it, and
 * reads its `ready {json}` line and outcome lines. Node runs tsx directly (not through npm) so a
 * signal reaches the bridge itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { signedHeaders } from '../../infra/local/events';
import type { ReadyInfo } from '../../infra/local/runtime';

export const START = fileURLToPath(new URL('../../infra/local/start.ts', import.meta.url));
export const SEND = fileURLToPath(new URL('../../infra/local/send.ts', import.meta.url));
export const DEMO = fileURLToPath(new URL('../../infra/local/demo.ts', import.meta.url));

export type { ReadyInfo } from '../../infra/local/runtime';

/** Variables of the parent that would change what the child does; the tests set their own. */
const INHERITED_CONFIG =
  /^(ESET_|WEBHOOK_|RETRY_|DEAD_LETTER_|PENDING_|SANDBOX_|POWERTOOLS_|AWS_ENDPOINT_URL|SYNC_|JIRA_|SENDERS_)/;
const LOCAL_NAMES = new Set(['PORT', 'HOST', 'QUEUE_PREFIX', 'MAX_BODY_BYTES']);

export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !INHERITED_CONFIG.test(k) && !LOCAL_NAMES.has(k)),
  );
  return { ...base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env };
}

export interface ChildRun {
  proc: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns a TypeScript entry under tsx and collects its stdout lines. */
export function runTs(file: string, args: string[], env: Record<string, string>): ChildRun {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffer = '';
  let errors = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  proc.stdout?.on('end', () => {
    if (buffer !== '') lines.push(buffer);
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk;
  });
  const exited = (async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    const [code] = (await once(proc, 'close')) as [number | null];
    return code;
  })();
  return { proc, lines, stderr: () => errors, exited };
}

/** Polls `probe` until it returns a value (not undefined), at most `timeoutMs`. */
export async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface BridgeProcess extends ChildRun {
  ready: Promise<ReadyInfo>;
  /** The first line matching, waiting for it at most `timeoutMs`. */
  line(match: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Hard stop for afterEach / afterAll. */
  kill(): void;
}

export function spawnBridge(env: Record<string, string>): BridgeProcess {
  // Tests ask for the demo timings; the deployed budgets are covered in-process (runtime.test.ts).
  const run = runTs(START, [], { PORT: '0', LOCAL_TIMING: 'fast', ...env });
  const line = (match: RegExp, timeoutMs = 15_000) =>
    until(
      () => {
        const found = run.lines.find((l) => match.test(l));
        if (found === undefined && run.proc.exitCode !== null) {
          throw new Error(
            `the bridge exited (${run.proc.exitCode}) before printing ${match}: ${run.stderr()}`,
          );
        }
        return found;
      },
      `a line matching ${match}`,
      timeoutMs,
    );
  const ready = line(/^ready /, 25_000).then((l) => JSON.parse(l.slice('ready '.length)) as ReadyInfo);
  ready.catch(() => {});
  return {
    ...run,
    ready,
    line,
    stop: async (signal = 'SIGTERM') => {
      run.proc.kill(signal);
      return run.exited;
    },
    kill: () => {
      if (run.proc.exitCode === null && run.proc.signalCode === null) run.proc.kill('SIGKILL');
    },
  };
}

/** Posts a signed close request (Standard Webhooks) to the bridge. */
export async function postClose(
  webhookUrl: string,
  secret: string,
  incidentUuid: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify({
    incidentUuid,
    closureReason: 'false-positive',
    comment: 'Benign admin tool, ticket closed.',
    ...extra,
  });
  const res = await fetch(webhookUrl, { method: 'POST', headers: signedHeaders(body, { secret }), body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Sandbox admin calls over HTTP, as a user of `npm start` would make them. */
export const admin = {
  async state(esetApiUrl: string) {
    const res = await fetch(`${esetApiUrl}/_sandbox/state`);
    return (await res.json()) as {
      incidents: Record<string, { status: string; closesApplied: number; resolveReason?: string }>;
      calls: { path: string; status: number; responseIdResend: boolean }[];
    };
  },
  async post(esetApiUrl: string, path: string, body: unknown): Promise<void> {
    const res = await fetch(`${esetApiUrl}/_sandbox/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox ${path} answered ${res.status}: ${await res.text()}`);
  },
};
