/**
 * A local stand-in for Jira Cloud, for the ESET-to-ticket sync's tests and demos. It keeps the
 * documented rules of exactly the endpoints the bridge uses (Jira Cloud platform REST v3:
 * myself, search/jql, create and get issue, comments, transitions), Basic auth with an API
 * token, ADF bodies, a three-status workflow, signed admin webhooks for every change (the API
 * user's own included), actions "another user" takes (resolve, reopen, comment), and scripted
 * faults (429 with Retry-After, 500, 503). It listens on 127.0.0.1; admin endpoints under
 * `/_standin/` answer loopback callers only.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod/mini';
import { adfToText, textToAdf } from '../../../functions/jira/adf';
import { errorBody, type IssueRecord, JiraModel, ModelError, STATUSES, type StandinUser } from './model';
import { type Answer, json, notAllowed, restApi } from './rest';
import { type DeliveryRecord, payloadsFor, WebhookDispatcher, type WebhookRegistration } from './webhooks';

export type { DeliveryRecord, WebhookRegistration } from './webhooks';

export interface JiraStandinOptions {
  port?: number;
  /** The API user: Basic auth is `email:apiToken`. */
  email?: string;
  apiToken?: string;
  accountId?: string;
  /** The account "human" actions are taken as unless they name another. */
  humanAccountId?: string;
  projectKey?: string;
  issueTypes?: readonly string[];
  clock?: () => number;
  /** Most issues on one search page when fields are asked for (Jira gives at most 100, sometimes fewer). */
  searchPageLimit?: number;
  /** First retry delay of a failed webhook delivery; doubles per retry. */
  webhookRetryDelayMs?: number;
  webhookTimeoutMs?: number;
}

export type FaultStatus = 429 | 500 | 503;

export interface Fault {
  status: FaultStatus;
  /** `Retry-After` value to send: seconds or an HTTP date. */
  retryAfter?: string;
  /** How many consecutive API calls answer this way (default 1). */
  times?: number;
  /** Carry the request out before answering with the fault (a 5xx after the work was done). */
  applied?: boolean;
}

export interface StandinCall {
  at: number;
  method: string;
  path: string;
  status: number;
  /** The authenticated account, when the credentials were right. */
  accountId?: string;
}

export interface StandinIssueState {
  id: string;
  summary: string;
  status: string;
  category: string;
  resolution: string | null;
  labels: string[];
  reporterAccountId: string;
  comments: Array<{ id: string; authorAccountId: string; text: string }>;
}

export interface JiraStandinState {
  issues: Record<string, StandinIssueState>;
  calls: StandinCall[];
  deliveries: DeliveryRecord[];
  webhooks: Array<{ url: string; events?: readonly string[]; signed: boolean }>;
  faultsPending: number;
}

