/**
 * Jira Cloud admin webhooks as the stand-in sends them
 * (https://developer.atlassian.com/cloud/jira/platform/webhooks/): a JSON POST per event and
 * registration, signed with `X-Hub-Signature: sha256=<hex>` when the registration has a secret,
 * carrying `X-Atlassian-Webhook-Identifier` (the same on every retry of a delivery) and
 * `X-Atlassian-Webhook-Retry` on retries. Changes the API user made are delivered like anyone
 * else's, so the bridge sees its own echoes. Deliveries may be held back (late echoes) and are
 * retried on 408, 409, 425, 429, 5xx, a timeout or a broken connection, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import { hubSignature } from '../../../functions/auth/schemes';
import type { Change, JiraModel } from './model';

export interface WebhookRegistration {
  url: string;
  /** With a secret, deliveries carry `X-Hub-Signature`. */
  secret?: string;
  /** `webhookEvent` names to send; all when absent. */
  events?: readonly string[];
  /** How long each delivery is held before its first attempt (ms), fixed or per payload. */
  delayMs?: number | ((payload: Record<string, unknown>) => number);
  /** Retries after the first attempt; 3 unless given. */
  maxRetries?: number;
}

export interface DeliveryRecord {
  /** `X-Atlassian-Webhook-Identifier`. */
  id: string;
  url: string;
  webhookEvent: string;
  issueKey?: string;
  /** Who made the change: `user.accountId`, or the comment author for comment events. */
  accountId?: string;
  /** One entry per attempt: the status, or `error` when no answer came. */
  attempts: Array<number | 'error'>;
  delivered: boolean;
  body: string;
}

const RETRY_STATUSES = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** The payloads Jira sends for one change: a comment raises `comment_created` and `jira:issue_updated`. */
export function payloadsFor(change: Change, model: JiraModel, timestamp: number): Record<string, unknown>[] {
  const user = model.userJson(change.user);
  const issue = model.issueJson(change.issue, ['*all', '-comment']);
  switch (change.kind) {
    case 'created':
      return [
        {
          timestamp,
          webhookEvent: 'jira:issue_created',
          issue_event_type_name: 'issue_created',
          user,
          issue,
        },
      ];
    case 'transitioned':
      // Simplified workflows fire the generic event on every transition; what changed is in the changelog.
      return [
        {
          timestamp,
          webhookEvent: 'jira:issue_updated',
          issue_event_type_name: 'issue_generic',
          user,
          issue,
          changelog: { id: change.changelogId, items: change.items },
        },
      ];
    case 'commented':
      return [
        {
          timestamp,
          webhookEvent: 'comment_created',
          comment: model.commentJson(change.issue, change.comment),
          issue: {
            id: issue.id,
            self: issue.self,
            key: issue.key,
            fields: pick(issue.fields, ['summary', 'status', 'issuetype', 'project']),
          },
        },
        {
          timestamp,
          webhookEvent: 'jira:issue_updated',
          issue_event_type_name: 'issue_commented',
          user,
          issue,
          // Jira Cloud sends the new comment with the update (docs/senders/jira.md).
          comment: model.commentJson(change.issue, change.comment),
        },
      ];
  }
}

/** Sends payloads to registrations; tests await {@link WebhookDispatcher.settled} instead of sleeping. */
export class WebhookDispatcher {
  private registrations: WebhookRegistration[] = [];
  private records: DeliveryRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;

  constructor(private readonly opts: { retryDelayMs: number; timeoutMs: number }) {}

  register(registration: WebhookRegistration): void {
    this.registrations.push(registration);
  }

  registered(): Array<{ url: string; events?: readonly string[]; signed: boolean }> {
    return this.registrations.map((r) => ({
      url: r.url,
      ...(r.events ? { events: r.events } : {}),
      signed: !!r.secret,
    }));
  }

  deliveries(): DeliveryRecord[] {
    return this.records;
  }

  emit(payload: Record<string, unknown>): void {
    if (this.closed) return;
    const webhookEvent = String(payload.webhookEvent);
    for (const registration of this.registrations) {
      if (registration.events && !registration.events.includes(webhookEvent)) continue;
      const issue = payload.issue as { key?: string } | undefined;
      const actor = (payload.user ?? (payload.comment as { author?: unknown } | undefined)?.author) as
        | { accountId?: string }
        | undefined;
      const record: DeliveryRecord = {
        id: randomUUID(),
        url: registration.url,
        webhookEvent,
        ...(issue?.key ? { issueKey: issue.key } : {}),
        ...(actor?.accountId ? { accountId: actor.accountId } : {}),
        attempts: [],
        delivered: false,
        body: JSON.stringify(payload),
      };
      this.records.push(record);
      const delay =
        typeof registration.delayMs === 'function'
          ? registration.delayMs(payload)
          : (registration.delayMs ?? 0);
      const run = this.deliver(record, registration, delay).finally(() => this.pending.delete(run));
      this.pending.add(run);
    }
  }

  /** Resolves once no delivery is waiting or in flight (bounded: new ones may start meanwhile). */
  async settled(): Promise<void> {
    for (let round = 0; round < 100 && this.pending.size > 0; round++)
      await Promise.allSettled([...this.pending]);
  }

  clear(): void {
    this.registrations = [];
    this.records = [];
  }

  /** Stops waiting deliveries and lets the ones in flight finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wait of this.waits) {
      clearTimeout(wait.timer);
      wait.resolve();
    }
    await this.settled();
  }

  private async deliver(
    record: DeliveryRecord,
    registration: WebhookRegistration,
    delayMs: number,
  ): Promise<void> {
    await this.sleep(delayMs);
    const maxRetries = registration.maxRetries ?? 3;
    for (let attempt = 0; attempt <= maxRetries && !this.closed; attempt++) {
      if (attempt > 0) await this.sleep(this.opts.retryDelayMs * 2 ** (attempt - 1));
      if (this.closed) return;
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        'x-atlassian-webhook-identifier': record.id,
        'x-atlassian-webhook-flow': 'Primary',
      };
      if (attempt > 0) headers['x-atlassian-webhook-retry'] = String(attempt);
      if (registration.secret) headers['x-hub-signature'] = hubSignature(registration.secret, record.body);
      let outcome: number | 'error';
      try {
        const res = await fetch(registration.url, {
          method: 'POST',
          headers,
          body: record.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        outcome = res.status;
      } catch {
        outcome = 'error';
      }
      record.attempts.push(outcome);
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
        record.delivered = true;
        return;
      }
      if (typeof outcome === 'number' && !RETRY_STATUSES.has(outcome)) return;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wait = {
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
        resolve,
      };
      this.waits.add(wait);
    });
  }
}

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const source = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => k in source).map((k) => [k, source[k]]));
}
