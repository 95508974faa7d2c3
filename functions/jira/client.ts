import * as z from 'zod/mini';
import {
  isRetriable,
  Outbound,
  type OutboundOptions,
  type OutboundResult,
  type RetryPolicy,
} from '../http/outbound';
import { type AdfDoc, adfToText } from './adf';
import { JiraError, jiraReason, NoMatchingTransitionError } from './errors';

// Answers are checked for what the client reads, nothing more; Jira adds fields freely.
const StatusCategory = z.looseObject({ key: z.string() });
const Status = z.looseObject({
  id: z.optional(z.string()),
  name: z.string(),
  statusCategory: StatusCategory,
});
const IssueFields = z.looseObject({
  summary: z.optional(z.string()),
  labels: z.optional(z.array(z.string())),
  status: z.optional(Status),
  resolution: z.optional(z.nullable(z.looseObject({ name: z.string() }))),
});
const Issue = z.looseObject({ id: z.string(), key: z.string(), fields: z.optional(IssueFields) });
const User = z.looseObject({
  accountId: z.string().check(z.minLength(1)),
  displayName: z.optional(z.string()),
});
const CreatedIssue = z.looseObject({ id: z.string(), key: z.string(), self: z.optional(z.string()) });
const SearchPage = z.looseObject({
  issues: z.optional(z.array(Issue)),
  nextPageToken: z.optional(z.nullable(z.string())),
  isLast: z.optional(z.boolean()),
});
const Comment = z.looseObject({
  id: z.string(),
  author: z.optional(z.looseObject({ accountId: z.optional(z.string()) })),
  created: z.optional(z.string()),
  body: z.unknown(),
});
const CommentPage = z.looseObject({ comments: z.array(Comment), total: z.optional(z.number()) });
const Transition = z.looseObject({ id: z.string(), name: z.string(), to: Status });
const Transitions = z.looseObject({ transitions: z.array(Transition) });

export type JiraIssueFields = z.infer<typeof IssueFields>;
export type JiraStatus = z.infer<typeof Status>;
export type JiraTransition = z.infer<typeof Transition>;

/** An issue as search and get return it: Jira's own shape, with `fields` holding what was asked for. */
export interface JiraIssue {
  id: string;
  key: string;
  fields: JiraIssueFields;
}

export interface JiraUser {
  accountId: string;
  displayName?: string;
}

export interface CreatedJiraIssue {
  id: string;
  key: string;
  self?: string;
}

export interface NewJiraIssue {
  projectKey: string;
  issueType: string;
  summary: string;
  description: AdfDoc;
  labels: readonly string[];
}

/** A comment with its ADF body and the same body as plain text. */
export interface JiraComment {
  id: string;
  authorAccountId?: string;
  created?: string;
  body: unknown;
  text: string;
}

export type CategoryTarget = 'done' | 'not-done';

export interface TransitionOutcome {
  /** False when the issue already was in the wanted category, so nothing was sent. */
  changed: boolean;
  transition?: JiraTransition;
}

export interface CallOptions {
  /** ms since epoch; by default the client's call budget from now. */
  deadline?: number;
}

export interface JiraClientOptions extends OutboundOptions {
  /** `https://your-domain.atlassian.net` */
  baseUrl: string;
  email: string;
  apiToken: string;
}

const DEFAULT_RETRY: RetryPolicy = {
  attemptTimeoutMs: 10_000,
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};
const DEFAULT_CALL_BUDGET_MS = 30_000;
/** Pages read at most per search or comment listing, so a runaway answer cannot loop forever. */
const MAX_PAGES = 10;
const SEARCH_PAGE_SIZE = 100;
const COMMENT_PAGE_SIZE = 100;

/** Target categories in order of preference (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/). */
const CATEGORY_PREFERENCE: Record<CategoryTarget, readonly string[]> = {
  done: ['done'],
  'not-done': ['indeterminate', 'new'],
};

