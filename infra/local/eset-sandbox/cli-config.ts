/**
 * Environment and flag parsing for the sandbox CLI, kept pure and apart from `cli.ts` so it can
 * be tested without starting a process.
 */
import { type FaultConfig, parseFaultConfig, SandboxInputError } from './faults';

export interface SandboxCliConfig {
  port: number;
  username: string;
  password: string;
  seedIncidents: number;
  faults?: FaultConfig;
  /** Set only when on (SANDBOX_REPEAT_APPLIES=1 or --repeat-applies). */
  repeatApplies?: true;
  /** Set only when given (SANDBOX_PENDING_DELAY_MS). */
  pendingDelayMs?: number;
  /** --help: print {@link SANDBOX_USAGE} and exit. */
  help?: true;
}

/** What `npm run sandbox -- --help` prints. */
export const SANDBOX_USAGE = `Usage: npm run sandbox [-- [--repeat-applies] [--help]]

A local stand-in for ESET Connect: token endpoint, incidents (get, list, close, reopen,
comments) and admin endpoints under /_sandbox/ (state, incidents, script, faults, mode,
console/close|reopen|comment, expire-tokens, reset). Prints "ready {json}", then one line per call.

Flags:
  --repeat-applies   apply every repeated close, reopen or comment again and answer 200
                     (default: a close of a closed or a reopen of an open incident answers 400)
  --help             print this text

Environment:
  PORT                       port on 127.0.0.1 (default 4010; 0 picks a free one)
  ESET_USERNAME, ESET_PASSWORD
                             the API user (default sandbox-user / sandbox-password)
  SANDBOX_SEED_INCIDENTS     open incidents created at start (default 5)
  SANDBOX_FAULTS             seeded random mix, e.g. {"seed":1,"mix":{"ok":6,"s503":2,"pending":1},"scope":"writes"}
  SANDBOX_REPEAT_APPLIES     1 (or true) for --repeat-applies
  SANDBOX_PENDING_DELAY_MS   how long a pending step holds a request before its 202 (default 0)`;

const MAX_SEED_INCIDENTS = 10_000;
const MAX_PENDING_DELAY_MS = 600_000;

function integerIn(raw: string | undefined, name: string, fallback: number, max: number, problems: string[]) {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    problems.push(`${name} must be an integer from 0 to ${max} (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return value;
}

/**
 * Reads PORT, ESET_USERNAME, ESET_PASSWORD, SANDBOX_SEED_INCIDENTS, SANDBOX_FAULTS (JSON
 * `{"seed":1,"mix":{...}}`), SANDBOX_REPEAT_APPLIES and SANDBOX_PENDING_DELAY_MS, and the flags
 * `--repeat-applies` and `--help`, in one pass, and names every bad one at once, so a
 * misconfigured `npm run sandbox` fails with one readable message instead of a stack trace.
 */
export function loadSandboxCliConfig(
  env: NodeJS.ProcessEnv = process.env,
  args: readonly string[] = [],
): SandboxCliConfig {
  const problems: string[] = [];
  const port = integerIn(env.PORT, 'PORT', 4010, 65_535, problems);
  const seedIncidents = integerIn(
    env.SANDBOX_SEED_INCIDENTS,
    'SANDBOX_SEED_INCIDENTS',
    5,
    MAX_SEED_INCIDENTS,
    problems,
  );
  const config: SandboxCliConfig = {
    port,
    username: env.ESET_USERNAME || 'sandbox-user',
    password: env.ESET_PASSWORD || 'sandbox-password',
    seedIncidents,
  };
  const rawFaults = env.SANDBOX_FAULTS;
  if (rawFaults !== undefined && rawFaults.trim() !== '') {
    try {
      config.faults = parseFaultConfig(JSON.parse(rawFaults));
    } catch (error) {
      const reason =
        error instanceof SandboxInputError || error instanceof SyntaxError ? error.message : 'invalid';
      problems.push(`SANDBOX_FAULTS: ${reason}`);
    }
  }
  const repeat = (env.SANDBOX_REPEAT_APPLIES ?? '').trim().toLowerCase();
  if (repeat === '1' || repeat === 'true') config.repeatApplies = true;
  else if (repeat !== '' && repeat !== '0' && repeat !== 'false') {
    problems.push(
      `SANDBOX_REPEAT_APPLIES must be 1 or 0 (got ${JSON.stringify(env.SANDBOX_REPEAT_APPLIES)})`,
    );
  }
  if (env.SANDBOX_PENDING_DELAY_MS !== undefined && env.SANDBOX_PENDING_DELAY_MS.trim() !== '') {
    config.pendingDelayMs = integerIn(
      env.SANDBOX_PENDING_DELAY_MS,
      'SANDBOX_PENDING_DELAY_MS',
      0,
      MAX_PENDING_DELAY_MS,
      problems,
    );
  }
  for (const arg of args) {
    if (arg === '--repeat-applies') config.repeatApplies = true;
    else if (arg === '--help' || arg === '-h') config.help = true;
    else problems.push(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (problems.length > 0)
    throw new SandboxInputError(`Invalid sandbox configuration: ${problems.join('; ')}`);
  return config;
}
