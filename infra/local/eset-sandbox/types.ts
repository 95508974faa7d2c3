/**
 * The sandbox's public types: options, the state it reports, and the handle tests hold.
 */
import type { FaultConfig, FaultStep } from './faults';
import type { IncidentOptions, IncidentStatus, ResolveReason, SeverityLevel } from './incidents';

/** The console user whose uuid authors console actions unless they name another. */
export const CONSOLE_USER = 'console-analyst@example.com';

export interface SandboxOptions {
  port?: number;
  /** The API user the sandbox is configured with (default `sandbox-user`). */
  username?: string;
  password?: string;
  /** Further API users, e.g. to show that the rate limit is per user. */
  extraUsers?: Array<{ username: string; password: string }>;
  tokenTtlSeconds?: number;
  refreshTtlSeconds?: number;
  /** Calls per second per API user (ESET documents 10); 0 turns the limit off. */
  rateLimitPerSecond?: number;
  cacheTtlMs?: number;
  gatewayTimeoutMs?: number;
  faults?: FaultConfig;
  /**
   * Apply every repeated close, reopen or comment again and answer 200, instead of refusing a
   * close of a closed or a reopen of an open incident with 400 (the default). ESET documents
   * neither, so a client has to survive both.
   */
  repeatApplies?: boolean;
  /**
   * How long a `pending` step without its own `delayMs` holds the request before answering 202
   * (ESET answers 202 only after about 30 s). Default 0.
   */
  pendingDelayMs?: number;
  clock?: () => number;
  /** Called once per answered request (API, token and admin), e.g. for the CLI's call log. */
  onRequest?: (event: SandboxRequestEvent) => void;
}

/** What a call was, so tests can count per kind. `token` only appears in {@link SandboxRequestEvent}s. */
export type SandboxCallKind =
  | 'token'
  | 'close'
  | 'reopen'
  | 'comment'
  | 'read'
  | 'list'
  | 'comments'
  | 'other';

export interface SandboxRequestEvent {
  kind: 'api' | 'token' | 'admin';
  /** Set for API and token requests. */
  call?: SandboxCallKind;
  method: string;
  path: string;
  status: number;
}

/**
 * One API call as the sandbox saw it. `call` is `comment` for a comment creation, `comments` for
 * a comment list, `read` for a single incident or comment, `other` for the rest (text updates,
 * deletes, unknown paths, wrong methods, redirect targets).
 */
export interface SandboxCall {
  at: number;
  call: SandboxCallKind;
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

/** A comment as ESET lists it (`v2IncidentComment`). */
export interface SandboxComment {
  uuid: string;
  incidentUuid: string;
  text: string;
  authorUuid: string;
  createTime: string;
  updateTime: string;
  isFinalComment: boolean;
}

export interface SandboxIncidentState {
  status: IncidentStatus;
  severity: SeverityLevel;
  displayName: string;
  resolveReason: ResolveReason;
  /** Text of the current final comment, if any. */
  finalComment?: string;
  updateTime: string;
  /** Closes, reopens and comment creations applied through the API (console actions count nothing). */
  closesApplied: number;
  reopensApplied: number;
  commentsCreated: number;
  /** Oldest first, as `GET .../comments` lists them. */
  comments: SandboxComment[];
}

export interface SandboxState {
  incidents: Record<string, SandboxIncidentState>;
  tokenRequests: { password: number; refresh: number };
  calls: SandboxCall[];
  callsByStatus: Record<string, number>;
  maxCallsInAnySecond: number;
  /** Calls refused with 429 by the per-API-user rate limit (not scripted or drawn faults). */
  rateLimited: number;
  /** Requests currently held by a `hang` step or a delayed `pending` step. */
  hanging: number;
}

/** Settings that can change while the sandbox runs (`POST /_sandbox/mode`). */
export interface SandboxMode {
  repeatApplies: boolean;
  rateLimitPerSecond: number;
  pendingDelayMs: number;
}

export interface ConsoleCloseOptions {
  reason?: ResolveReason;
  comment?: string;
  /** Username of the person acting; default {@link CONSOLE_USER}. */
  by?: string;
}

export interface ConsoleReopenOptions {
  comment?: string;
  by?: string;
}

export interface EsetSandbox {
  url: string;
  /** Adds (or replaces) an incident; status defaults to open. */
  addIncident(uuid: string, status?: IncidentStatus, opts?: IncidentOptions): void;
  /** Steps for the next mutating calls (close, reopen, comment creation) on this incident. */
  script(uuid: string, steps: FaultStep[]): void;
  setFaults(faults: FaultConfig | undefined): void;
  setRepeatApplies(on: boolean): void;
  setRateLimitPerSecond(perSecond: number): void;
  /** The stable user uuid of an API or console user; default the configured API user. */
  userUuid(username?: string): string;
  /**
   * What people do in the ESET console: they change the incident like the API calls do, but
   * count as no API call and meet no faults or rate limits. They throw {@link SandboxInputError}
   * where ESET would refuse (unknown incident, closing a closed one, reopening an open one).
   */
  consoleClose(uuid: string, options?: ConsoleCloseOptions): void;
  consoleReopen(uuid: string, options?: ConsoleReopenOptions): void;
  consoleComment(uuid: string, text: string, by?: string): void;
  expireAccessTokens(): void;
  state(): SandboxState;
  /** Forgets incidents, scripts, cached answers and counts; keeps users, faults and mode. */
  reset(): void;
  close(): Promise<void>;
}