interface RequestSpec<S extends z.ZodMiniType> {
  operation: string;
  method: 'GET' | 'POST';
  path: string;
  deadline: number;
  body?: unknown;
  /** Reads and searches may be repeated after a lost answer; creating, commenting and transitioning may not. */
  repeatable: boolean;
  schema?: S;
}

/**
 * Jira Cloud platform REST v3 client for the ESET-to-ticket sync: Basic auth with an API token
 * (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/), JSON with ADF
 * bodies, every call bounded by a deadline and retried as {@link sendWithRetries} describes.
 * Writes are not re-sent after a 5xx or a lost answer: the error says `unknown-outcome` and the
 * caller reads first (search by label, list comments), as the bridge does with ESET.
 */
export class JiraClient {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly secrets: readonly string[];
  private readonly outbound: Outbound;

  constructor(opts: JiraClientOptions) {
    if (!opts.email || !opts.apiToken) throw new TypeError('JiraClient needs an email and an API token');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    const credentials = Buffer.from(`${opts.email}:${opts.apiToken}`, 'utf8').toString('base64');
    this.authorization = `Basic ${credentials}`;
    this.secrets = [opts.apiToken, credentials];
    this.outbound = new Outbound(opts, { retry: DEFAULT_RETRY, callBudgetMs: DEFAULT_CALL_BUDGET_MS });
  }

  /** `GET /rest/api/3/myself`: the API user, whose accountId marks the bridge's own changes in webhooks. */
  async myself(opts: CallOptions = {}): Promise<JiraUser> {
    const user = await this.request({
      operation: 'myself',
      method: 'GET',
      path: '/rest/api/3/myself',
      deadline: this.deadline(opts),
      repeatable: true,
      schema: User,
    });
    return user.displayName === undefined
      ? { accountId: user.accountId }
      : { accountId: user.accountId, displayName: user.displayName };
  }

