/**
 * A small client for the sandbox tests: starts sandboxes on an injected clock, gets tokens and
 * sends API calls, so each test reads as the calls it makes.
 */
import { afterEach } from 'vitest';
import {
  createEsetSandbox,
  type EsetSandbox,
  type SandboxOptions,
} from '../../infra/local/eset-sandbox/sandbox';

export const INCIDENT = '123e4567-e89b-12d3-a456-426614174000';
export const OTHER = '223e4567-e89b-12d3-a456-426614174001';
export const T0 = Date.UTC(2027, 0, 15, 12, 0, 0);

/**
 * Registers an afterEach that closes the test's sandboxes and rewinds the clock; returns how to
 * start one and move its clock.
 */
export function useSandbox() {
  const started: EsetSandbox[] = [];
  let now = T0;
  afterEach(async () => {
    await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
    now = T0;
  });
  return {
    async start(options: SandboxOptions = {}): Promise<EsetSandbox> {
      const sandbox = await createEsetSandbox({ clock: () => now, ...options });
      started.push(sandbox);
      return sandbox;
    },
    advance(ms: number): void {
      now += ms;
    },
    now: () => now,
  };
}

export async function token(
  sandbox: EsetSandbox,
  username = 'sandbox-user',
  password = 'sandbox-password',
): Promise<string> {
  const res = await fetch(`${sandbox.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  if (res.status !== 200) throw new Error(`token request answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export interface CallOptions {
  /** A JSON value, or a string sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  redirect?: 'manual' | 'follow' | 'error';
}

/** One API call with a Bearer token; redirects are never followed unless asked. */
export function call(
  sandbox: EsetSandbox,
  accessToken: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return fetch(`${sandbox.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${accessToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    redirect: options.redirect ?? 'manual',
    ...(body === undefined ? {} : { body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** `call` bound to one sandbox and token, with the incident calls the tests use most. */
export function clientFor(sandbox: EsetSandbox, accessToken: string) {
  const send = (method: string, path: string, options?: CallOptions) =>
    call(sandbox, accessToken, method, path, options);
  return {
    send,
    get: (uuid: string) => send('GET', `/v2/incidents/${uuid}`),
    list: (query: Record<string, string> = {}) =>
      send('GET', `/v2/incidents${Object.keys(query).length === 0 ? '' : `?${new URLSearchParams(query)}`}`),
    close: (
      uuid: string,
      body: unknown = { closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' },
      headers = {},
    ) => send('POST', `/v2/incidents/${uuid}:close`, { body, headers }),
    reopen: (uuid: string, body: unknown = {}, headers = {}) =>
      send('POST', `/v2/incidents/${uuid}:reopen`, { body, headers }),
    comment: (uuid: string, text: string, headers = {}) =>
      send('POST', `/v2/incidents/${uuid}/comments`, { body: { comment: { text } }, headers }),
    comments: (uuid: string) => send('GET', `/v2/incidents/${uuid}/comments`),
  };
}

/** Posts to a loopback admin endpoint. */
export function admin(sandbox: EsetSandbox, path: string, body: unknown = {}): Promise<Response> {
  return fetch(`${sandbox.url}/_sandbox/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
