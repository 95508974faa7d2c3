/**
 * Fault scripting for the ESET sandbox: the step vocabulary, the seeded random mix, and the
 * parsers that turn admin-endpoint JSON into steps. Kept apart from the HTTP server so the
 * draw order (and thus reproducibility) can be reasoned about in one place.
 */

/** HTTP statuses ESET Connect documents for `:close`, minus the ones the sandbox produces itself. */
export const SCRIPTABLE_STATUSES = [400, 403, 404, 429, 500, 502, 503, 504] as const;
export type ScriptableStatus = (typeof SCRIPTABLE_STATUSES)[number];

export type FaultStep =
  | { kind: 'ok' }
  | {
      kind: 'status';
      status: ScriptableStatus;
      retryAfter?: string;
      body?: string;
      contentType?: string;
    }
  | { kind: 'pending'; resendsUntilReady?: number }
  | { kind: 'lostCache' }
  | { kind: 'hang'; ms: number; applied: boolean };

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
  hangMs?: number;
}

export interface FaultConfig {
  seed: number;
  mix: FaultMix;
}

/** Default hold time of a drawn hang: long enough to trip a client timeout, short enough for a demo. */
export const DEFAULT_HANG_MS = 2_000;

/** Longest hold a step may ask for, so a typo cannot park a request for days. */
const MAX_HANG_MS = 600_000;

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
];

/**
 * Returns a function that draws one step per call from the weighted mix. Exactly one random
 * number is consumed per draw (two for a hang, which also draws `applied`), so a given seed
 * always yields the same sequence of steps for the same sequence of close calls.
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
  return { seed, mix: parseFaultMix(value.mix) };
}

/** Validates one scripted step from untrusted JSON, so a bad script fails at upload, not mid-test. */
export function parseFaultStep(value: unknown, label = 'step'): FaultStep {
  if (!isRecord(value)) throw new SandboxInputError(`${label} must be an object`);
  switch (value.kind) {
    case 'ok':
      return { kind: 'ok' };
    case 'lostCache':
      return { kind: 'lostCache' };
    case 'pending': {
      const resends = value.resendsUntilReady;
      return resends === undefined
        ? { kind: 'pending' }
        : {
            kind: 'pending',
            resendsUntilReady: nonNegativeNumber(resends, `${label}.resendsUntilReady`, true),
          };
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
      return step;
    }
    default:
      throw new SandboxInputError(`${label}.kind must be one of ok, status, pending, lostCache, hang`);
  }
}

/** Validates a whole script; see {@link parseFaultStep}. */
export function parseFaultSteps(value: unknown): FaultStep[] {
  if (!Array.isArray(value)) throw new SandboxInputError('steps must be an array');
  return value.map((step, index) => parseFaultStep(step, `steps[${index}]`));
}
