import { BridgeError } from '../errors/errors';
import type { HttpAnswer } from '../http/answers';
import type { CloseRequest } from '../webhook/close-request';

/**
 * Duplicate-safe delivery: the contract the receive handler uses. The implementation,
 * Powertools Idempotency with its DynamoDB persistence layer, is in dynamodb-guard.ts, imported
 * only by the receive entry (the retry Lambda never carries it).
 * https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/
 *
 * The key is the close itself (incident, reason, comment, ticket), not a sender's delivery id: a
 * Standard Webhooks retry (same `webhook-id`), a Zendesk re-invocation, a Jira retry and a second
 * rule that sends the same close all map to the same request, so one key catches them all.
 * The first answer of 200, 202, 404 or 422 is stored and repeated for `ttlSeconds`; an answer that
 * the work throws (503: the retry queue could not store it) deletes the record, so the sender's
 * retry runs again.
 */
export interface IdempotencySettings {
  table: string;
  ttlSeconds: number;
  /** A DynamoDB-protocol endpoint (dynalite locally); AWS's own when unset. */
  endpoint?: string;
}

export type Once =
  | { kind: 'first'; answer: HttpAnswer }
  | { kind: 'replay'; answer: HttpAnswer }
  | { kind: 'in-progress' };

export interface IdempotencyGuard {
  /**
   * Runs `work` unless the same close ran within the window: then answers with what it answered.
   * `inProgressMs` is how long the in-progress marker holds if this invocation dies mid-way (the
   * Lambda's remaining time), after which a retry may take over.
   */
  once(key: CloseRequest, inProgressMs: number, work: () => Promise<HttpAnswer>): Promise<Once>;
}

/** The idempotency store could not be read or written before the work ran: the sender retries (503). */
export class IdempotencyStoreError extends BridgeError {
  override name = 'IdempotencyStoreError';
  constructor(opts: { cause?: unknown } = {}) {
    super('Duplicate protection is unavailable; please retry later', {
      statusCode: 503,
      expose: true,
      ...opts,
    });
  }
}

/** The prefix of every key: stable across function renames, so a redeploy keeps the window. */
export const KEY_PREFIX = 'close';
