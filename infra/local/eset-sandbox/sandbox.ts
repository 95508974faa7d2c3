/**
 * A local, fault-injectable stand-in for ESET Connect (token endpoint + incident management).
 * It keeps the documented rules (form-encoded token requests, Bearer auth, `:close`, the 202 /
 * `response-id` cache, per-credential rate limit) so the bridge can be exercised end to end
 * without an ESET tenant. It mirrors the rules of ESET Connect's documentation (authentication, 202 + response-id, rate limits, errors).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createFaultDrawer,
  type FaultConfig,
  type FaultStep,
  parseFaultConfig,
  parseFaultSteps,
  SandboxInputError,
} from './faults';

export type { FaultConfig, FaultMix, FaultStep, ScriptableStatus } from './faults';
export { SandboxInputError } from './faults';

export const INCIDENT_STATUSES = [
  'INCIDENT_STATUS_UNSPECIFIED',
  'INCIDENT_STATUS_OPEN',
  'INCIDENT_STATUS_IN_PROGRESS',
  'INCIDENT_STATUS_CLOSED',
  'INCIDENT_STATUS_WAITING_FOR_INPUT',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const RESOLVE_REASONS = [
  'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
  'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_FALSE_POSITIVE',
  'INCIDENT_RESOLVE_REASON_SUSPICIOUS',
] as const;
export type ResolveReason = (typeof RESOLVE_REASONS)[number];

export interface SandboxOptions {
  port?: number;
  username?: string;
  password?: string;
  tokenTtlSeconds?: number;
  refreshTtlSeconds?: number;
  rateLimitPerSecond?: number;
  cacheTtlMs?: number;
  gatewayTimeoutMs?: number;
  faults?: FaultConfig;
  clock?: () => number;
  /** Called once per answered request (API, token and admin), e.g. for the CLI's call log. */
  onRequest?: (event: SandboxRequestEvent) => void;
}

export interface SandboxRequestEvent {
  kind: 'api' | 'token' | 'admin';
  method: string;
  path: string;
  status: number;
}

export interface SandboxCall {
  at: number;
  method: string;
  path: string;
  status: number;
  responseIdResend: boolean;
  requestId: string;
  /** Value of the `3rd-integration` request header, when the client sent one. */
  integration?: string;
  /** The `response-id` the client re-sent, or the one a 202 handed out. */
  responseId?: string;
}

export interface SandboxIncidentState {
  status: IncidentStatus;
  resolveReason?: string;
  finalComment?: string;
  closesApplied: number;
}

export interface SandboxState {
  incidents: Record<string, SandboxIncidentState>;
  tokenRequests: { password: number; refresh: number };
  calls: SandboxCall[];
  callsByStatus: Record<string, number>;
  maxCallsInAnySecond: number;
  /** Requests currently held by a `hang` step. */
  hanging: number;
}

