import type { Clock } from '../clock/clock';
import { type EsetIncident, reasonText, severityText } from './eset-incidents';
import {
  type CallContext,
  type FoundTicket,
  incidentLink,
  type News,
  type SyncTarget,
  TargetError,
  type TicketRef,
} from './target';
import type { SyncEvent, SyncEventType, WebhookTarget } from './webhook-target';

const CALL_BUDGET_MS = 30_000;

/**
 * Any URL as the sync's target (`SYNC_TARGET=webhook`): every piece of news is one Standard
 * Webhooks event whose id (`webhook-id`) is made of the tenant, the incident and the news id, so
 * a repeat, in this run or after a restart with empty state, carries the same id and receivers
 * deduplicate it. Nothing to find and nothing echoed back: the receiver is not the bridge's.
 */
export class WebhookSyncTarget implements SyncTarget {
  readonly name = 'webhook' as const;
  readonly changesStatus = false;
  readonly repeatSafe = true;

  constructor(
    private readonly opts: {
      webhook: Pick<WebhookTarget, 'send'>;
      clock: Pick<Clock, 'now'>;
      tenant: string;
      incidentUrl: string;
    },
  ) {}

  async start(): Promise<{ actor?: string }> {
    return {};
  }

  async find(): Promise<FoundTicket | undefined> {
    return undefined;
  }

  async create(incident: EsetIncident, ctx: CallContext): Promise<TicketRef> {
    await this.send(
      'incident.created',
      incident.uuid,
      'created',
      Date.parse(incident.createTime ?? incident.updateTime),
      { incident: this.incident(incident) },
      ctx,
    );
    return { key: incident.uuid };
  }

  async tell(ref: TicketRef, news: News, ctx: CallContext): Promise<void> {
    switch (news.kind) {
      case 'closed':
        return this.send(
          'incident.closed',
          ref.key,
          news.id,
          Date.parse(news.incident.updateTime),
          {
            incident: this.incident(news.incident),
            reason: reasonText(news.incident.resolveReason),
            ...(news.closedBy ? { closedBy: news.closedBy } : {}),
            ...(news.finalComment ? { finalComment: news.finalComment } : {}),
            origin: news.origin,
          },
          ctx,
        );
      case 'reopened':
        return this.send(
          'incident.reopened',
          ref.key,
          news.id,
          Date.parse(news.incident.updateTime),
          { incident: this.incident(news.incident), origin: news.origin },
          ctx,
        );
      case 'commented': {
        const c = news.comment;
        return this.send(
          'incident.commented',
          ref.key,
          news.id,
          Date.parse(c.createTime ?? news.incident.updateTime),
          {
            incident: this.incident(news.incident),
            comment: {
              uuid: c.uuid,
              text: c.text ?? '',
              ...(c.authorUuid ? { authorUuid: c.authorUuid } : {}),
              ...(c.createTime ? { createTime: c.createTime } : {}),
            },
          },
          ctx,
        );
      }
      case 'failed': {
        const n = news.notice;
        return this.send(
          'close.failed',
          ref.key,
          news.id,
          Date.parse(n.at),
          {
            incidentUuid: n.incidentUuid,
            action: n.action,
            reason: n.reason,
            ...(n.status ? { esetStatus: n.status } : {}),
            ...(n.ticketId ? { ticketId: n.ticketId } : {}),
          },
          ctx,
        );
      }
    }
  }

  private incident(i: EsetIncident): Record<string, unknown> {
    return {
      uuid: i.uuid,
      displayName: i.displayName ?? '',
      status: i.status,
      severity: severityText(i.severity),
      ...(i.createTime ? { createTime: i.createTime } : {}),
      updateTime: i.updateTime,
      url: incidentLink(this.opts.incidentUrl, i.uuid),
    };
  }

  private async send(
    type: SyncEventType,
    incidentUuid: string,
    newsId: string,
    occurredAt: number,
    data: Record<string, unknown>,
    ctx: CallContext,
  ): Promise<void> {
    const event: SyncEvent = {
      id: `${this.opts.tenant}:${incidentUuid}:${newsId}`.slice(0, 256),
      type,
      occurredAt: Number.isFinite(occurredAt) ? occurredAt : this.opts.clock.now(),
      data,
    };
    const deadline = Math.min(ctx.deadline, this.opts.clock.now() + CALL_BUDGET_MS);
    const result = await this.opts.webhook.send(event, { deadline });
    if (result.kind === 'delivered') return;
    if (result.kind === 'failed') throw new TargetError('transient', `webhook: ${result.reason}`);
    const why = result.kind === 'stop' ? '410 Gone: the receiver asks for no more events' : result.reason;
    throw new TargetError('permanent', `webhook ${type} refused: ${why}`);
  }
}