  /**
   * Issues carrying `label`, via `POST /rest/api/3/search/jql`, every page read (at most ten:
   * a label names one incident). Search is eventually consistent: pass the ids of issues created moments
   * ago in `reconcileIssues` to see them
   * (https://developer.atlassian.com/cloud/jira/platform/search-and-reconcile/).
   */
  async searchByLabel(
    label: string,
    fields: readonly string[],
    opts: CallOptions & { projectKey?: string; reconcileIssues?: readonly number[] } = {},
  ): Promise<JiraIssue[]> {
    const deadline = this.deadline(opts);
    const jql = `${opts.projectKey === undefined ? '' : `project = ${jqlString(opts.projectKey)} AND `}labels = ${jqlString(label)}`;
    const issues: JiraIssue[] = [];
    let nextPageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.request({
        operation: 'searchByLabel',
        method: 'POST',
        path: '/rest/api/3/search/jql',
        deadline,
        // Searching changes nothing, so a lost answer may be asked for again.
        repeatable: true,
        body: {
          jql,
          fields,
          maxResults: SEARCH_PAGE_SIZE,
          ...(nextPageToken === undefined ? {} : { nextPageToken }),
          ...(opts.reconcileIssues?.length ? { reconcileIssues: opts.reconcileIssues } : {}),
        },
        schema: SearchPage,
      });
      for (const issue of answer.issues ?? []) issues.push(toIssue(issue));
      nextPageToken = answer.nextPageToken ?? undefined;
      if (answer.isLast !== false || nextPageToken === undefined) return issues;
    }
    throw new JiraError({
      kind: 'too-many',
      operation: 'searchByLabel',
      reason: `more than ${MAX_PAGES} pages of issues carry label ${label}`,
    });
  }

  /** `POST /rest/api/3/issue`. Not re-sent after a 5xx or a lost answer (see the class comment). */
  async createIssue(issue: NewJiraIssue, opts: CallOptions = {}): Promise<CreatedJiraIssue> {
    const created = await this.request({
      operation: 'createIssue',
      method: 'POST',
      path: '/rest/api/3/issue',
      deadline: this.deadline(opts),
      repeatable: false,
      body: {
        fields: {
          project: { key: issue.projectKey },
          issuetype: { name: issue.issueType },
          summary: issue.summary,
          description: issue.description,
          labels: issue.labels,
        },
      },
      schema: CreatedIssue,
    });
    return created.self === undefined
      ? { id: created.id, key: created.key }
      : { id: created.id, key: created.key, self: created.self };
  }

  /** `GET /rest/api/3/issue/{key}` with only the named fields. */
  async getIssue(key: string, fields: readonly string[], opts: CallOptions = {}): Promise<JiraIssue> {
    const query = new URLSearchParams({ fields: fields.join(',') });
    const issue = await this.request({
      operation: 'getIssue',
      method: 'GET',
      path: `${issuePath(key)}?${query}`,
      deadline: this.deadline(opts),
      repeatable: true,
      schema: Issue,
    });
    return toIssue(issue);
  }

  /** `POST /rest/api/3/issue/{key}/comment`. Not re-sent after a 5xx or a lost answer. */
  async addComment(key: string, body: AdfDoc, opts: CallOptions = {}): Promise<JiraComment> {
    const comment = await this.request({
      operation: 'addComment',
      method: 'POST',
      path: `${issuePath(key)}/comment`,
      deadline: this.deadline(opts),
      repeatable: false,
      body: { body },
      schema: Comment,
    });
    return toComment(comment);
  }

  /** Every comment of an issue, oldest first (`GET /rest/api/3/issue/{key}/comment`, paged by `startAt`). */
  async listComments(key: string, opts: CallOptions = {}): Promise<JiraComment[]> {
    const deadline = this.deadline(opts);
    const comments: JiraComment[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams({
        startAt: String(comments.length),
        maxResults: String(COMMENT_PAGE_SIZE),
        orderBy: 'created',
      });
      const answer = await this.request({
        operation: 'listComments',
        method: 'GET',
        path: `${issuePath(key)}/comment?${query}`,
        deadline,
        repeatable: true,
        schema: CommentPage,
      });
      for (const comment of answer.comments) comments.push(toComment(comment));
      const total = answer.total ?? comments.length;
      if (answer.comments.length === 0 || comments.length >= total) return comments;
    }
    throw new JiraError({
      kind: 'too-many',
      operation: 'listComments',
      reason: `${key} has more than ${MAX_PAGES} pages of comments`,
    });
  }

  /** `GET /rest/api/3/issue/{key}/transitions`: what the API user may do now, each with its target status. */
  async getTransitions(key: string, opts: CallOptions = {}): Promise<JiraTransition[]> {
    const answer = await this.request({
      operation: 'getTransitions',
      method: 'GET',
      path: `${issuePath(key)}/transitions`,
      deadline: this.deadline(opts),
      repeatable: true,
      schema: Transitions,
    });
    return answer.transitions;
  }

  /** `POST /rest/api/3/issue/{key}/transitions` (Jira answers 204). Not re-sent after a 5xx or a lost answer. */
  async transition(key: string, transitionId: string, opts: CallOptions = {}): Promise<void> {
    await this.request({
      operation: 'transition',
      method: 'POST',
      path: `${issuePath(key)}/transitions`,
      deadline: this.deadline(opts),
      repeatable: false,
      body: { transition: { id: transitionId } },
    });
  }

  /**
   * Moves the issue into the `done` status category, or out of it (`not-done`: In Progress
   * preferred to To Do), reading first: an issue already there is left alone. When the
   * transition's answer is lost or a 5xx, the status is read again instead of sending twice.
   * Workflows differ per project, so the transition is chosen by the category of its target
   * status, never by name or id.
   */
  async transitionToCategory(
    key: string,
    target: CategoryTarget,
    opts: CallOptions = {},
  ): Promise<TransitionOutcome> {
    const deadline = this.deadline(opts);
    const reached = async () => {
      const category = (await this.getIssue(key, ['status'], { deadline })).fields.status?.statusCategory.key;
      return category !== undefined && (target === 'done') === (category === 'done');
    };
    if (await reached()) return { changed: false };
    const transitions = await this.getTransitions(key, { deadline });
    const transition = CATEGORY_PREFERENCE[target]
      .map((category) => transitions.find((t) => t.to.statusCategory.key === category))
      .find((t) => t !== undefined);
    if (transition === undefined) {
      throw new NoMatchingTransitionError(
        'transitionToCategory',
        target,
        transitions.map((t) => ({ id: t.id, name: t.name, category: t.to.statusCategory.key })),
      );
    }
    try {
      await this.transition(key, transition.id, { deadline });
    } catch (err) {
      if (!(err instanceof JiraError && err.kind === 'unknown-outcome')) throw err;
      // A read that fails too leaves the outcome unknown, which is what the caller must hear.
      if (!(await reached().catch(() => false))) throw err;
    }
    return { changed: true, transition };
  }

  private deadline(opts: CallOptions): number {
    return this.outbound.deadline(opts.deadline);
  }

  private async request<S extends z.ZodMiniType>(spec: RequestSpec<S>): Promise<z.infer<S>> {
    const headers: Record<string, string> = { authorization: this.authorization, accept: 'application/json' };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const result = await this.outbound.send({
      url: `${this.baseUrl}${spec.path}`,
      method: spec.method,
      headers,
      ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
      deadline: spec.deadline,
      repeatable: spec.repeatable,
    });
    if (result.kind === 'answer' && result.status >= 200 && result.status < 300) {
      if (spec.schema === undefined) return undefined as z.infer<S>;
      let json: unknown;
      try {
        json = JSON.parse(result.text);
      } catch {
        throw this.invalid(spec.operation, result, 'the body is not JSON');
      }
      const parsed = z.safeParse(spec.schema, json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw this.invalid(spec.operation, result, `unexpected body at ${issue?.path.join('.') || '(root)'}`);
      }
      return parsed.data;
    }
    throw this.failure(spec, result);
  }

  private invalid(operation: string, result: OutboundResult, reason: string): JiraError {
    const status = result.kind === 'answer' ? result.status : undefined;
    return new JiraError({
      kind: 'invalid-answer',
      operation,
      reason,
      attempts: result.attempts,
      ...(status === undefined ? {} : { status }),
    });
  }

  private failure(spec: RequestSpec<z.ZodMiniType>, result: OutboundResult): JiraError {
    const { operation, repeatable } = spec;
    const attempts = result.attempts;
    if (result.kind === 'no-answer') {
      const kind = result.mayHaveArrived && !repeatable ? 'unknown-outcome' : 'unavailable';
      return new JiraError({ kind, operation, reason: `${result.reason} (${attempts} attempts)`, attempts });
    }
    const { status } = result;
    const retryAfterMs = result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs };
    if (status >= 300 && status < 400) {
      return new JiraError({
        kind: 'redirected',
        operation,
        status,
        attempts,
        reason: 'redirects are not followed; check the Jira base URL',
      });
    }
    const reason = this.scrub(
      jiraReason(result.text, result.headers.get('content-type')) ?? `HTTP ${status}`,
    );
    if (isRetriable(status, true)) {
      const kind = status === 429 || repeatable ? 'unavailable' : 'unknown-outcome';
      return new JiraError({ kind, operation, status, attempts, reason, ...retryAfterMs });
    }
    return new JiraError({ kind: 'rejected', operation, status, attempts, reason });
  }

  /** Jira does not echo credentials, but a proxy in front of it might; they never reach an error. */
  private scrub(text: string): string {
    return this.secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
  }
}

function toIssue(issue: z.infer<typeof Issue>): JiraIssue {
  return { id: issue.id, key: issue.key, fields: issue.fields ?? {} };
}

function toComment(comment: z.infer<typeof Comment>): JiraComment {
  const out: JiraComment = { id: comment.id, body: comment.body, text: adfToText(comment.body) };
  if (comment.author?.accountId !== undefined) out.authorAccountId = comment.author.accountId;
  if (comment.created !== undefined) out.created = comment.created;
  return out;
}

function issuePath(key: string): string {
  return `/rest/api/3/issue/${encodeURIComponent(key)}`;
}

/** A JQL string literal: double quotes, with `"` and `\` escaped. */
function jqlString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