export interface EsetSandbox {
  url: string;
  addIncident(uuid: string, status?: IncidentStatus): void;
  script(uuid: string, steps: FaultStep[]): void;
  setFaults(faults: FaultConfig | undefined): void;
  expireAccessTokens(): void;
  state(): SandboxState;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULTS = {
  username: 'sandbox-user',
  password: 'sandbox-password',
  tokenTtlSeconds: 3600,
  refreshTtlSeconds: 7 * 24 * 3600,
  rateLimitPerSecond: 10,
  cacheTtlMs: 600_000,
  gatewayTimeoutMs: 120_000,
} as const;

const MAX_BODY_BYTES = 1_048_576;
const WINDOW_MS = 1_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

interface Answer {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  responseId?: string;
}

interface HangPlan {
  hangMs: number;
  responseId?: string;
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

interface IncidentRecord {
  uuid: string;
  displayName: string;
  status: IncidentStatus;
  resolveReason?: ResolveReason;
  finalComment?: string;
  closesApplied: number;
  createTime: string;
  updateTime: string;
}

interface Hang {
  end(): Promise<void>;
}

/** google.rpc.Status-shaped error, the only error shape ESET's spec carries. */
function rpcError(status: number, code: number, message: string): Answer {
  return { status, contentType: 'application/json', body: JSON.stringify({ code, message, details: [] }) };
}

function json(status: number, value: unknown): Answer {
  return { status, contentType: 'application/json', body: JSON.stringify(value) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SandboxInputError('body too large'));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Counts events in a sliding one-second window; shared by the rate limiter and the stats. */
class SlidingWindow {
  private times: number[] = [];
  count(now: number): number {
    this.times = this.times.filter((t) => t > now - WINDOW_MS && t <= now);
    return this.times.length;
  }
  add(now: number): number {
    this.count(now);
    this.times.push(now);
    return this.times.length;
  }
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
  const rateLimit = options.rateLimitPerSecond ?? DEFAULTS.rateLimitPerSecond;
  const cacheTtlMs = options.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
  const gatewayTimeoutMs = options.gatewayTimeoutMs ?? DEFAULTS.gatewayTimeoutMs;

  const incidents = new Map<string, IncidentRecord>();
  const scripts = new Map<string, FaultStep[]>();
  const cache = new Map<string, CachedRequest>();
  const accessTokens = new Map<string, Grant>();
  const refreshTokens = new Map<string, Grant>();
  const rateWindows = new Map<string, SlidingWindow>();
  const hangs = new Set<Hang>();
  let arrivals = new SlidingWindow();
  let calls: SandboxCall[] = [];
  let callsByStatus: Record<string, number> = {};
  let tokenRequests = { password: 0, refresh: 0 };
  let maxCallsInAnySecond = 0;
  let faults: FaultConfig | undefined;
  let drawFault: (() => FaultStep) | undefined;

  function setFaults(config: FaultConfig | undefined): void {
    faults = config === undefined ? undefined : parseFaultConfig(config);
    drawFault = faults === undefined ? undefined : createFaultDrawer(faults);
  }
  setFaults(options.faults);

  function addIncident(uuid: string, status: IncidentStatus = 'INCIDENT_STATUS_OPEN'): void {
    if (typeof uuid !== 'string' || uuid.length === 0) throw new SandboxInputError('uuid must be a string');
    if (!INCIDENT_STATUSES.includes(status)) throw new SandboxInputError(`unknown status ${String(status)}`);
    const now = new Date(clock()).toISOString();
    incidents.set(uuid, {
      uuid,
      displayName: `Sandbox incident ${uuid.slice(0, 8)}`,
      status,
      closesApplied: 0,
      createTime: now,
      updateTime: now,
    });
  }

  function state(): SandboxState {
    const incidentState: Record<string, SandboxIncidentState> = {};
    for (const [uuid, incident] of incidents) {
      const entry: SandboxIncidentState = { status: incident.status, closesApplied: incident.closesApplied };
      if (incident.resolveReason !== undefined) entry.resolveReason = incident.resolveReason;
      if (incident.finalComment !== undefined) entry.finalComment = incident.finalComment;
      incidentState[uuid] = entry;
    }
    return structuredClone({
      incidents: incidentState,
      tokenRequests,
      calls,
      callsByStatus,
      maxCallsInAnySecond,
      hanging: hangs.size,
    });
  }

  function reset(): void {
    incidents.clear();
    scripts.clear();
    cache.clear();
    rateWindows.clear();
    arrivals = new SlidingWindow();
    calls = [];
    callsByStatus = {};
    tokenRequests = { password: 0, refresh: 0 };
    maxCallsInAnySecond = 0;
    // Restart the fault sequence so a run after reset is as reproducible as the first one.
    setFaults(faults);
  }

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
      if (form.get('username') !== username || form.get('password') !== password) {
        return json(400, { error: 'invalid_grant' });
      }
      return issueTokens(username, now);
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

  function incidentView(incident: IncidentRecord): unknown {
    return {
      incident: {
        uuid: incident.uuid,
        displayName: incident.displayName,
        description: '',
        status: incident.status,
        severity: 'INCIDENT_SEVERITY_MEDIUM',
        resolveReason: incident.resolveReason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED',
        assigneeUuid: '',
        createTime: incident.createTime,
        updateTime: incident.updateTime,
        tags: [],
      },
    };
  }

  /** The close as ESET's service would run it: validate, look up, refuse if closed, apply. */
  function applyClose(uuid: string, body: Buffer, now: number): Answer {
    let parsed: unknown = {};
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return rpcError(400, 3, 'invalid JSON in request body');
      }
    }
    if (!isRecord(parsed)) return rpcError(400, 3, 'request body must be a JSON object');
    const reason = parsed.closureReason ?? 'INCIDENT_RESOLVE_REASON_UNSPECIFIED';
    if (typeof reason !== 'string' || !RESOLVE_REASONS.includes(reason as ResolveReason)) {
      return rpcError(400, 3, `invalid value for enum field closureReason: ${JSON.stringify(reason)}`);
    }
    const comment = parsed.finalComment ?? {};
    if (!isRecord(comment)) return rpcError(400, 3, 'finalComment must be an object');
    if (comment.text !== undefined && typeof comment.text !== 'string') {
      return rpcError(400, 3, 'finalComment.text must be a string');
    }
    const incident = incidents.get(uuid);
    if (incident === undefined) return rpcError(404, 5, 'incident not found');
    if (incident.status === 'INCIDENT_STATUS_CLOSED') return rpcError(400, 9, 'incident is already closed');
    incident.status = 'INCIDENT_STATUS_CLOSED';
    incident.resolveReason = reason as ResolveReason;
    if (typeof comment.text === 'string') incident.finalComment = comment.text;
    incident.closesApplied += 1;
    incident.updateTime = new Date(now).toISOString();
    return json(200, {});
  }

