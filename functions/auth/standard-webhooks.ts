import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors/errors';

/**
 * Standard Webhooks signature check (https://www.standardwebhooks.com/):
 * `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, key = base64-decoded secret after `whsec_`.
 * Several space-separated signatures are accepted (secret rotation on the sender's side), and
 * several secrets on ours (current and previous).
 *
 * The presented signature is compared as the text it is, against the canonical base64 of the
 * expected MAC, exactly as the spec's reference libraries compare (`standardwebhooks` on npm):
 * decoding it first would let altered padding bits, missing padding or trailing characters pass.
 * The reference library itself is not used at run time: it computes SHA-256 in JavaScript, costs a
 * few milliseconds of cold start, and its `verify` takes neither our tolerance nor our clock.
 * The tests check this module against it on the spec's vectors.
 */
export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

const MAX_ID_LENGTH = 256;

export function secretKey(secret: string): Buffer {
  const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(raw, 'base64');
  if (key.length === 0) throw new Error('webhook secret is empty after base64 decoding');
  return key;
}

/** The canonical base64 MAC of a message under one secret. */
function mac(secret: string, id: string, timestamp: string | number, body: string): string {
  return createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** Computes the `v1,<base64>` signature of a message; used by senders and tests. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${mac(secret, id, timestampSeconds, body)}`;
}

/** Equal texts in time independent of where they differ; texts of another length never match. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Throws SignatureError unless one of the header's signatures matches one of the secrets and the
 * timestamp is within the tolerance of `nowSeconds`. Comparison is constant-time.
 */
export function verify(
  secrets: readonly string[],
  headers: WebhookHeaders,
  body: string,
  nowSeconds: number,
  toleranceSeconds: number,
): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) {
    const missing = [
      !id && 'webhook-id',
      !timestamp && 'webhook-timestamp',
      !signature && 'webhook-signature',
    ]
      .filter(Boolean)
      .join(', ');
    throw new SignatureError(`Missing signature header(s): ${missing}`);
  }
  if (id.length > MAX_ID_LENGTH) throw new SignatureError('webhook-id is too long');
  if (!/^\d{1,12}$/.test(timestamp)) throw new SignatureError('webhook-timestamp must be unix seconds');
  const ts = Number(timestamp);
  if (ts < nowSeconds - toleranceSeconds) throw new SignatureError('webhook-timestamp is too old');
  if (ts > nowSeconds + toleranceSeconds)
    throw new SignatureError('webhook-timestamp is too far in the future');

  const candidates = signature
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice(3));
  if (candidates.length === 0) throw new SignatureError('webhook-signature has no v1 signature');

  for (const secret of secrets) {
    const expected = mac(secret, id, timestamp, body);
    for (const candidate of candidates) {
      if (sameText(candidate, expected)) return;
    }
  }
  throw new SignatureError('webhook-signature does not match');
}
