/**
 * A local, fault-injectable stand-in for ESET Connect (token endpoint + incident management).
 * It follows ESET's documentation and published OpenAPI file (form-encoded token requests,
 * Bearer auth, the incident calls the bridge uses, the 202 / `response-id` cache, the rate limit
 * per API user, google.rpc.Status errors), so the bridge can be exercised end to end without an
 * ESET tenant. Where ESET documents nothing it is strict: it refuses what ESET might refuse, and
 * is never kinder than ESET could be.
 *
 * API: `GET /v2/incidents` (filter, orderBy, paging; see filter.ts), `GET /v2/incidents/{uuid}`,
 * `POST /v2/incidents/{uuid}:close`, `POST /v2/incidents/{uuid}:reopen`,
 * `GET|POST /v2/incidents/{uuid}/comments`, `GET|DELETE /v2/incidents/{uuid}/comments/{commentUuid}`,
 * `POST /v2/incidents/{uuid}/comments/{commentUuid}/text:update`.
 *
 * Admin (loopback only, JSON): `GET /_sandbox/state`, `POST /_sandbox/incidents`, `/_sandbox/script`,
 * `/_sandbox/faults`, `/_sandbox/mode`, `/_sandbox/console/{close,reopen,comment}`,
 * `/_sandbox/expire-tokens`, `/_sandbox/reset`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConsoleInput, onlyKeys, parseConsoleInput, parseSeedIncidents } from './admin-input';
import {
  createFaultDrawer,
  type FaultConfig,
  type FaultStep,
  parseFaultConfig,
  parseFaultSteps,
  SandboxInputError,
} from './faults';
import { ListQueryError, listIncidents, parseListQuery } from './filter';
import {
  type Answer,
  CALL_KIND,
  fromProblem,
  guessContentType,
  header,
  isRoute,
  json,
  MUTATING,
  type Route,
  readBody,
  routeOf,
  rpcError,
  SlidingWindow,
  send,
  stretchRequestId,
} from './http';
import {
  type Actor,
  addComment,
  applyClose,
  applyReopen,
  commentView,
  currentFinalComment,
  type IncidentOptions,
  type IncidentRecord,
  type IncidentStatus,
  incidentView,
  isProblem,
  isRecord,
  newIncidentRecord,
  parseCloseBody,
  parseCreateCommentBody,
  parseReopenBody,
  parseUpdateTextBody,
  RESOLVE_REASONS,
  RPC,
  userUuidFor,
} from './incidents';
import {
  CONSOLE_USER,
  type ConsoleCloseOptions,
  type ConsoleReopenOptions,
  type EsetSandbox,
  type SandboxCall,
  type SandboxCallKind,
  type SandboxComment,
  type SandboxIncidentState,
  type SandboxMode,
  type SandboxOptions,
  type SandboxRequestEvent,
  type SandboxState,
} from './types';

export type {
  FaultConfig,
  FaultMix,
  FaultScope,
  FaultStep,
  RedirectStatus,
  ScriptableStatus,
  StepOptions,
} from './faults';
export { SandboxInputError } from './faults';
export type { IncidentOptions, IncidentStatus, ResolveReason, SeverityLevel } from './incidents';
export { INCIDENT_STATUSES, RESOLVE_REASONS, SEVERITY_LEVELS } from './incidents';
export * from './types';

const DEFAULTS = {
  username: 'sandbox-user',
  password: 'sandbox-password',
  tokenTtlSeconds: 3600,
  refreshTtlSeconds: 7 * 24 * 3600,
  rateLimitPerSecond: 10,
  cacheTtlMs: 600_000,
  gatewayTimeoutMs: 120_000,
} as const;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const MAX_HOLD_MS = 600_000;
/** Where a `redirect` step sends clients unless it names a location: a sign-in page, as an SSO gateway would. */
const LOGIN_PATH = '/sso/login';
const LOGIN_PAGE =
  '<!doctype html><html><head><title>Sign in</title></head><body><form method="post">' +
  '<input name="username"><input name="password" type="password"><button>Sign in</button></form></body></html>';
const OK_STEP: FaultStep = { kind: 'ok' };

/** A request answered later: a `hang` (then 504) or a delayed `pending` (then 202). */
interface HoldPlan {
  holdMs: number;
  answer: Answer;
}

