/**
 * An independent reading of the webhook contract (docs/senders/canonical.md), written without
 * the bridge's code, so the fuzzer can tell which generated requests the bridge must act on and
 * which it must refuse without calling ESET or SQS. Where it disagrees with the handler, one of
 * the two is wrong, and the fuzzer says which input showed it.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * valid: a signed canonical close; the bridge must act on it.
 * invalid: the bridge must refuse it (4xx) with no ESET or SQS call.
 * lenient: valid only if non-canonical base64 (junk characters, missing padding) in a base64 body is
 * decoded leniently, as Node's Buffer does. Function URLs never send such bodies and the HMAC still
 * covers the decoded bytes, so either answer is acceptable; the fuzzer counts them. A signature is
 * compared as text, as the Standard Webhooks reference libraries compare it: only the canonical
 * base64 of the expected MAC matches.
 */
export type Verdict = { kind: 'valid' } | { kind: 'invalid'; why: string } | { kind: 'lenient'; why: string };

export interface ContractOptions {
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds: number;
  maxBodyBytes: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHORT_REASONS = ['UNSPECIFIED', 'TRUE_POSITIVE', 'FALSE_POSITIVE', 'SUSPICIOUS'];
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The canonical close body: which field is wrong, or undefined when it is a valid close. */
export function canonicalCloseProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const o = value as Record<string, unknown>;
  if (typeof o.incidentUuid !== 'string' || !UUID.test(o.incidentUuid)) return 'incidentUuid';
  if (o.closureReason !== undefined) {
    if (typeof o.closureReason !== 'string') return 'closureReason';
    // Case-insensitive, `-` or `_`, short form or the full ESET enum.
    const norm = o.closureReason.trim().toUpperCase().replaceAll('-', '_');
    const short = norm.startsWith('INCIDENT_RESOLVE_REASON_')
      ? norm.slice('INCIDENT_RESOLVE_REASON_'.length)
      : norm;
    if (!SHORT_REASONS.includes(short)) return 'closureReason';
  }
  if (typeof o.comment !== 'string' || o.comment.trim() === '' || o.comment.length > 10_000) return 'comment';
  if (o.ticketId !== undefined && (typeof o.ticketId !== 'string' || o.ticketId.length > 256))
    return 'ticketId';
  return undefined;
}

function expectedSignature(secret: string, signed: string): Buffer {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHmac('sha256', key).update(signed, 'utf8').digest();
}

/** Judges one Function URL event against the contract. */
export function judgeWebhook(event: APIGatewayProxyEventV2, opts: ContractOptions): Verdict {
  const invalid = (why: string): Verdict => ({ kind: 'invalid', why });
  const lenientReasons: string[] = [];

  const method = event.requestContext?.http?.method ?? 'POST';
  if (method !== 'POST') return invalid('method');
  const headers = event.headers ?? {};
  const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') return invalid('content-type');

  const raw = event.body ?? '';
  let bytes: Buffer;
  if (event.isBase64Encoded) {
    const compact = raw;
    if (!CANONICAL_BASE64.test(compact)) lenientReasons.push('non-canonical base64 body');
    bytes = Buffer.from(raw, 'base64');
  } else {
    bytes = Buffer.from(raw, 'utf8');
  }
  if (bytes.length > opts.maxBodyBytes) return invalid('too large');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return invalid('not UTF-8');
  }

  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signature = headers['webhook-signature'];
  if (!id || !timestamp || !signature) return invalid('signature headers missing');
  if (id.length > 256) return invalid('webhook-id too long');
  if (!/^\d+$/.test(timestamp)) return invalid('timestamp not unix seconds');
  if (Math.abs(Number(timestamp) - opts.nowSeconds) > opts.toleranceSeconds) return invalid('timestamp');
  const signed = `${id}.${timestamp}.${text}`;
  const expected = opts.secrets.map((s) => expectedSignature(s, signed));
  const matches = signature
    .split(' ')
    .some((part) => part.startsWith('v1,') && expected.some((e) => e.toString('base64') === part.slice(3)));
  if (!matches) return invalid('signature');

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('not JSON');
  }
  const problem = canonicalCloseProblem(value);
  if (problem) return invalid(`body: ${problem}`);
  return lenientReasons.length > 0 ? { kind: 'lenient', why: lenientReasons.join(', ') } : { kind: 'valid' };
}
