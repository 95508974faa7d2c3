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
      retryAfter?: string;
      /** A short, sanitised reason taken from the error body (JSON `message`/`error`, or text). */
      reason?: string;
      json?: unknown;
      latencyMs: number;
    }
  | { kind: 'not-sent'; reason: string; authFailure?: boolean; latencyMs: number }
  | { kind: 'lost'; reason: string; latencyMs: number };

const MAX_REASON = 300;

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

function clip(s: string): string {
  const oneLine = s.replace(/\s+/g, ' ');
  return oneLine.length > MAX_REASON ? `${oneLine.slice(0, MAX_REASON)}…` : oneLine;
}