interface Grant {
  user: string;
  expiresAt: number;
}

interface CachedRequest {
  method: string;
  url: string;
  body: Buffer;
  createdAt: number;
  resendsUntilReady: number;
  resends: number;
  answer: Answer;
}

interface Hold {
  end(): Promise<void>;
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function nonNegativeInteger(value: unknown, label: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new SandboxInputError(`${label} must be an integer from 0 to ${max}`);
  }
  return value;
}

/**
 * Starts the sandbox on 127.0.0.1. Async because the port is only known once the server
 * listens, and tests want an ephemeral port so they can run in parallel.
 */
export async function createEsetSandbox(options: SandboxOptions = {}): Promise<EsetSandbox> {
  const clock = options.clock ?? Date.now;
  const username = options.username ?? DEFAULTS.username;
  const password = options.password ?? DEFAULTS.password;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? DEFAULTS.tokenTtlSeconds;
  const refreshTtlSeconds = options.refreshTtlSeconds ?? DEFAULTS.refreshTtlSeconds;
  const cacheTtlMs = options.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
  const gatewayTimeoutMs = options.gatewayTimeoutMs ?? DEFAULTS.gatewayTimeoutMs;
  const mode: SandboxMode = {
    repeatApplies: false,
    rateLimitPerSecond: DEFAULTS.rateLimitPerSecond,
    pendingDelayMs: 0,
  };
  setMode({
    repeatApplies: options.repeatApplies,
    rateLimitPerSecond: options.rateLimitPerSecond,
    pendingDelayMs: options.pendingDelayMs,
  });

  const users = new Map<string, string>([[username, password]]);
  for (const [index, user] of (options.extraUsers ?? []).entries()) {
    if (!isRecord(user) || typeof user.username !== 'string' || typeof user.password !== 'string') {
      throw new SandboxInputError(`extraUsers[${index}] must be {username, password}`);
    }
    users.set(user.username, user.password);
  }

  const incidents = new Map<string, IncidentRecord>();
  const scripts = new Map<string, FaultStep[]>();
  const cache = new Map<string, CachedRequest>();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const rateWindows = new Map<string, SlidingWindow>();
  const holds = new Set<Hold>();
  const redirectPages = new Set<string>([LOGIN_PATH]);
  let baseUrl = '';
  let arrivals = new SlidingWindow();
  let calls: SandboxCall[] = [];
  let callsByStatus: Record<string, number> = {};
  let tokenRequests = { password: 0, refresh: 0 };
  let maxCallsInAnySecond = 0;
  let rateLimitedCalls = 0;
  let faults: FaultConfig | undefined;
  let drawFault: (() => FaultStep) | undefined;

  function setFaults(config: FaultConfig | undefined): void {
    faults = config === undefined ? undefined : parseFaultConfig(config);
    drawFault = faults === undefined ? undefined : createFaultDrawer(faults);
  }
  setFaults(options.faults);

  /** Validates every given setting before changing any, so a bad request changes nothing. */
  function setMode(input: Partial<Record<keyof SandboxMode, unknown>>): void {
    const next = { ...mode };
    if (input.repeatApplies !== undefined) {
      if (typeof input.repeatApplies !== 'boolean')
        throw new SandboxInputError('repeatApplies must be a boolean');
      next.repeatApplies = input.repeatApplies;
    }
    if (input.rateLimitPerSecond !== undefined) {
      next.rateLimitPerSecond = nonNegativeInteger(input.rateLimitPerSecond, 'rateLimitPerSecond');
    }
    if (input.pendingDelayMs !== undefined) {
      next.pendingDelayMs = nonNegativeInteger(input.pendingDelayMs, 'pendingDelayMs', MAX_HOLD_MS);
    }
    Object.assign(mode, next);
  }

  function addIncident(
    uuid: string,
    status: IncidentStatus = 'INCIDENT_STATUS_OPEN',
    opts: IncidentOptions = {},
  ) {
    incidents.set(uuid, newIncidentRecord(uuid, status, opts, clock()));
  }

  function state(): SandboxState {
    const incidentState: Record<string, SandboxIncidentState> = {};
    for (const [uuid, incident] of incidents) {
      const entry: SandboxIncidentState = {
        status: incident.status,
        severity: incident.severity,
        displayName: incident.displayName,
        resolveReason: incident.resolveReason,
        updateTime: new Date(incident.updateTime).toISOString(),
        closesApplied: incident.closesApplied,
        reopensApplied: incident.reopensApplied,
        commentsCreated: incident.commentsCreated,
        comments: incident.comments.map((comment) => commentView(comment) as unknown as SandboxComment),
      };
      const finalComment = currentFinalComment(incident);
      if (finalComment !== undefined) entry.finalComment = finalComment;
      incidentState[uuid] = entry;
    }
    return structuredClone({
      incidents: incidentState,
      tokenRequests,
      calls,
      callsByStatus,
      maxCallsInAnySecond,
      rateLimited: rateLimitedCalls,
      hanging: holds.size,
    });
  }

  function reset(): void {
    incidents.clear();
    scripts.clear();
    cache.clear();
    rateWindows.clear();
    redirectPages.clear();
    redirectPages.add(LOGIN_PATH);
    arrivals = new SlidingWindow();
    calls = [];
    callsByStatus = {};
    tokenRequests = { password: 0, refresh: 0 };
    maxCallsInAnySecond = 0;
    rateLimitedCalls = 0;
    // Restart the fault sequence so a run after reset is as reproducible as the first one.
    setFaults(faults);
  }

  // -------------------------------------------------------------------------------------------
  // Console actions

  function consoleIncident(uuid: string): IncidentRecord {
    const incident = incidents.get(uuid);
    if (incident === undefined) throw new SandboxInputError(`unknown incident ${JSON.stringify(uuid)}`);
    return incident;
  }

  function consoleActor(by: unknown): Actor {
    if (by !== undefined && (typeof by !== 'string' || by === '')) {
      throw new SandboxInputError('by must be a non-empty username');
    }
    return { authorUuid: userUuidFor(by ?? CONSOLE_USER), now: clock() };
  }

  function consoleText(value: unknown, label: string): string | undefined {
    if (value !== undefined && typeof value !== 'string')
      throw new SandboxInputError(`${label} must be a string`);
    return value;
  }

  function consoleClose(uuid: string, opts: ConsoleCloseOptions = {}): void {
    const incident = consoleIncident(uuid);
    const reason = opts.reason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED';
    if (!RESOLVE_REASONS.includes(reason)) throw new SandboxInputError(`unknown reason ${String(reason)}`);
    const text = consoleText(opts.comment, 'comment');
    const refused = applyClose(incident, { reason, text }, consoleActor(opts.by), false);
    if (refused !== undefined) throw new SandboxInputError(refused.message);
  }

  function consoleReopen(uuid: string, opts: ConsoleReopenOptions = {}): void {
    const incident = consoleIncident(uuid);
    const text = consoleText(opts.comment, 'comment');
    const refused = applyReopen(incident, text, consoleActor(opts.by), false);
    if (refused !== undefined) throw new SandboxInputError(refused.message);
  }

  function consoleComment(uuid: string, text: string, by?: string): void {
    const incident = consoleIncident(uuid);
    if (typeof text !== 'string' || text === '')
      throw new SandboxInputError('text must be a non-empty string');
    addComment(incident, text, consoleActor(by));
  }

  // -------------------------------------------------------------------------------------------
  // Token endpoint and authentication

  function issueTokens(user: string, now: number): Answer {
    const accessToken = newToken();
    const refreshToken = newToken();
    accessTokens.set(accessToken, { user, expiresAt: now + tokenTtlSeconds * 1000 });
    refreshTokens.set(refreshToken, { user, expiresAt: now + refreshTtlSeconds * 1000 });
    return {
      ...json(200, {
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: 'Bearer',
        expires_in: tokenTtlSeconds,
      }),
      headers: { 'cache-control': 'no-store' },
    };
  }

  function tokenEndpoint(req: IncomingMessage, body: Buffer, now: number): Answer {
    if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
    const mediaType = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') return { status: 415 };
    const form = new URLSearchParams(body.toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType === 'password') {
      tokenRequests.password += 1;
      const user = form.get('username');
      if (user === null || !users.has(user) || users.get(user) !== form.get('password')) {
        return json(400, { error: 'invalid_grant' });
      }
      return issueTokens(user, now);
    }
    if (grantType === 'refresh_token') {
      tokenRequests.refresh += 1;
      const presented = form.get('refresh_token') ?? '';
      const grant = refreshTokens.get(presented);
      refreshTokens.delete(presented);
      if (grant === undefined || now >= grant.expiresAt) return json(400, { error: 'invalid_grant' });
      return issueTokens(grant.user, now);
    }
    if (grantType === null) return json(400, { error: 'invalid_request' });
    return json(400, { error: 'unsupported_grant_type' });
  }

  function authenticate(req: IncomingMessage, now: number): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '');
    const token = match?.[1];
    if (token === undefined) return undefined;
    const grant = accessTokens.get(token);
    if (grant === undefined) return undefined;
    if (now >= grant.expiresAt) {
      accessTokens.delete(token);
      return undefined;
    }
    return grant.user;
  }

  /** The limit is kept per API user, so every token of one user shares it (ESET: per credentials). */
  function rateLimited(user: string, now: number): boolean {
    if (mode.rateLimitPerSecond <= 0) return false;
    let window = rateWindows.get(user);
    if (window === undefined) {
      window = new SlidingWindow();
      rateWindows.set(user, window);
    }
    if (window.count(now) >= mode.rateLimitPerSecond) {
      rateLimitedCalls += 1;
      return true;
    }
    window.add(now);
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Operations, as ESET's service would run them: validate the body, look up, apply.

  function operation(route: Route, req: IncomingMessage, body: Buffer, user: string, now: number): Answer {
    const actor: Actor = { authorUuid: userUuidFor(user), now };
    const notFound = rpcError(404, RPC.notFound, 'incident not found');
    switch (route.op) {
      case 'list': {
        try {
          const query = parseListQuery(new URL(req.url ?? '/', 'http://sandbox.invalid').searchParams);
          const page = listIncidents(incidents.values(), query);
          return json(200, {
            incidents: page.incidents.map((incident) => incidentView(incident, true)),
            nextPageToken: page.nextPageToken,
          });
        } catch (error) {
          if (error instanceof ListQueryError) return rpcError(400, RPC.invalidArgument, error.message);
          throw error;
        }
      }
      case 'get': {
        const incident = incidents.get(route.incident);
        return incident === undefined ? notFound : json(200, { incident: incidentView(incident) });
      }
      case 'close': {
        const input = parseCloseBody(body, route.incident);
        if (isProblem(input)) return fromProblem(input);
        const incident = incidents.get(route.incident);
        if (incident === undefined) return notFound;
        const refused = applyClose(incident, input, actor, mode.repeatApplies);
        if (refused !== undefined) return fromProblem(refused);
        incident.closesApplied += 1;
        return json(200, {});
      }
      case 'reopen': {
        const input = parseReopenBody(body, route.incident);
        if (isProblem(input)) return fromProblem(input);
        const incident = incidents.get(route.incident);
        if (incident === undefined) return notFound;
        const refused = applyReopen(incident, input.text, actor, mode.repeatApplies);
        if (refused !== undefined) return fromProblem(refused);
        incident.reopensApplied += 1;
        return json(200, {});
      }
      case 'createComment': {
        const input = parseCreateCommentBody(body, route.incident);
        if (isProblem(input)) return fromProblem(input);
        const incident = incidents.get(route.incident);
        if (incident === undefined) return notFound;
        // ESET documents nothing that would make a comment unique: every POST adds one.
        const comment = addComment(incident, input.text, actor);
        incident.commentsCreated += 1;
        return json(200, { comment: commentView(comment) });
      }
      case 'listComments': {
        const incident = incidents.get(route.incident);
        return incident === undefined
          ? notFound
          : json(200, { comments: incident.comments.map((comment) => commentView(comment)) });
      }
      case 'getComment':
      case 'deleteComment':
      case 'updateComment': {
        const input = route.op === 'updateComment' ? parseUpdateTextBody(body) : undefined;
        if (isProblem(input)) return fromProblem(input);
        const incident = incidents.get(route.incident);
        if (incident === undefined) return notFound;
        const index = incident.comments.findIndex((comment) => comment.uuid === route.comment);
        const comment = incident.comments[index];
        if (comment === undefined) return rpcError(404, RPC.notFound, 'comment not found');
        if (route.op === 'getComment') return json(200, { comment: commentView(comment) });
        // Undocumented whether ESET lets one user change another's comment; the sandbox does not.
        if (comment.authorUuid !== actor.authorUuid) {
          return rpcError(403, RPC.permissionDenied, 'only the author may change a comment');
        }
        if (input === undefined) {
          incident.comments.splice(index, 1);
        } else {
          comment.text = input.text;
          comment.updateTime = now;
        }
        incident.updateTime = now;
        return json(200, {});
      }
      case 'updateAttributes':
        return rpcError(501, RPC.unimplemented, 'basic-attributes:update is not implemented by the sandbox');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  function nextStep(route: Route): FaultStep {
    if (MUTATING.has(route.op)) {
      const scripted = scripts.get(route.incident)?.shift();
      if (scripted !== undefined) return scripted;
      return drawFault?.() ?? OK_STEP;
    }
    return faults?.scope === 'all' ? (drawFault?.() ?? OK_STEP) : OK_STEP;
  }

  function scriptedStatus(step: Extract<FaultStep, { kind: 'status' }>): Answer {
    const answer: Answer = { status: step.status };
    if (step.retryAfter !== undefined) answer.headers = { 'retry-after': step.retryAfter };
    if (step.body !== undefined) {
      answer.body = step.body;
      answer.contentType = step.contentType ?? guessContentType(step.body);
    } else if (step.contentType !== undefined) {
      answer.contentType = step.contentType;
    }
    return answer;
  }

  function redirect(step: Extract<FaultStep, { kind: 'redirect' }>): Answer {
    const location = step.location ?? `${baseUrl}${LOGIN_PATH}`;
    // A location on the sandbox itself serves the sign-in page, so a client that follows the
    // redirect gets a 200 in HTML: the worst case, as it looks like success.
    const target = new URL(location, baseUrl);
    const own = /^\/(v2|oauth|_sandbox)(\/|$)/.test(target.pathname);
    if (target.origin === new URL(baseUrl).origin && !own) redirectPages.add(target.pathname);
    const body = `<!doctype html><html><body><a href="${location.replace(/"/g, '&quot;')}">Moved</a></body></html>`;
    return { status: step.status, headers: { location }, contentType: 'text/html; charset=utf-8', body };
  }

  function runStep(step: FaultStep, apply: () => Answer, req: IncomingMessage, body: Buffer, now: number) {
    const result = runStepKind(step, apply, req, body, now);
    if (step.requestIdLength !== undefined) {
      const answer = 'holdMs' in result ? result.answer : result;
      answer.requestIdLength = step.requestIdLength;
    }
    return result;
  }

  function runStepKind(
    step: FaultStep,
    apply: () => Answer,
    req: IncomingMessage,
    body: Buffer,
    now: number,
  ): Answer | HoldPlan {
    switch (step.kind) {
      case 'ok':
        return apply();
      case 'status':
        if (step.applied === true) apply();
        return scriptedStatus(step);
      case 'redirect':
        return redirect(step);
      case 'pending': {
        const responseId = randomUUID();
        cache.set(responseId, {
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          createdAt: now,
          resendsUntilReady: step.resendsUntilReady ?? 1,
          resends: 0,
          // Computed now: the call is applied when it arrives, whatever happens to the answer.
          answer: apply(),
        });
        const answer: Answer = { status: 202, headers: { 'response-id': responseId }, responseId };
        const holdMs = step.delayMs ?? mode.pendingDelayMs;
        return holdMs > 0 ? { holdMs, answer } : answer;
      }
      case 'lostCache': {
        apply();
        const responseId = randomUUID();
        return { status: 202, headers: { 'response-id': responseId }, responseId };
      }
      case 'hang':
        if (step.applied) apply();
        return { holdMs: step.ms, answer: { status: 504 } };
    }
  }

  /** The documented `response-id` retrieval: identical re-send, 202 until ready, answer once, then 404. */
  function resend(responseId: string, req: IncomingMessage, body: Buffer, now: number): Answer {
    const entry = cache.get(responseId);
    if (entry === undefined) return rpcError(404, RPC.notFound, 'response not found');
    const age = now - entry.createdAt;
    if (age >= cacheTtlMs) {
      cache.delete(responseId);
      return rpcError(404, RPC.notFound, 'response not found');
    }
    if (entry.method !== req.method || entry.url !== req.url || !entry.body.equals(body)) {
      return rpcError(
        400,
        RPC.invalidArgument,
        'request does not match the cached request for this response-id',
      );
    }
    entry.resends += 1;
    if (entry.resends > entry.resendsUntilReady) {
      cache.delete(responseId);
      return entry.answer;
    }
    if (age >= gatewayTimeoutMs) {
      cache.delete(responseId);
      return { status: 504 };
    }
    return { status: 202, headers: { 'response-id': responseId } };
  }

  function api(req: IncomingMessage, body: Buffer, now: number, route: Route | Answer): Answer | HoldPlan {
    const user = authenticate(req, now);
    if (user === undefined) return { status: 401 };
    if (rateLimited(user, now)) return { status: 429 };
    const responseId = header(req, 'response-id');
    if (responseId !== undefined && responseId !== '') return resend(responseId, req, body, now);
    if (!isRoute(route)) return route;
    return runStep(nextStep(route), () => operation(route, req, body, user, now), req, body, now);
  }

  // -------------------------------------------------------------------------------------------
  // Admin

  function consoleAction(action: ConsoleInput['action'], input: unknown): unknown {
    const parsed = parseConsoleInput(action, input);
    if (parsed.action === 'comment') consoleComment(parsed.uuid, parsed.text, parsed.by);
    else if (parsed.action === 'close') consoleClose(parsed.uuid, parsed.options);
    else consoleReopen(parsed.uuid, parsed.options);
    return {};
  }

  function admin(req: IncomingMessage, body: Buffer, pathname: string): Answer {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return { status: 403 };
    if (pathname === '/_sandbox/state') {
      return req.method === 'GET' ? json(200, state()) : { status: 405, headers: { allow: 'GET' } };
    }
    const actions: Record<string, (input: unknown) => unknown> = {
      '/_sandbox/incidents': (input) => {
        // Every record is built before any is added, so one bad item adds none.
        const records = parseSeedIncidents(input, clock());
        for (const record of records) incidents.set(record.uuid, record);
        return { incidents: records.map((record) => record.uuid) };
      },
      '/_sandbox/script': (input) => {
        if (!isRecord(input) || typeof input.uuid !== 'string' || input.uuid === '') {
          throw new SandboxInputError('body must be {"uuid","steps":[...]}');
        }
        scripts.set(input.uuid, parseFaultSteps(input.steps));
        return {};
      },
      '/_sandbox/faults': (input) => {
        const off = input === null || (isRecord(input) && (input.mix === undefined || input.mix === null));
        setFaults(off ? undefined : parseFaultConfig(input));
        return {};
      },
      '/_sandbox/mode': (input) => {
        if (!isRecord(input)) throw new SandboxInputError('body must be an object');
        onlyKeys(input, ['repeatApplies', 'rateLimitPerSecond', 'pendingDelayMs'], 'mode');
        setMode(input);
        return { ...mode };
      },
      '/_sandbox/console/close': (input) => consoleAction('close', input),
      '/_sandbox/console/reopen': (input) => consoleAction('reopen', input),
      '/_sandbox/console/comment': (input) => consoleAction('comment', input),
      '/_sandbox/expire-tokens': () => {
        accessTokens.clear();
        return {};
      },
      '/_sandbox/reset': () => {
        reset();
        return {};
      },
    };
    const action = actions[pathname];
    if (action === undefined) return json(404, { error: 'unknown admin endpoint' });
    if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
    try {
      const input: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      return json(200, action(input));
    } catch (error) {
      if (error instanceof SandboxInputError || error instanceof SyntaxError) {
        return json(400, { error: error.message });
      }
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  function recordCall(call: SandboxCall): void {
    calls.push(call);
    const key = String(call.status);
    callsByStatus[key] = (callsByStatus[key] ?? 0) + 1;
  }

  /**
   * Holds a request, then sends the planned answer; `close()` sends it at once. A client that
   * gives up first is recorded as 499 (nginx's convention): it never saw an answer, and for a
   * delayed 202 the cached answer stays behind, unreachable.
   */
  function hold(res: ServerResponse, plan: HoldPlan, call: SandboxCall, notify: (status: number) => void) {
    let done = false;
    const finish = (status: number, answer: boolean): Promise<void> => {
      if (done) return Promise.resolve();
      done = true;
      clearTimeout(timer);
      holds.delete(held);
      recordCall({ ...call, status });
      notify(status);
      if (!answer) return Promise.resolve();
      return new Promise<void>((resolve) => {
        res.once('finish', () => resolve());
        res.once('close', () => resolve());
        send(res, call.requestId, plan.answer, { connection: 'close' });
        if (res.destroyed || res.writableFinished) resolve();
      });
    };
    const held: Hold = { end: () => finish(plan.answer.status, true) };
    const timer = setTimeout(() => void finish(plan.answer.status, true), plan.holdMs);
    timer.unref();
    holds.add(held);
    res.once('close', () => void finish(499, false));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let requestId: string = randomUUID();
    const now = clock();
    const rawPath = req.url ?? '/';
    const pathname = new URL(rawPath, 'http://sandbox.invalid').pathname;
    const method = req.method ?? '';
    const kind: SandboxRequestEvent['kind'] = pathname.startsWith('/_sandbox/')
      ? 'admin'
      : pathname === '/oauth/token'
        ? 'token'
        : 'api';
    const route = kind === 'api' ? routeOf(method, pathname) : undefined;
    const callKind: SandboxCallKind | undefined =
      kind === 'token'
        ? 'token'
        : route === undefined
          ? undefined
          : isRoute(route)
            ? CALL_KIND[route.op]
            : 'other';
    const notify = (status: number) =>
      options.onRequest?.({
        kind,
        ...(callKind === undefined ? {} : { call: callKind }),
        method,
        path: rawPath,
        status,
      });

    if (kind === 'api') {
      maxCallsInAnySecond = Math.max(maxCallsInAnySecond, arrivals.add(now));
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      send(res, requestId, { status: 413 }, { connection: 'close' });
      notify(413);
      return;
    }

    if (kind === 'token') {
      const answer = tokenEndpoint(req, body, now);
      send(res, requestId, answer);
      notify(answer.status);
      return;
    }
    if (kind === 'admin') {
      const answer = admin(req, body, pathname);
      send(res, requestId, answer);
      notify(answer.status);
      return;
    }

    const resentId = header(req, 'response-id');
    const call: SandboxCall = {
      at: now,
      call: callKind ?? 'other',
      method,
      path: rawPath,
      status: 0,
      responseIdResend: resentId !== undefined && resentId !== '',
      requestId,
    };
    const integration = header(req, '3rd-integration');
    if (integration !== undefined) call.integration = integration;
    if (call.responseIdResend) call.responseId = resentId;

    const result: Answer | HoldPlan = redirectPages.has(pathname)
      ? { status: 200, contentType: 'text/html; charset=utf-8', body: LOGIN_PAGE }
      : api(req, body, now, route ?? rpcError(404, RPC.notFound, 'not found'));
    const answer = 'holdMs' in result ? result.answer : result;
    if (answer.requestIdLength !== undefined) {
      requestId = stretchRequestId(requestId, answer.requestIdLength);
      call.requestId = requestId;
    }
    if (answer.responseId !== undefined) call.responseId = answer.responseId;
    if ('holdMs' in result) {
      hold(res, result, call, notify);
      return;
    }
    recordCall({ ...call, status: result.status });
    send(res, requestId, result);
    notify(result.status);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('eset-sandbox: unexpected error', error);
      send(res, randomUUID(), { status: 500 });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    addIncident,
    script(uuid, steps) {
      scripts.set(uuid, parseFaultSteps(steps));
    },
    setFaults,
    setRepeatApplies(on) {
      setMode({ repeatApplies: on });
    },
    setRateLimitPerSecond(perSecond) {
      setMode({ rateLimitPerSecond: perSecond });
    },
    userUuid(name = username) {
      return userUuidFor(name);
    },
    consoleClose,
    consoleReopen,
    consoleComment,
    expireAccessTokens() {
      accessTokens.clear();
    },
    state,
    reset,
    close() {
      closing ??= (async () => {
        await Promise.all([...holds].map((held) => held.end()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