export interface JiraStandin {
  url: string;
  apiUser: { email: string; apiToken: string; accountId: string };
  humanAccountId: string;
  registerWebhook(registration: WebhookRegistration): void;
  /** Another user moves the issue to Done with a resolution (default `Done`). */
  resolve(key: string, opts?: { resolution?: string; accountId?: string }): void;
  /** Another user moves the issue back to To Do, clearing its resolution. */
  reopen(key: string, opts?: { accountId?: string }): void;
  /** Another user comments (plain text, stored as ADF). */
  comment(key: string, text: string, opts?: { accountId?: string }): void;
  fail(fault: Fault): void;
  state(): JiraStandinState;
  /** Resolves when every webhook delivery so far has ended (delivered or given up). */
  deliveriesSettled(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

export class StandinInputError extends Error {
  override name = 'StandinInputError';
}

const DEFAULTS = {
  email: 'eset-bridge@example.com',
  apiToken: 'standin-api-token-0b6d2c',
  accountId: '712020:2c9f6a14-3e8b-4d5f-9a61-0c7b8e2d4f30',
  humanAccountId: '5b10a2844c20165700ede21g',
  projectKey: 'SEC',
  issueTypes: ['Task', 'Bug'],
} as const;

const MAX_BODY_BYTES = 1_048_576;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const AdminWebhook = z.object({
  url: z.url(),
  secret: z.optional(z.string()),
  events: z.optional(z.array(z.string())),
  delayMs: z.optional(z.int().check(z.nonnegative())),
  maxRetries: z.optional(z.int().check(z.nonnegative(), z.maximum(10))),
});
const AdminIssue = z.object({
  key: z.string(),
  accountId: z.optional(z.string()),
  resolution: z.optional(z.string()),
  text: z.optional(z.string()),
});
const AdminFault = z.object({
  status: z.union([z.literal(429), z.literal(500), z.literal(503)]),
  retryAfter: z.optional(z.string()),
  times: z.optional(z.int().check(z.positive(), z.maximum(1000))),
  applied: z.optional(z.boolean()),
});

/** Starts the stand-in on 127.0.0.1 (an ephemeral port unless `port` is given). */
export async function createJiraStandin(options: JiraStandinOptions = {}): Promise<JiraStandin> {
  const clock = options.clock ?? Date.now;
  const email = options.email ?? DEFAULTS.email;
  const apiToken = options.apiToken ?? DEFAULTS.apiToken;
  const apiUser: StandinUser = {
    accountId: options.accountId ?? DEFAULTS.accountId,
    displayName: 'ESET bridge',
    emailAddress: email,
  };
  const humanAccountId = options.humanAccountId ?? DEFAULTS.humanAccountId;
  const projectKey = options.projectKey ?? DEFAULTS.projectKey;
  const expectedAuth = Buffer.from(`Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`);
  let url = '';

  const dispatcher = new WebhookDispatcher({
    retryDelayMs: options.webhookRetryDelayMs ?? 50,
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
  });
  const model: JiraModel = new JiraModel({
    projectKey,
    projectName: 'Security Operations',
    issueTypes: options.issueTypes ?? DEFAULTS.issueTypes,
    base: () => url,
    now: clock,
    onChange: (change) => {
      for (const payload of payloadsFor(change, model, clock())) dispatcher.emit(payload);
    },
  });
  const api = restApi(model, {
    projectKey,
    base: () => url,
    searchPageLimit: options.searchPageLimit ?? 100,
  });
  let calls: StandinCall[] = [];
  let faults: Fault[] = [];

  const human = (accountId = humanAccountId): StandinUser => ({
    accountId,
    displayName: accountId === humanAccountId ? 'Ana Analyst' : `User ${accountId.slice(-6)}`,
  });

  /** Runs a human action, turning the model's refusals into input errors. */
  function act<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof ModelError) throw new StandinInputError(error.message);
      throw error;
    }
  }

  const actions = {
    resolve(key: string, opts: { resolution?: string; accountId?: string } = {}) {
      act(() => {
        const issue = model.find(key);
        if (issue.status === 'done') throw new StandinInputError(`${key} is already Done`);
        model.transition(issue, '31', human(opts.accountId), opts.resolution ?? 'Done');
      });
    },
    reopen(key: string, opts: { accountId?: string } = {}) {
      act(() => {
        const issue = model.find(key);
        if (issue.status !== 'done') throw new StandinInputError(`${key} is not Done`);
        model.transition(issue, '11', human(opts.accountId));
      });
    },
    comment(key: string, text: string, opts: { accountId?: string } = {}) {
      act(() => model.addComment(model.find(key), textToAdf(text), human(opts.accountId)));
    },
  };

  function fail(fault: Fault): void {
    const parsed = z.safeParse(AdminFault, fault);
    if (!parsed.success)
      throw new StandinInputError('fault must be {status: 429|500|503, retryAfter?, times?, applied?}');
    for (let i = 0; i < (fault.times ?? 1); i++) faults.push(fault);
  }

  function state(): JiraStandinState {
    const issues: Record<string, StandinIssueState> = {};
    for (const issue of model.issues.values()) issues[issue.key] = issueState(issue);
    return structuredClone({
      issues,
      calls,
      deliveries: dispatcher.deliveries(),
      webhooks: dispatcher.registered(),
      faultsPending: faults.length,
    });
  }

  function reset(): void {
    model.reset();
    dispatcher.clear();
    calls = [];
    faults = [];
  }

  function authenticated(req: IncomingMessage): StandinUser | undefined {
    const presented = Buffer.from(req.headers.authorization ?? '');
    return presented.length === expectedAuth.length && timingSafeEqual(presented, expectedAuth)
      ? apiUser
      : undefined;
  }

  function admin(method: string, pathname: string, body: unknown): Answer {
    if (pathname === '/_standin/state') return method === 'GET' ? json(200, state()) : notAllowed('GET');
    if (method !== 'POST') return notAllowed('POST');
    switch (pathname) {
      case '/_standin/webhooks':
        dispatcher.register(input(AdminWebhook, body));
        return json(200, {});
      case '/_standin/resolve': {
        const { key, ...opts } = input(AdminIssue, body);
        actions.resolve(key, opts);
        return json(200, issueState(model.find(key)));
      }
      case '/_standin/reopen': {
        const { key, ...opts } = input(AdminIssue, body);
        actions.reopen(key, opts);
        return json(200, issueState(model.find(key)));
      }
      case '/_standin/comment': {
        const { key, text, ...opts } = input(AdminIssue, body);
        if (!text) throw new StandinInputError('text: required');
        actions.comment(key, text, opts);
        return json(200, issueState(model.find(key)));
      }
      case '/_standin/faults':
        fail(input(AdminFault, body));
        return json(200, { faultsPending: faults.length });
      case '/_standin/reset':
        reset();
        return json(200, {});
      default:
        return json(404, { error: 'unknown admin endpoint' });
    }
  }

  /** Authenticates, then answers as the REST API does; the call log learns who called. */
  function serve(
    method: string,
    pathname: string,
    query: URLSearchParams,
    body: unknown,
    req: IncomingMessage,
    call: StandinCall,
  ): Answer {
    const user = authenticated(req);
    if (!user) return json(401, errorBody(['Client must be authenticated to access this resource.']));
    call.accountId = user.accountId;
    try {
      return api(method, pathname, query, body, user);
    } catch (error) {
      if (!(error instanceof ModelError)) throw error;
      return json(error.status, error.body);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://standin.invalid');
    const raw = await readBody(req);
    if (raw === undefined) return send(res, json(413, errorBody(['Request body too large'])));
    let body: unknown;
    if (raw.length > 0) {
      const type = req.headers['content-type'] ?? '';
      if (!type.toLowerCase().startsWith('application/json'))
        return send(res, json(415, errorBody(['Unsupported Media Type'])));
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(res, json(400, errorBody(['Unexpected character in the request body: not JSON.'])));
      }
    }

    if (pathname.startsWith('/_standin/')) {
      if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return send(res, { status: 403 });
      try {
        return send(res, admin(method, pathname, body));
      } catch (error) {
        if (error instanceof StandinInputError) return send(res, json(400, { error: error.message }));
        throw error;
      }
    }

    const call: StandinCall = {
      at: clock(),
      method,
      path: `${pathname}${searchParams.size ? `?${searchParams}` : ''}`,
      status: 0,
    };
    const fault = pathname.startsWith('/rest/') ? faults.shift() : undefined;
    // A fault takes the answer's place; an `applied` one only after the request was carried out.
    if (fault?.applied) serve(method, pathname, searchParams, body, req, call);
    const answer = fault ? faultAnswer(fault) : serve(method, pathname, searchParams, body, req, call);
    call.status = answer.status;
    calls.push(call);
    send(res, answer);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('jira-standin: unexpected error', error);
      send(res, json(500, errorBody(['Internal server error'])));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    apiUser: { email, apiToken, accountId: apiUser.accountId },
    humanAccountId,
    registerWebhook: (registration) => dispatcher.register(registration),
    ...actions,
    fail,
    state,
    deliveriesSettled: () => dispatcher.settled(),
    reset,
    close() {
      closing ??= (async () => {
        await dispatcher.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function issueState(issue: IssueRecord): StandinIssueState {
  const status = STATUSES[issue.status];
  return {
    id: issue.id,
    summary: issue.summary,
    status: status.name,
    category: status.category,
    resolution: issue.resolution?.name ?? null,
    labels: [...issue.labels],
    reporterAccountId: issue.reporter.accountId,
    comments: issue.comments.map((c) => ({
      id: c.id,
      authorAccountId: c.author.accountId,
      text: adfToText(c.body),
    })),
  };
}

function input<S extends z.ZodMiniType>(schema: S, value: unknown): z.infer<S> {
  const parsed = z.safeParse(schema, value ?? {});
  if (!parsed.success) {
    throw new StandinInputError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

function faultAnswer(fault: Fault): Answer {
  const headers: Record<string, string> =
    fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
  if (fault.status === 503) {
    // What a gateway in front of Jira tends to send: HTML, no ErrorCollection.
    return {
      status: 503,
      headers: { ...headers, 'content-type': 'text/html' },
      text: '<html><body>Service Unavailable</body></html>',
    };
  }
  const message = fault.status === 429 ? 'Rate limit exceeded.' : 'Internal server error';
  return { status: fault.status, headers, body: errorBody([message]) };
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const text = answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
  const headers: Record<string, string> = {
    ...answer.headers,
    'content-length': String(Buffer.byteLength(text)),
  };
  if (answer.body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json;charset=UTF-8';
  res.writeHead(answer.status, headers);
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
