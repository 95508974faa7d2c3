/**
 * Typed errors of the bridge. `expose` marks errors whose message may be shown to the
 * webhook sender; everything else is answered with a generic message (see http/answers.ts).
 */
export class BridgeError extends Error {
  override name = 'BridgeError';
  readonly statusCode: number;
  readonly expose: boolean;
  readonly details?: unknown;

  constructor(
    message: string,
    opts: { statusCode?: number; expose?: boolean; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.statusCode = opts.statusCode ?? 500;
    this.expose = opts.expose ?? this.statusCode < 500;
    this.details = opts.details;
  }
}

/** The request body or its headers are not acceptable (400, 413, 415). */
export class BadRequestError extends BridgeError {
  override name = 'BadRequestError';
}

/** The webhook signature is missing, malformed, expired or wrong (401). */
export class SignatureError extends BridgeError {
  override name = 'SignatureError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { statusCode: 401, expose: true, ...opts });
  }
}

/** A configuration variable is missing or malformed; reported at cold start. */
export class ConfigError extends BridgeError {
  override name = 'ConfigError';
  constructor(message: string, details: unknown) {
    super(message, { statusCode: 500, expose: false, details });
  }
}

/** The retry queue could not store a message: the sender must retry (503). */
export class EnqueueError extends BridgeError {
  override name = 'EnqueueError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { statusCode: 503, expose: true, ...opts });
  }
}

/** Sensible text of an unknown thrown value, without stack. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // The underlying SDK error behind a wrapper (the queue or the store unavailable) says why.
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.name}: ${err.cause.message})` : '';
  return `${err.name}: ${err.message}${cause}`;
}
