/**
 * What one ESET call produced. `not-sent`: nothing reached ESET (safe to send again).
 * `lost`: the request may have reached ESET but no answer came (timeout, broken connection),
 * so ESET may still apply it.
 */
export type EsetAnswer =
  | {
      kind: 'response';
      status: number;
      requestId?: string;
      responseId?: string;
      /** ESET answered 202 with a `response-id` too long to store and re-send faithfully. */
      responseIdUnusable?: boolean;
      retryAfter?: string;
      /** A redirect's target (never followed), clipped. */
      location?: string;
      /** A short, sanitised reason taken from the error body (JSON `message`/`error`, or text). */
      reason?: string;
      json?: unknown;
      latencyMs: number;
    }
  | { kind: 'not-sent'; reason: string; authFailure?: boolean; latencyMs: number }
  | { kind: 'lost'; reason: string; latencyMs: number };

const MAX_REASON = 300;

/**
 * The longest header values the bridge keeps: what the retry message and the incident record
 * allow. A longer `request-id` is clipped (it is only logged); a longer `response-id` cannot be
 * re-sent faithfully, so the 202 carrying it counts as one without a usable `response-id`.
 */
export const MAX_REQUEST_ID = 256;
export const MAX_RESPONSE_ID = 1024;

/** Reads an error body of any shape (empty, JSON google.rpc.Status, other JSON, text). */
export function parseBody(text: string, contentType: string | null): { reason?: string; json?: unknown } {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (contentType?.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const json: unknown = JSON.parse(trimmed);
      const reason = reasonOf(json);
      return reason ? { json, reason } : { json };
    } catch {
      // not JSON after all: fall through to text
    }
  }
  if (contentType?.includes('html')) return {};
  return { reason: clip(trimmed) };
}

function reasonOf(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  for (const key of ['message', 'error_description', 'error', 'detail', 'title']) {
    const v = o[key];
    if (typeof v === 'string' && v.trim() !== '') return clip(v);
    if (v && typeof v === 'object') {
      const nested = reasonOf(v);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** One line, at most `max` characters. */
export function clip(s: string, max = MAX_REASON): string {
  const oneLine = s.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
