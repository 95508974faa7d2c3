import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors/errors';

/**
 * Standard Webhooks signature check (https://www.standardwebhooks.com/):
 * `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`, key = base64-decoded secret after `whsec_`.
 * Several space-separated signatures are accepted (secret rotation on the sender's side), and
 * several secrets on ours (current and previous).
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

/** Computes the `v1,<base64>` signature of a message; used by senders and tests. */
export function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestampSeconds}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
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
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  if (candidates.length === 0) throw new SignatureError('webhook-signature has no v1 signature');

  const signed = `${id}.${timestamp}.${body}`;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secretKey(secret)).update(signed).digest();
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return;
    }
  }
  throw new SignatureError('webhook-signature does not match');
}
