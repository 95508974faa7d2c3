import { secretKey, sign } from '../auth/standard-webhooks';
import { isRetriable, Outbound, type OutboundOptions, type RetryPolicy } from '../http/outbound';

/** What the sync reports about an ESET incident when `SYNC_TARGET=webhook`. */
export const SYNC_EVENT_TYPES = [
  'incident.created',
  'incident.closed',
  'incident.reopened',
  'incident.commented',
  'close.failed',
] as const;
export type SyncEventType = (typeof SYNC_EVENT_TYPES)[number];

export interface SyncEvent {
  /**
   * The event's own id, sent as `webhook-id`: the caller keeps it with the event, so a retry of
   * the same event (in this call or a later run) carries the same id and receivers can dedupe.
   */
  id: string;
  type: SyncEventType;
  /** When it happened at ESET, ms since epoch; the body's `timestamp`. */
  occurredAt: number;
  data: Record<string, unknown>;
}

/**
 * How one event ended:
 * - `delivered`: the receiver answered 2xx.
 * - `stop`: 410 Gone; the receiver asks for no more events (Standard Webhooks: disable the endpoint).
 * - `rejected`: a 4xx that retrying will not change (or a redirect, which is never followed).
 * - `failed`: throttled, failing or silent until the attempts or the deadline ran out; send the
 *   same event (same id) again later.
 */
export type DeliveryResult =
  | { kind: 'delivered'; status: number; attempts: number }
  | { kind: 'stop'; status: 410; attempts: number }
  | { kind: 'rejected'; status: number; reason: string; attempts: number }
  | { kind: 'failed'; reason: string; attempts: number; status?: number; retryAfterMs?: number };

export interface WebhookTargetOptions extends OutboundOptions {
  /** `SYNC_WEBHOOK_URL`: https, or http on loopback for local runs. */
  url: string;
  /** `whsec_` followed by the base64 key, as Standard Webhooks issues them. */
  secret: string;
}

/** Standard Webhooks senders give receivers 15-30 s; a receiver should answer well within that. */
const DEFAULT_RETRY: RetryPolicy = {
  attemptTimeoutMs: 15_000,
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
};
const DEFAULT_CALL_BUDGET_MS = 30_000;
/** The bridge's own receiver refuses longer ids (functions/webhook/standard-webhooks.ts); header-safe characters only. */
const EVENT_ID = /^[\x21-\x7e]{1,256}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Posts sync events to any URL as Standard Webhooks (https://www.standardwebhooks.com/):
 * body `{"type", "timestamp", "data"}`, headers `webhook-id` (the event's stable id),
 * `webhook-timestamp` (unix seconds of each attempt) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`), re-signed per attempt. 429, 5xx and
 * timeouts are retried within the deadline; receivers dedupe by `webhook-id`, so a repeat is
 * safe. Redirects are never followed.
 */
export class WebhookTarget {
  private readonly outbound: Outbound;

  constructor(private readonly opts: WebhookTargetOptions) {
    const url = URL.canParse(opts.url) ? new URL(opts.url) : undefined;
    if (
      !url ||
      !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)))
    ) {
      throw new TypeError('the webhook URL must be https (http only on loopback)');
    }
    secretKey(opts.secret);
    this.outbound = new Outbound(opts, { retry: DEFAULT_RETRY, callBudgetMs: DEFAULT_CALL_BUDGET_MS });
  }

  /** The exact body of an event; the same bytes on every attempt. */
  static body(event: SyncEvent): string {
    return JSON.stringify({
      type: event.type,
      timestamp: new Date(event.occurredAt).toISOString(),
      data: event.data,
    });
  }

  /** Delivers one event; never throws for what the receiver does. */
  async send(event: SyncEvent, opts: { deadline?: number } = {}): Promise<DeliveryResult> {
    if (!EVENT_ID.test(event.id)) throw new TypeError('event id must be 1-256 visible ASCII characters');
    if (!SYNC_EVENT_TYPES.includes(event.type))
      throw new TypeError(`unknown event type ${String(event.type)}`);
    const body = WebhookTarget.body(event);
    const result = await this.outbound.send({
      url: this.opts.url,
      method: 'POST',
      headers: () => {
        const timestamp = Math.floor(this.outbound.clock.now() / 1000);
        return {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(this.opts.secret, event.id, timestamp, body),
        };
      },
      body,
      deadline: this.outbound.deadline(opts.deadline),
      repeatable: true,
    });
    const { attempts } = result;
    if (result.kind === 'no-answer')
      return { kind: 'failed', reason: `${result.reason} (${attempts} attempts)`, attempts };
    const { status } = result;
    if (status >= 200 && status < 300) return { kind: 'delivered', status, attempts };
    if (status === 410) return { kind: 'stop', status, attempts };
    if (isRetriable(status, true)) {
      return {
        kind: 'failed',
        reason: `HTTP ${status} (${attempts} attempts)`,
        attempts,
        status,
        ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
      };
    }
    const reason = status >= 300 && status < 400 ? 'redirects are not followed' : `HTTP ${status}`;
    return { kind: 'rejected', status, reason, attempts };
  }
}
