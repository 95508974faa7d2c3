import { createHash } from 'node:crypto';
import type { IncidentRecord } from '../incidents/record';
import type { Failure } from '../incidents/session';
import type { FailureNotices } from '../incidents/worker';
import { type DocStore, syncIds, updateDoc } from './state';

/**
 * A close (or reopen) the bridge could not carry out: ESET refused it for good, or its retry
 * budget ran out. The incident worker leaves one here; the sync tells the ticket, so the analyst
 * learns it where they work, then removes it.
 */
export interface FailureNotice {
  /** Stable per failed request: a repeated failure of the same close is one notice. */
  id: string;
  incidentUuid: string;
  action: 'close' | 'reopen';
  reason: string;
  status?: number;
  at: string;
  ticketId?: string;
}

interface NoticesDoc {
  v: 1;
  items: FailureNotice[];
}

/** Notices waiting at once; beyond this the oldest are dropped (their dead letters remain). */
const MAX_NOTICES = 100;

export function noticeId(tenant: string, incidentUuid: string, key: string): string {
  return createHash('sha256').update(`${tenant}\n${incidentUuid}\n${key}`).digest('base64url').slice(0, 22);
}

/** The notices of one tenant, one item in the state table (`sync#<tenant>#notices`). */
export class StoredNotices implements FailureNotices {
  constructor(
    private readonly store: DocStore,
    private readonly now: () => number = Date.now,
  ) {}

  async failed(rec: IncidentRecord, failure: Failure): Promise<void> {
    if (failure.action === 'comment') return;
    const notice: FailureNotice = {
      id: noticeId(rec.tenant, rec.incidentUuid, failure.key),
      incidentUuid: rec.incidentUuid,
      action: failure.action,
      reason: failure.reason.slice(0, 1000),
      ...(failure.status ? { status: failure.status } : {}),
      at: new Date(this.now()).toISOString(),
      ...(rec.want?.ticketId ? { ticketId: rec.want.ticketId } : {}),
    };
    await updateDoc<NoticesDoc>(this.store, syncIds.notices(rec.tenant), (doc) => {
      const items = doc?.items ?? [];
      if (items.some((n) => n.id === notice.id)) return undefined;
      return { v: 1, items: [...items, notice].slice(-MAX_NOTICES) };
    });
  }

  async pending(tenant: string): Promise<FailureNotice[]> {
    return (await this.store.get<NoticesDoc>(syncIds.notices(tenant)))?.doc.items ?? [];
  }

  /** Removes the notices the sync has told (or given up on). */
  async remove(tenant: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const gone = new Set(ids);
    await updateDoc<NoticesDoc>(this.store, syncIds.notices(tenant), (doc) => {
      if (!doc?.items.some((n) => gone.has(n.id))) return undefined;
      return { v: 1, items: doc.items.filter((n) => !gone.has(n.id)) };
    });
  }
}
