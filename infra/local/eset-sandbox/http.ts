/**
 * The HTTP side of the sandbox's API: the answer type, google.rpc.Status errors, routing of
 * ESET's incident paths to operations, and small request/response helpers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxInputError } from './faults';
import { type Problem, RPC } from './incidents';
import type { SandboxCallKind } from './types';

export const MAX_BODY_BYTES = 1_048_576;
export const WINDOW_MS = 1_000;
/** The spec's maxLength for every uuid path parameter. */
export const MAX_UUID_PARAM = 100;

/** What the sandbox answers to one request. */
export interface Answer {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  responseId?: string;
  requestIdLength?: number;
}

export type Operation =
  | 'list'
  | 'get'
  | 'close'
  | 'reopen'
  | 'listComments'
  | 'createComment'
  | 'getComment'
  | 'deleteComment'
  | 'updateComment'
  | 'updateAttributes';

export interface Route {
  op: Operation;
  incident: string;
  comment: string;
}

export const CALL_KIND: Record<Operation, SandboxCallKind> = {
  list: 'list',
  get: 'read',
  close: 'close',
  reopen: 'reopen',
  listComments: 'comments',
  createComment: 'comment',
  getComment: 'read',
  deleteComment: 'other',
  updateComment: 'other',
  updateAttributes: 'other',
};

/** Calls that change an incident: scripts apply to them, and by default so does the mix. */
export const MUTATING = new Set<Operation>(['close', 'reopen', 'createComment']);

/** google.rpc.Status-shaped error, the only error shape ESET's spec carries. */
export function rpcError(status: number, code: number, message: string): Answer {
  return { status, contentType: 'application/json', body: JSON.stringify({ code, message, details: [] }) };
}

export function fromProblem(p: Problem): Answer {
  return rpcError(p.status, p.code, p.message);
}

export function json(status: number, value: unknown): Answer {
  return { status, contentType: 'application/json', body: JSON.stringify(value) };
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
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

/** A request-id of the asked length, built from the real one so it still identifies the call. */
export function stretchRequestId(requestId: string, length: number): string {
  return requestId.repeat(Math.ceil(length / requestId.length)).slice(0, length);
}

/**
 * Maps a path and method to an operation, or to the answer for a path or method ESET does not
 * serve. Path segments are decoded one by one, so `%3Aclose` works as ESET's gateway allows.
 */
export function routeOf(method: string, pathname: string): Route | Answer {
  const raw = pathname.split('/');
  if (raw[1] !== 'v2' || raw[2] !== 'incidents' || raw.length > 7)
    return rpcError(404, RPC.notFound, 'not found');
  let segments: string[];
  try {
    segments = raw.slice(3).map((segment) => decodeURIComponent(segment));
  } catch {
    return rpcError(400, RPC.invalidArgument, 'malformed path');
  }
  const [first = '', second, third = '', fourth] = segments;
  const pick = (ops: Partial<Record<string, Operation>>, incident: string, comment = ''): Route | Answer => {
    const op = ops[method];
    if (op === undefined) return { status: 405, headers: { allow: Object.keys(ops).join(', ') } };
    if (incident.length > MAX_UUID_PARAM || comment.length > MAX_UUID_PARAM) {
      return rpcError(
        400,
        RPC.invalidArgument,
        `uuid path parameters are at most ${MAX_UUID_PARAM} characters`,
      );
    }
    return { op, incident, comment };
  };
  if (segments.length === 0) return pick({ GET: 'list' }, '');
  if (segments.length === 1) {
    if (first.endsWith(':close')) return pick({ POST: 'close' }, first.slice(0, -':close'.length));
    if (first.endsWith(':reopen')) return pick({ POST: 'reopen' }, first.slice(0, -':reopen'.length));
    return pick({ GET: 'get' }, first);
  }
  if (segments.length === 2 && second === 'comments') {
    return pick({ GET: 'listComments', POST: 'createComment' }, first);
  }
  if (segments.length === 2 && second === 'basic-attributes:update') {
    return pick({ POST: 'updateAttributes' }, first);
  }
  if (segments.length === 3 && second === 'comments') {
    return pick({ GET: 'getComment', DELETE: 'deleteComment' }, first, third);
  }
  if (segments.length === 4 && second === 'comments' && fourth === 'text:update') {
    return pick({ POST: 'updateComment' }, first, third);
  }
  return rpcError(404, RPC.notFound, 'not found');
}

export function isRoute(value: Route | Answer): value is Route {
  return 'op' in value;
}

/** Counts events in a sliding one-second window; shared by the rate limiter and the stats. */
export class SlidingWindow {
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

export function send(
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

export function guessContentType(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}