  function nextStep(uuid: string): FaultStep {
    const script = scripts.get(uuid);
    const scripted = script?.shift();
    if (scripted !== undefined) return scripted;
    return drawFault?.() ?? { kind: 'ok' };
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

  function close(uuid: string, req: IncomingMessage, body: Buffer, now: number): Answer | HangPlan {
    const step = nextStep(uuid);
    switch (step.kind) {
      case 'ok':
        return applyClose(uuid, body, now);
      case 'status':
        return scriptedStatus(step);
      case 'pending': {
        const responseId = randomUUID();
        cache.set(responseId, {
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          createdAt: now,
          resendsUntilReady: step.resendsUntilReady ?? 1,
          resends: 0,
          answer: applyClose(uuid, body, now),
        });
        return { status: 202, headers: { 'response-id': responseId }, responseId };
      }
      case 'lostCache': {
        applyClose(uuid, body, now);
        const responseId = randomUUID();
        return { status: 202, headers: { 'response-id': responseId }, responseId };
      }
      case 'hang':
        if (step.applied) applyClose(uuid, body, now);
        return { hangMs: step.ms };
    }
  }

  /** The documented `response-id` retrieval: identical re-send, 202 until ready, answer once, then 404. */
  function resend(responseId: string, req: IncomingMessage, body: Buffer, now: number): Answer {
    const entry = cache.get(responseId);
    if (entry === undefined) return rpcError(404, 5, 'response not found');
    const age = now - entry.createdAt;
    if (age >= cacheTtlMs) {
      cache.delete(responseId);
      return rpcError(404, 5, 'response not found');
    }
    if (entry.method !== req.method || entry.url !== req.url || !entry.body.equals(body)) {
      return rpcError(400, 3, 'request does not match the cached request for this response-id');
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

  function api(req: IncomingMessage, body: Buffer, now: number): Answer | HangPlan {
    const user = authenticate(req, now);
    if (user === undefined) return { status: 401 };
    if (rateLimit > 0) {
      let window = rateWindows.get(user);
      if (window === undefined) {
        window = new SlidingWindow();
        rateWindows.set(user, window);
      }
      if (window.count(now) >= rateLimit) return { status: 429 };
      window.add(now);
    }
    const responseId = header(req, 'response-id');
    if (responseId !== undefined && responseId !== '') return resend(responseId, req, body, now);

    const pathname = new URL(req.url ?? '/', 'http://sandbox.invalid').pathname;
    const match = /^\/v2\/incidents\/([^/]+)$/.exec(pathname);
    const segment = match?.[1];
    if (segment === undefined) return rpcError(404, 5, 'not found');
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return rpcError(400, 3, 'malformed path');
    }
    if (decoded.endsWith(':close')) {
      if (req.method !== 'POST') return { status: 405, headers: { allow: 'POST' } };
      return close(decoded.slice(0, -':close'.length), req, body, now);
    }
    if (req.method !== 'GET') return { status: 405, headers: { allow: 'GET' } };
    const incident = incidents.get(decoded);
    return incident === undefined
      ? rpcError(404, 5, 'incident not found')
      : json(200, incidentView(incident));
  }

  function admin(req: IncomingMessage, body: Buffer, pathname: string): Answer {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return { status: 403 };
    if (pathname === '/_sandbox/state') {
      return req.method === 'GET' ? json(200, state()) : { status: 405, headers: { allow: 'GET' } };
    }
    const actions: Record<string, (input: unknown) => unknown> = {
      '/_sandbox/incidents': (input) => {
        if (!isRecord(input) || !Array.isArray(input.incidents)) {
          throw new SandboxInputError('body must be {"incidents":[{"uuid","status"?}]}');
        }
        const list = input.incidents.map((item: unknown, index) => {
          if (!isRecord(item) || typeof item.uuid !== 'string' || item.uuid === '') {
            throw new SandboxInputError(`incidents[${index}].uuid must be a non-empty string`);
          }
          if (item.status !== undefined && !INCIDENT_STATUSES.includes(item.status as IncidentStatus)) {
            throw new SandboxInputError(
              `incidents[${index}].status must be one of ${INCIDENT_STATUSES.join(', ')}`,
            );
          }
          return { uuid: item.uuid, status: (item.status ?? 'INCIDENT_STATUS_OPEN') as IncidentStatus };
        });
        for (const item of list) addIncident(item.uuid, item.status);
        return { incidents: list.map((item) => item.uuid) };
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

  function send(
    res: ServerResponse,
    requestId: string,
    answer: Answer,
    extra: Record<string, string> = {},
  ): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = { 'request-id': requestId, ...answer.headers, ...extra };
    if (answer.contentType !== undefined) headers['content-type'] = answer.contentType;
    const body = answer.body ?? '';
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  function recordCall(call: SandboxCall): void {
    calls.push(call);
    const key = String(call.status);
    callsByStatus[key] = (callsByStatus[key] ?? 0) + 1;
  }

  function holdHang(
    res: ServerResponse,
    plan: HangPlan,
    call: SandboxCall,
    notify: (status: number) => void,
  ) {
    let done = false;
    const finish = (status: number, answer: boolean): Promise<void> => {
      if (done) return Promise.resolve();
      done = true;
      clearTimeout(timer);
      hangs.delete(hang);
      recordCall({ ...call, status });
      notify(status);
      if (!answer) return Promise.resolve();
      return new Promise<void>((resolve) => {
        res.once('finish', () => resolve());
        res.once('close', () => resolve());
        send(res, call.requestId, { status: 504 }, { connection: 'close' });
        if (res.destroyed || res.writableFinished) resolve();
      });
    };
    const hang: Hang = { end: () => finish(504, true) };
    const timer = setTimeout(() => void finish(504, true), plan.hangMs);
    timer.unref();
    hangs.add(hang);
    // 499: the client gave up first (nginx's convention); it never saw an answer.
    res.once('close', () => void finish(499, false));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const now = clock();
    const rawPath = req.url ?? '/';
    const pathname = new URL(rawPath, 'http://sandbox.invalid').pathname;
    const method = req.method ?? '';
    const kind: SandboxRequestEvent['kind'] = pathname.startsWith('/_sandbox/')
      ? 'admin'
      : pathname === '/oauth/token'
        ? 'token'
        : 'api';
    const notify = (status: number) => options.onRequest?.({ kind, method, path: rawPath, status });

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
      method,
      path: rawPath,
      status: 0,
      responseIdResend: resentId !== undefined && resentId !== '',
      requestId,
    };
    const integration = header(req, '3rd-integration');
    if (integration !== undefined) call.integration = integration;
    if (call.responseIdResend) call.responseId = resentId;

    const result = api(req, body, now);
    if ('hangMs' in result) {
      holdHang(res, result, call, notify);
      return;
    }
    if (result.responseId !== undefined) call.responseId = result.responseId;
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

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    addIncident,
    script(uuid, steps) {
      scripts.set(uuid, parseFaultSteps(steps));
    },
    setFaults,
    expireAccessTokens() {
      accessTokens.clear();
    },
    state,
    reset,
    close() {
      closing ??= (async () => {
        await Promise.all([...hangs].map((hang) => hang.end()));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function guessContentType(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
