/**
 * Fault scripting for the ESET sandbox: the step vocabulary, the seeded random mix, and the
 * parsers that turn admin-endpoint JSON into steps. Kept apart from the HTTP server so the
 * draw order (and thus reproducibility) can be reasoned about in one place.
 *
 * A step decides how the sandbox answers one call. Per-incident scripts and, by default, the
 * random mix apply to the mutating calls (close, reopen, comment creation); with the mix's
 * `scope: 'all'` the mix also applies to every other API call (reads, lists, comment reads,
 * text updates and deletes).
 */

/** HTTP statuses ESET Connect documents for its calls, minus the ones the sandbox produces itself. */
export const SCRIPTABLE_STATUSES = [400, 403, 404, 429, 500, 502, 503, 504] as const;
export type ScriptableStatus = (typeof SCRIPTABLE_STATUSES)[number];

/** Statuses a step may answer after applying the call: server errors that do not mean "not done". */
export const APPLIED_STATUSES = [500, 502, 503, 504] as const;

/** Redirects a misconfigured proxy or an SSO gateway in front of ESET might answer. */
export const REDIRECT_STATUSES = [301, 302, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

/** Options any step may carry. */
export interface StepOptions {
  /**
   * Length of the `request-id` header answered with this step (normally a 36-character UUID),
   * so tests can check that a client clips header values before logging or storing them.
   */
  requestIdLength?: number;
}

export type FaultStep = (
  | { kind: 'ok' }
  | {
      kind: 'status';
      status: ScriptableStatus;
      retryAfter?: string;
      body?: string;
      contentType?: string;
      /** Apply the call, then answer the status (5xx only): a failure ESET did act on. */
      applied?: boolean;
    }
  | {
      kind: 'pending';
      /** Re-sends answered 202 before the real answer; default 1. */
      resendsUntilReady?: number;
      /** How long the first request is held before its 202; default the sandbox's `pendingDelayMs`. */
      delayMs?: number;
    }
  | { kind: 'lostCache' }
  | { kind: 'hang'; ms: number; applied: boolean }
  | {
      kind: 'redirect';
      status: RedirectStatus;
      /** Default: an HTML login page on the sandbox, which answers 200 to any method. */
      location?: string;
    }
) &
  StepOptions;

/** Relative weights; `hangMs` is not a weight but the hold time of drawn hangs. */
export interface FaultMix {
  ok: number;
  pending?: number;
  lostCache?: number;
  s429?: number;
  s500?: number;
  s503?: number;
  s504?: number;
  hang?: number;
  /** A 500 answered after the call was applied. */
  applied500?: number;
  hangMs?: number;
}

/** Which calls the random mix applies to; scripts always apply to mutating calls only. */
export type FaultScope = 'writes' | 'all';

export interface FaultConfig {
  seed: number;
  mix: FaultMix;
  /** Default `'writes'`: close, reopen and comment creation. `'all'`: every API call. */
  scope?: FaultScope;
}

/** Default hold time of a drawn hang: long enough to trip a client timeout, short enough for a demo. */
export const DEFAULT_HANG_MS = 2_000;

/** Longest hold a step may ask for, so a typo cannot park a request for days. */
const MAX_HANG_MS = 600_000;

/** Longest `request-id` a step may ask for; well under Node's 16 KiB header limit. */
export const MAX_REQUEST_ID_LENGTH = 8_000;

/** Raised when admin input or options do not describe a valid step, mix or incident. */
export class SandboxInputError extends Error {
  override readonly name = 'SandboxInputError';
}

/**
 * A tiny seeded PRNG (mulberry32). The sandbox needs the same seed to give the same fault
 * sequence on every machine and Node version, which Math.random cannot promise.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type WeightKey = Exclude<keyof FaultMix, 'hangMs'>;
const WEIGHT_KEYS: readonly WeightKey[] = [
  'ok',
  'pending',
  'lostCache',
  's429',
  's500',
  's503',
  's504',
  'hang',
  // New weights go last: the cumulative walk below then draws the same steps as before for a
  // mix that does not use them.
  'applied500',
];

/**
 * Returns a function that draws one step per call from the weighted mix. Exactly one random
 * number is consumed per draw (two for a hang, which also draws `applied`), so a given seed
 * always yields the same sequence of steps for the same sequence of faultable calls.
 */
export function createFaultDrawer(config: FaultConfig): () => FaultStep {
  const mix = parseFaultMix(config.mix);
  const random = createRandom(config.seed);
  const total = WEIGHT_KEYS.reduce((sum, key) => sum + (mix[key] ?? 0), 0);
  const hangMs = mix.hangMs ?? DEFAULT_HANG_MS;
  return () => {
    let point = random() * total;
    let chosen: WeightKey = 'ok';
    for (const key of WEIGHT_KEYS) {
      const weight = mix[key] ?? 0;
      if (weight <= 0) continue;
      chosen = key;
      if (point < weight) break;
      point -= weight;
    }
    return stepFor(chosen, hangMs, random);
  };
}

function stepFor(key: WeightKey, hangMs: number, random: () => number): FaultStep {
  switch (key) {
    case 'ok':
      return { kind: 'ok' };
    case 'pending':
      return { kind: 'pending', resendsUntilReady: 1 };
    case 'lostCache':
      return { kind: 'lostCache' };
    case 's429':
      return { kind: 'status', status: 429 };
    case 's500':
      return { kind: 'status', status: 500 };
    case 's503':
      return { kind: 'status', status: 503 };
    case 's504':
      return { kind: 'status', status: 504 };
    case 'hang':
      return { kind: 'hang', ms: hangMs, applied: random() < 0.5 };
    case 'applied500':
      return { kind: 'status', status: 500, applied: true };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegativeNumber(value: unknown, label: string, integer = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new SandboxInputError(`${label} must be a non-negative ${integer ? 'integer' : 'number'}`);
  }
  return value;
}

function optionalString(value: unknown, label: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new SandboxInputError(`${label} must be a string`);
  return value;
}

/**
 * Validates a fault mix from untrusted JSON. Rejects an all-zero mix because drawing from it
 * would silently mean "always ok", which is never what a caller asking for faults wants.
 */
export function parseFaultMix(value: unknown): FaultMix {
  if (!isRecord(value)) throw new SandboxInputError('mix must be an object');
  const mix: FaultMix = { ok: 0 };
  for (const key of Object.keys(value)) {
    if (key !== 'hangMs' && !WEIGHT_KEYS.includes(key as WeightKey)) {
      throw new SandboxInputError(`mix.${key} is not a known weight`);
    }
  }
  for (const key of WEIGHT_KEYS) {
    const weight = value[key];
    if (weight !== undefined) mix[key] = nonNegativeNumber(weight, `mix.${key}`);
  }
  if (value.hangMs !== undefined) {
    mix.hangMs = Math.min(nonNegativeNumber(value.hangMs, 'mix.hangMs', true), MAX_HANG_MS);
  }
  if (WEIGHT_KEYS.every((key) => (mix[key] ?? 0) === 0)) {
    throw new SandboxInputError('mix needs at least one positive weight');
  }
  return mix;
}

/** Validates `{seed, mix}` from untrusted JSON (admin endpoint, CLI environment). */
export function parseFaultConfig(value: unknown): FaultConfig {
  if (!isRecord(value)) throw new SandboxInputError('faults must be an object {seed, mix}');
  const seed = value.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new SandboxInputError('faults.seed must be an integer');
  }
  const config: FaultConfig = { seed, mix: parseFaultMix(value.mix) };
  if (value.scope !== undefined) {
    if (value.scope !== 'writes' && value.scope !== 'all') {
      throw new SandboxInputError("faults.scope must be 'writes' or 'all'");
    }
    config.scope = value.scope;
  }
  const extra = Object.keys(value).find((key) => !['seed', 'mix', 'scope'].includes(key));
  if (extra !== undefined) throw new SandboxInputError(`faults.${extra} is not a known field`);
  return config;
}

const STEP_FIELDS: Record<FaultStep['kind'], readonly string[]> = {
  ok: [],
  lostCache: [],
  pending: ['resendsUntilReady', 'delayMs'],
  hang: ['ms', 'applied'],
  status: ['status', 'retryAfter', 'body', 'contentType', 'applied'],
  redirect: ['status', 'location'],
};

/** Validates one scripted step from untrusted JSON, so a bad script fails at upload, not mid-test. */
export function parseFaultStep(value: unknown, label = 'step'): FaultStep {
  if (!isRecord(value)) throw new SandboxInputError(`${label} must be an object`);
  const kind = value.kind as FaultStep['kind'];
  const fields = Object.hasOwn(STEP_FIELDS, String(kind)) ? STEP_FIELDS[kind] : undefined;
  if (fields === undefined) {
    throw new SandboxInputError(`${label}.kind must be one of ${Object.keys(STEP_FIELDS).join(', ')}`);
  }
  // A misspelt option would otherwise be dropped silently and the test would test something else.
  const extra = Object.keys(value).find(
    (key) => key !== 'kind' && key !== 'requestIdLength' && !fields.includes(key),
  );
  if (extra !== undefined) throw new SandboxInputError(`${label}.${extra} is not an option of ${kind}`);
  const step = parseStepBody(value, kind, label);
  if (value.requestIdLength !== undefined) {
    const length = nonNegativeNumber(value.requestIdLength, `${label}.requestIdLength`, true);
    if (length < 1 || length > MAX_REQUEST_ID_LENGTH) {
      throw new SandboxInputError(`${label}.requestIdLength must be from 1 to ${MAX_REQUEST_ID_LENGTH}`);
    }
    step.requestIdLength = length;
  }
  return step;
}

function parseStepBody(value: Record<string, unknown>, kind: FaultStep['kind'], label: string): FaultStep {
  switch (kind) {
    case 'ok':
      return { kind: 'ok' };
    case 'lostCache':
      return { kind: 'lostCache' };
    case 'pending': {
      const step: FaultStep = { kind: 'pending' };
      if (value.resendsUntilReady !== undefined) {
        step.resendsUntilReady = nonNegativeNumber(
          value.resendsUntilReady,
          `${label}.resendsUntilReady`,
          true,
        );
      }
      if (value.delayMs !== undefined) {
        const delayMs = nonNegativeNumber(value.delayMs, `${label}.delayMs`, true);
        if (delayMs > MAX_HANG_MS)
          throw new SandboxInputError(`${label}.delayMs must be at most ${MAX_HANG_MS}`);
        step.delayMs = delayMs;
      }
      return step;
    }
    case 'hang': {
      if (typeof value.applied !== 'boolean')
        throw new SandboxInputError(`${label}.applied must be a boolean`);
      const ms = nonNegativeNumber(value.ms, `${label}.ms`, true);
      if (ms > MAX_HANG_MS) throw new SandboxInputError(`${label}.ms must be at most ${MAX_HANG_MS}`);
      return { kind: 'hang', ms, applied: value.applied };
    }
    case 'status': {
      const status = value.status;
      if (!SCRIPTABLE_STATUSES.includes(status as ScriptableStatus)) {
        throw new SandboxInputError(`${label}.status must be one of ${SCRIPTABLE_STATUSES.join(', ')}`);
      }
      const step: FaultStep = { kind: 'status', status: status as ScriptableStatus };
      const retryAfter = optionalString(value.retryAfter, `${label}.retryAfter`);
      const body = optionalString(value.body, `${label}.body`);
      const contentType = optionalString(value.contentType, `${label}.contentType`);
      if (retryAfter !== undefined) step.retryAfter = retryAfter;
      if (body !== undefined) step.body = body;
      if (contentType !== undefined) step.contentType = contentType;
      if (value.applied !== undefined) {
        if (typeof value.applied !== 'boolean')
          throw new SandboxInputError(`${label}.applied must be a boolean`);
        if (value.applied && !(APPLIED_STATUSES as readonly number[]).includes(step.status)) {
          throw new SandboxInputError(`${label}.applied needs a status of ${APPLIED_STATUSES.join(', ')}`);
        }
        step.applied = value.applied;
      }
      return step;
    }
    case 'redirect': {
      const status = value.status;
      if (!REDIRECT_STATUSES.includes(status as RedirectStatus)) {
        throw new SandboxInputError(`${label}.status must be one of ${REDIRECT_STATUSES.join(', ')}`);
      }
      const step: FaultStep = { kind: 'redirect', status: status as RedirectStatus };
      const location = optionalString(value.location, `${label}.location`);
      if (location !== undefined) {
        if (location === '' || /[\r\n]/.test(location)) {
          throw new SandboxInputError(`${label}.location must be a non-empty single line`);
        }
        step.location = location;
      }
      return step;
    }
  }
}

/** Validates a whole script; see {@link parseFaultStep}. */
export function parseFaultSteps(value: unknown): FaultStep[] {
  if (!Array.isArray(value)) throw new SandboxInputError('steps must be an array');
  return value.map((step, index) => parseFaultStep(step, `steps[${index}]`));
}
