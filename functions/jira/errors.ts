import { parseBody } from '../eset/answer';

/**
 * What went wrong with one Jira call, in the terms the caller acts on:
 * - `rejected`: Jira refused the request (4xx other than 429); retrying the same request is useless.
 * - `unavailable`: throttled (429), failing (5xx) or unreachable after every retry the call's
 *   budget allowed, and nothing was changed (or the call only reads); try again later.
 * - `unknown-outcome`: a write met a 5xx or lost its answer, so Jira may have applied it; read
 *   before acting again (search by label, list comments, read the status).
 * - `redirected`: a 3xx; redirects are never followed, so credentials never go elsewhere. The
 *   base URL is wrong.
 * - `invalid-answer`: a 2xx whose body is not what Atlassian documents.
 * - `too-many`: more results than the client reads (its pagination is bounded).
 * - `no-transition`: no transition leads to the wanted status category.
 */
export type JiraErrorKind =
  | 'rejected'
  | 'unavailable'
  | 'unknown-outcome'
  | 'redirected'
  | 'invalid-answer'
  | 'too-many'
  | 'no-transition';

/** A failed Jira call. Its message names the operation, the status and Jira's short reason, never a credential. */
export class JiraError extends Error {
  override name = 'JiraError';
  readonly kind: JiraErrorKind;
  readonly operation: string;
  /** HTTP status of the last answer, when one came. */
  readonly status?: number;
  /** Short reason taken from Jira's `errorMessages` / `errors`, or what the client saw. */
  readonly reason: string;
  /** Jira's last `Retry-After`, when it asked for a wait longer than the call's budget. */
  readonly retryAfterMs?: number;
  readonly attempts: number;

  constructor(init: {
    kind: JiraErrorKind;
    operation: string;
    reason: string;
    status?: number;
    retryAfterMs?: number;
    attempts?: number;
    cause?: unknown;
  }) {
    const status = init.status === undefined ? '' : ` answered ${init.status}`;
    super(`Jira ${init.operation}${status}: ${init.reason}`, { cause: init.cause });
    this.kind = init.kind;
    this.operation = init.operation;
    this.reason = init.reason;
    this.attempts = init.attempts ?? 0;
    if (init.status !== undefined) this.status = init.status;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether the same call may simply be made again later. */
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

/** A transition to what Jira offers, as named in {@link NoMatchingTransitionError}. */
export interface OfferedTransition {
  id: string;
  name: string;
  category: string;
}

/** The workflow offers no transition into the wanted status category. */
export class NoMatchingTransitionError extends JiraError {
  override name = 'NoMatchingTransitionError';
  readonly available: readonly OfferedTransition[];

  constructor(operation: string, wanted: string, available: readonly OfferedTransition[]) {
    const offered = available.length
      ? available.map((t) => `${t.id} "${t.name}" -> ${t.category}`).join(', ')
      : 'none';
    super({ kind: 'no-transition', operation, reason: `no transition to ${wanted}; offered: ${offered}` });
    this.available = available;
  }
}

const MAX_REASON = 300;

/**
 * A short reason from an error body. Jira answers errors as an ErrorCollection
 * (`{"errorMessages": [...], "errors": {"field": "message"}}`, the spec's `ErrorCollection`; see
 * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post); other bodies
 * (a proxy's text, an HTML page) are read as the ESET client reads them.
 */
export function jiraReason(text: string, contentType: string | null): string | undefined {
  const parsed = parseBody(text, contentType);
  const json = parsed.json;
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    const messages = Array.isArray(o.errorMessages)
      ? o.errorMessages.filter((m) => typeof m === 'string')
      : [];
    const fields =
      o.errors !== null && typeof o.errors === 'object'
        ? Object.entries(o.errors as Record<string, unknown>)
            .filter(([, v]) => typeof v === 'string')
            .map(([k, v]) => `${k}: ${v as string}`)
        : [];
    const joined = [...messages, ...fields].join('; ').replace(/\s+/g, ' ').trim();
    if (joined !== '') return joined.length > MAX_REASON ? `${joined.slice(0, MAX_REASON)}…` : joined;
  }
  return parsed.reason;
}
