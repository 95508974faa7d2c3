import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors/errors';
import { verify as verifyStandardWebhook } from './standard-webhooks';

/**
 * How a sender proves who it is. Every scheme accepts several secrets (the current one first,
 * then the previous one during a rotation) and compares in constant time.
 * - `standard-webhooks`: https://www.standardwebhooks.com/ (timestamp tolerance applies)
 * - `hub-signature`: Jira Cloud admin webhooks registered with a secret, `X-Hub-Signature: sha256=<hex>`
 *   of the raw body (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks).
 *   It carries no timestamp, and Jira retries the identical body for up to ~30 minutes, so there is
 *   no replay window: a replayed delivery can only repeat the same event, which the incident record
 *   answers from what it holds, without a second call to ESET.
 * - `zendesk`: `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of timestamp + body, keyed with
 *   the signing secret as is, `X-Zendesk-Webhook-Signature-Timestamp` ISO-8601 (tolerance applies)
 *   (https://developer.zendesk.com/documentation/webhooks/verifying/).
 * - `bearer`, `basic`, `header`: a shared token (`Authorization: Bearer`, `Authorization: Basic`
 *   with `user:password`, or a named header) for senders that cannot sign.
 * - `basic-or-bearer`: either of the two with the same secret, for senders whose admins pick one
 *   or the other (ServiceNow REST messages usually use a Basic auth profile). The secret is the
 *   bearer token, or the `user:password` of Basic. A secret without a colon is also accepted as
 *   the Basic password under any user name: the user name of a Basic auth profile is no secret,
 *   and the password carries all the strength either way.
 */
export const AUTH_SCHEMES = [
  'standard-webhooks',
  'hub-signature',
  'zendesk',
  'bearer',
  'basic',
  'basic-or-bearer',
  'header',
] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

export interface AuthSpec {
  scheme: AuthScheme;
  /** Only for `header`: the (lower-case) header that carries the token. */
  header?: string;
}

export interface AuthInput {
  /** Lower-case header names, as Lambda Function URLs deliver them. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
  nowSeconds: number;
  toleranceSeconds: number;
}

/** Throws SignatureError unless the request carries a valid proof under one of the secrets. */
export function authenticate(spec: AuthSpec, secrets: readonly string[], input: AuthInput): void {
  if (secrets.length === 0) throw new Error('no secret configured for this route');
  const { headers, body } = input;
  switch (spec.scheme) {
    case 'standard-webhooks':
      verifyStandardWebhook(
        secrets,
        {
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
        },
        body,
        input.nowSeconds,
        input.toleranceSeconds,
      );
      break;
    case 'hub-signature':
      verifyHubSignature(secrets, headers['x-hub-signature'], body);
      break;
    case 'zendesk':
      verifyZendesk(
        secrets,
        headers['x-zendesk-webhook-signature'],
        headers['x-zendesk-webhook-signature-timestamp'],
        body,
        input.nowSeconds,
        input.toleranceSeconds,
      );
      break;
    case 'bearer':
      verifyToken(secrets, bearerToken(headers.authorization), 'Authorization: Bearer');
      break;
    case 'basic':
      verifyToken(secrets, basicCredentials(headers.authorization), 'Authorization: Basic');
      break;
    case 'basic-or-bearer':
      verifyBasicOrBearer(secrets, headers.authorization);
      break;
    case 'header': {
      const name = spec.header ?? 'x-webhook-token';
      verifyToken(secrets, headers[name], name);
      break;
    }
  }
}

/** `sha256=<lowercase hex HMAC-SHA256 of the body>`, keyed with the secret's UTF-8 bytes. */
export function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

function verifyHubSignature(secrets: readonly string[], header: string | undefined, body: string): void {
  if (!header) throw new SignatureError('Missing signature header: X-Hub-Signature');
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m?.[1]) throw new SignatureError('X-Hub-Signature must be sha256=<64 hex digits>');
  const candidate = Buffer.from(m[1], 'hex');
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body, 'utf8').digest();
    if (timingSafeEqual(candidate, expected)) return;
  }
  throw new SignatureError('X-Hub-Signature does not match');
}

/** Zendesk's signature: base64 HMAC-SHA256 of `timestamp + body` keyed with the secret as is. */
export function zendeskSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}${body}`, 'utf8').digest('base64');
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

function verifyZendesk(
  secrets: readonly string[],
  signature: string | undefined,
  timestamp: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds: number,
): void {
  if (!signature || !timestamp) {
    const missing = [
      !signature && 'X-Zendesk-Webhook-Signature',
      !timestamp && 'X-Zendesk-Webhook-Signature-Timestamp',
    ]
      .filter(Boolean)
      .join(', ');
    throw new SignatureError(`Missing signature header(s): ${missing}`);
  }
  const at = ISO_8601.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(at)) throw new SignatureError('X-Zendesk-Webhook-Signature-Timestamp must be ISO-8601');
  const ts = Math.floor(at / 1000);
  if (ts < nowSeconds - toleranceSeconds)
    throw new SignatureError('X-Zendesk-Webhook-Signature-Timestamp is too old');
  if (ts > nowSeconds + toleranceSeconds) {
    throw new SignatureError('X-Zendesk-Webhook-Signature-Timestamp is too far in the future');
  }
  const candidate = Buffer.from(signature.trim(), 'base64');
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(`${timestamp}${body}`, 'utf8').digest();
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return;
  }
  throw new SignatureError('X-Zendesk-Webhook-Signature does not match');
}

function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}

function basicCredentials(authorization: string | undefined): string | undefined {
  const m = /^Basic[ \t]+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  return m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : undefined;
}

/**
 * Bearer `<secret>`, or Basic with `user:password` equal to the secret, or (for a secret without a
 * colon) Basic whose password is the secret. Every secret is compared, whichever matches.
 */
function verifyBasicOrBearer(secrets: readonly string[], authorization: string | undefined): void {
  const bearer = bearerToken(authorization);
  if (bearer !== undefined) {
    verifyToken(secrets, bearer, 'Authorization: Bearer');
    return;
  }
  const basic = basicCredentials(authorization);
  if (basic === undefined) throw new SignatureError('Missing credentials: Authorization: Basic or Bearer');
  const password = basic.slice(basic.indexOf(':') + 1);
  const asPassword = secrets.filter((s) => !s.includes(':'));
  let ok = matchesAny(secrets, basic);
  if (basic.includes(':') && asPassword.length > 0) ok = matchesAny(asPassword, password) || ok;
  if (!ok) throw new SignatureError('Authorization: Basic credentials do not match');
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** True when the text equals one of the secrets; every secret is compared. */
function matchesAny(secrets: readonly string[], presented: string): boolean {
  const candidate = digest(presented);
  let ok = false;
  for (const secret of secrets) ok = timingSafeEqual(candidate, digest(secret)) || ok;
  return ok;
}

/**
 * Compares a presented token with each secret in constant time: both sides are hashed first, so
 * neither the comparison time nor an early length check tells an attacker anything.
 */
function verifyToken(secrets: readonly string[], presented: string | undefined, what: string): void {
  if (presented === undefined || presented === '') throw new SignatureError(`Missing credentials: ${what}`);
  if (!matchesAny(secrets, presented)) throw new SignatureError(`${what} credentials do not match`);
}
