/**
 * Environment parsing for the sandbox CLI, kept pure and apart from `cli.ts` so it can be
 * tested without starting a process.
 */
import { type FaultConfig, parseFaultConfig, SandboxInputError } from './faults';

export interface SandboxCliConfig {
  port: number;
  username: string;
  password: string;
  seedIncidents: number;
  faults?: FaultConfig;
}

const MAX_SEED_INCIDENTS = 10_000;

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
 * Reads PORT, ESET_USERNAME, ESET_PASSWORD, SANDBOX_SEED_INCIDENTS and SANDBOX_FAULTS (JSON
 * `{"seed":1,"mix":{...}}`) in one pass and names every bad variable at once, so a
 * misconfigured `npm run sandbox` fails with one readable message instead of a stack trace.
 */
export function loadSandboxCliConfig(env: NodeJS.ProcessEnv = process.env): SandboxCliConfig {
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
  if (problems.length > 0)
    throw new SandboxInputError(`Invalid sandbox configuration: ${problems.join('; ')}`);
  return config;
}
