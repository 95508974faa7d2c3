import { randomUUID } from 'node:crypto';
import { EnqueueError } from '../errors/errors';
import type { TicketAction, TicketEvent } from '../events/ticket-event';
import type { Recorder } from '../observability/outcomes';
import type { RetryMessage } from '../retry-queue/message';
import type { RetryQueue } from '../retry-queue/queue';
import {
  CLOSED,
  eventKey,
  type IncidentRecord,
  leaseFree,
  type MergeResult,
  mergeEvent,
  newRecord,
  outstanding,
} from './record';
import { type Failure, LeaseLostError, type ReconcileDeps, Session, type SessionEnd } from './session';
import { updateRecord, type Versioned } from './store';

/** How long each Lambda gives ESET, and how long its lease on an incident holds. */
export interface WorkerTiming {
  receive: {
    /** All ESET work of one webhook request, kept under the senders' timeouts (~8 s). */
    budgetMs: number;
    leaseMs: number;
  };
  retry: {
    /** One call's wait for ESET: over its documented 30-50 s before a 202. */
    callTimeoutMs: number;
    /** One message's work: a read and a change, each with its full call timeout. */
    sessionMs: number;
    leaseMs: number;
  };
  /**
   * A message received this long after it was due has not been waiting in the retry queue (it
   * went through the dead-letter queue, or the consumer was paused): it gets a new budget.
   */
  staleMessageMs: number;
  /** A scheduled wake-up this long overdue is presumed stuck: another message may take over. */
  overdueMs: number;
}

export interface WorkerDeps extends ReconcileDeps {
  queue: RetryQueue;
  record: Recorder;
  timing: WorkerTiming;
  newId?: () => string;
  /** Told of every close or reopen that failed for good, so the sync can tell the ticket (functions/sync/notices.ts). */
  notices?: FailureNotices;
}

/** Where failed closes and reopens are left for the ESET-to-ticket sync. */
export interface FailureNotices {
  failed(rec: IncidentRecord, failure: Failure): Promise<void>;
}

export interface EventAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

type Ctx = {
  tenant: string;
  correlationId: string;
  route?: string;
  /**
   * Who hands the event in: the receive Lambda answers its sender (a refusal is the answer), the
   * retry Lambda (a close queued before an upgrade) has nobody to answer, so a refusal is parked.
   */
  via?: 'receive' | 'retry';
};

/**
 * The bridge's one way of acting on an incident, for both Lambdas: take a ticket event into the
 * incident's record, then (holding the record's lease) reconcile the incident with ESET, or wake
 * up later through the retry queue. A worker that cannot finish leaves exactly what is needed for
 * the next one: the record, and a message that wakes it.
 */
export class IncidentWorker {
  private readonly newId: () => string;

  constructor(private readonly deps: WorkerDeps) {
    this.newId = deps.newId ?? randomUUID;
  }

  /** A ticket event from the receive Lambda: merge, then the fast path or read-then-act. */
  async onEvent(event: TicketEvent, ctx: Ctx): Promise<EventAnswer> {
    const { clock, store, timing } = this.deps;
    const now = clock.now();
    const key = eventKey(ctx.tenant, event);
    const owner = `receive:${this.newId()}`;
    let merge = 'new' as MergeResult;
    let created = false;
    let leased = false;
    // A close is most often the ticket's first event for the incident: try to create the record
    // without reading it first (one DynamoDB round trip less on the fast path).
    const guess = event.action === 'close' ? 'absent' : undefined;
    // The close's slot in the shared budget is taken beside that write, not after it.
    if (guess === 'absent') this.deps.eset(ctx.tenant).reserve?.(now + timing.receive.budgetMs);
    const saved = await updateRecord(
      store,
      ctx.tenant,
      event.incidentUuid,
      (r) => {
        created = r === undefined;
        const rec = r ?? newRecord(ctx.tenant, event.incidentUuid, now);
        merge = mergeEvent(rec, event, { key, now, correlationId: ctx.correlationId });
        // Work already scheduled (a backoff, a settle, a pending re-send) keeps its wake-up: a new
        // event joins it, so ESET's pace holds and comments go out in the ticket's order. A repeat
        // whose wake-up is overdue or missing (its first attempt could not be queued) works now.
        const wakeAt = rec.wake ? Date.parse(rec.wake.at) : undefined;
        const repeat = merge === 'duplicate' || merge === 'stale';
        const waits = wakeAt !== undefined && (repeat ? wakeAt > now - timing.overdueMs : wakeAt > now);
        leased =
          merge !== 'too-many-comments' &&
          merge !== 'echo' &&
          outstanding(rec) &&
          !waits &&
          leaseFree(rec, owner, now);
        if (leased) rec.lease = { owner, until: now + timing.receive.leaseMs };
        if (created && event.action === 'close') {
          rec.unknown = {
            call: 'close',
            key,
            since: new Date(now).toISOString(),
            settle: true,
            reason: 'the call was under way',
          };
        }
        return leased || merge === 'new' || merge === 'stale' ? rec : undefined;
      },
      guess,
    );
    const base = {
      tenant: ctx.tenant,
      incidentUuid: event.incidentUuid,
      action: event.action,
      correlationId: ctx.correlationId,
      ...(ctx.route ? { route: ctx.route } : {}),
    };

    if (merge === 'too-many-comments') {
      return {
        statusCode: 429,
        headers: { 'retry-after': '60' },
        body: {
          status: 'busy',
          incidentUuid: event.incidentUuid,
          message: 'Too many comments are waiting for this incident; retry later',
        },
      };
    }
    if (!saved) throw new Error('the incident record could not be written');
    if (merge === 'echo') {
      this.deps.record({ lambda: 'receive', outcome: 'ignored', ...base, detail: ECHO });
      return { statusCode: 200, body: { status: 'ignored', incidentUuid: event.incidentUuid, reason: ECHO } };
    }
    if (merge === 'duplicate') this.deps.record({ lambda: 'receive', outcome: 'duplicate', ...base });
    if (merge === 'stale') {
      this.deps.record({
        lambda: 'receive',
        outcome: 'stale',
        ...base,
        detail: `wanted state is from ${saved.rec.want?.at}`,
      });
    }

    let rec = saved.rec;
    let end: SessionEnd | undefined;
    let session: Session | undefined;
    if (leased) {
      session = new Session(this.deps, saved, {
        owner,
        deadline: now + timing.receive.budgetMs,
        callTimeoutMs: timing.receive.budgetMs,
        minCallMs: Math.min(1000, timing.receive.budgetMs / 4),
        fast: created && event.action === 'close',
      });
      try {
        end = await session.run();
        rec = (await this.settle(session, end, ctx.via ?? 'receive', ctx, key)).rec;
      } catch (err) {
        if (!(err instanceof LeaseLostError)) {
          await session.finish().catch(() => undefined);
          throw err;
        }
        end = { kind: 'wait', at: clock.now(), why: 'time' };
      }
    } else if (outstanding(rec) && rec.lease && !rec.wake) {
      // Another worker holds the incident and will see this event when it lets go. A wake-up
      // shortly after covers a holder that dies first (it waits again while the lease holds).
      const at = Math.min(rec.lease.until, now + BUSY_RECHECK_MS);
      await this.enqueue(rec, at, 'busy', ctx.correlationId);
      end = { kind: 'wait', at, why: 'retry', reason: 'another worker holds the incident' };
    }
    return this.answer(event, key, merge, rec, session, end, base);
  }

  /** A retry message: continue the incident's work, or drop a wake-up nobody needs. */
  async onMessage(message: RetryMessage): Promise<void> {
    const { clock, store, timing } = this.deps;
    const now = clock.now();
    const ctx: Ctx = { tenant: message.tenant, correlationId: message.correlationId };
    const base = {
      tenant: message.tenant,
      incidentUuid: message.incidentUuid,
      correlationId: message.correlationId,
    };
    const due = Date.parse(message.sentAt) + message.delaySeconds * 1000;
    const redrive = message.deadLettered !== undefined || now - due > timing.staleMessageMs;

    const current = await store.get(message.tenant, message.incidentUuid);
    if (!current) {
      this.deps.record({
        lambda: 'retry',
        outcome: 'settled',
        ...base,
        detail: 'no record of this incident',
      });
      return;
    }
    const rec = current.rec;
    // While a worker holds the incident, no message can be judged: the holder's own next wake-up
    // may be this one, sent before the holder wrote it into the record. It waits (whileHeld).
    const held = rec.lease !== undefined && !leaseFree(rec, '', now);
    if (!redrive && !held) {
      if (!outstanding(rec)) {
        this.deps.record({ lambda: 'retry', outcome: 'settled', ...base });
        return;
      }
      if (rec.wake && rec.wake.id !== message.wakeId && Date.parse(rec.wake.at) > now - timing.overdueMs) {
        this.deps.record({
          lambda: 'retry',
          outcome: 'settled',
          ...base,
          detail: 'another wake-up is scheduled',
        });
        return;
      }
      if (rec.wake?.id === message.wakeId && Date.parse(rec.wake.at) > now + 1000) {
        // Due later than SQS could delay it (900 s at most): wait again.
        await this.deps.queue.enqueue(
          {
            ...message,
            sentAt: new Date(now).toISOString(),
            delaySeconds: delayTo(Date.parse(rec.wake.at), now),
            why: 'early',
          },
          delayTo(Date.parse(rec.wake.at), now),
        );
        return;
      }
    }
    if (held && rec.lease) {
      await this.whileHeld(rec.lease, message, now, redrive);
      return;
    }

    const owner = `retry:${this.newId()}`;
    const leased = await updateRecord(
      store,
      message.tenant,
      message.incidentUuid,
      (r) => {
        if (!r || !leaseFree(r, owner, now)) return undefined;
        if (redrive) redriveInto(r, message, now);
        if (!outstanding(r)) return undefined;
        r.lease = { owner, until: now + timing.retry.leaseMs, wake: message.wakeId };
        return r;
      },
      current,
    );
    if (!leased || leased.rec.lease?.owner !== owner) {
      if (leased?.rec.lease && outstanding(leased.rec))
        await this.whileHeld(leased.rec.lease, message, now, redrive);
      else this.deps.record({ lambda: 'retry', outcome: 'settled', ...base });
      return;
    }
    if (redrive) {
      this.deps.record({
        lambda: 'retry',
        outcome: 'redriven',
        ...base,
        ...(message.deadLettered
          ? { detail: message.deadLettered.reason }
          : { detail: 'the message waited longer than the retry queue holds one' }),
      });
    }
    const session = new Session(this.deps, leased, {
      owner,
      deadline: now + timing.retry.sessionMs,
      callTimeoutMs: timing.retry.callTimeoutMs,
      minCallMs: Math.min(timing.retry.callTimeoutMs, timing.retry.sessionMs),
      checkBudget: true,
    });
    try {
      const end = await session.run();
      await this.settle(session, end, 'retry', ctx);
    } catch (err) {
      if (err instanceof LeaseLostError) return;
      await session.finish().catch(() => undefined);
      throw err;
    }
  }

  /**
   * A message for an incident another worker holds waits until it can be judged; none is dropped
   * here. The holder's own message (its redelivery after a crash, or a duplicate copy) waits for
   * the lease to run out. Any other may be the wake-up the holder has just queued for the work it
   * leaves (it writes the wake-up into the record only after sending it): it looks again shortly
   * (2 s behind a receive worker, 10 s behind a retry worker, never past the lease's end), and
   * once the holder has let go, the record says whether it is still needed.
   */
  private async whileHeld(
    lease: NonNullable<IncidentRecord['lease']>,
    message: RetryMessage,
    now: number,
    redrive: boolean,
  ): Promise<void> {
    const byRetry = lease.owner.startsWith('retry:');
    // A redrive known only by its age would pass for a fresh message once queued again: mark it.
    const marked: RetryMessage =
      redrive && !message.deadLettered
        ? {
            ...message,
            deadLettered: {
              at: new Date(now).toISOString(),
              reason: 'redriven after waiting longer than the retry queue holds a message',
              action: message.want?.status === 'open' ? 'reopen' : 'close',
            },
          }
        : message;
    const own = byRetry && lease.wake === message.wakeId;
    const at = own
      ? lease.until + 1000
      : Math.min(lease.until + 1000, now + (byRetry ? HELD_RECHECK_MS : BUSY_RECHECK_MS));
    const delaySeconds = delayTo(at, now);
    await this.deps.queue.enqueue(
      { ...marked, sentAt: new Date(now).toISOString(), delaySeconds, why: 'busy' },
      delaySeconds,
    );
  }

  /**
   * Ends a session: dead-letters what failed, records what happened, and either lets the lease
   * go (nothing left) or schedules the wake-up and then lets it go. Work a ticket event added
   * meanwhile gets a wake-up too: nothing taken in is left without one.
   */
  private async settle(
    session: Session,
    end: SessionEnd,
    lambda: 'receive' | 'retry',
    ctx: Ctx,
    ownKey?: string,
  ): Promise<Versioned> {
    const rec = session.record;
    const base = {
      tenant: rec.tenant,
      incidentUuid: rec.incidentUuid,
      correlationId: ctx.correlationId,
      ...(ctx.route ? { route: ctx.route } : {}),
    };
    const esetStatus = rec.progress.lastStatus;
    const esetRequestId = rec.progress.lastRequestId;
    for (const e of session.effects) {
      const outcome =
        e.how === 'already'
          ? 'already'
          : e.call === 'close'
            ? 'closed'
            : e.call === 'reopen'
              ? 'reopened'
              : 'commented';
      this.deps.record({
        lambda,
        outcome,
        ...base,
        action: e.call,
        ...(esetStatus ? { esetStatus } : {}),
        ...(esetRequestId ? { esetRequestId } : {}),
        ...(e.how === 'retrieved' ? { detail: 'retrieved with response-id' } : {}),
      });
    }
    for (const f of session.failures) {
      // The ticket learns of a close or reopen that failed through the sync, whichever path failed it.
      if (f.action !== 'comment' && this.deps.notices) {
        // A notice that cannot be stored must not fail the request: the dead letter (or the answer) stays.
        await this.deps.notices.failed(rec, f).catch(() => undefined);
      }
      // The receive Lambda answers its own event's refusal to the sender; everything else is parked.
      if (lambda === 'receive' && f.key === ownKey) continue;
      if (f.status !== undefined) {
        this.deps.record({
          lambda,
          outcome: 'rejected',
          ...base,
          action: f.action,
          esetStatus: String(f.status),
          detail: f.reason,
        });
      }
      await this.deadLetter(rec, f, ctx.correlationId, lambda);
    }
    if (end.kind === 'done') {
      const seq = rec.seq;
      const saved = await session.finish((r) => {
        if (r.seq === seq) r.dirty = false;
        r.wake = undefined;
      });
      if (outstanding(saved.rec))
        await this.enqueue(saved.rec, this.deps.clock.now(), 'event', ctx.correlationId);
      return saved;
    }
    const wakeId = this.newId();
    try {
      await this.enqueue(rec, end.at, end.why, ctx.correlationId, wakeId);
    } catch (err) {
      await session.finish().catch(() => undefined);
      throw err;
    }
    const saved = await session.finish((r) => {
      r.wake = { id: wakeId, at: new Date(end.at).toISOString() };
    });
    if (lambda === 'retry') {
      this.deps.record({
        lambda,
        outcome: 'requeued',
        ...base,
        why: end.why,
        delaySeconds: delayTo(end.at, this.deps.clock.now()),
        attempt: saved.rec.progress.attempts,
        ...(esetStatus ? { esetStatus } : {}),
        ...(esetRequestId ? { esetRequestId } : {}),
        ...(end.reason ? { detail: end.reason } : {}),
      });
    }
    return saved;
  }

  private async enqueue(
    rec: IncidentRecord,
    at: number,
    why: RetryMessage['why'],
    correlationId: string,
    wakeId = this.newId(),
  ): Promise<void> {
    const now = this.deps.clock.now();
    const delaySeconds = delayTo(at, now);
    await this.deps.queue
      .enqueue(
        {
          v: 2,
          tenant: rec.tenant,
          incidentUuid: rec.incidentUuid,
          wakeId,
          sentAt: new Date(now).toISOString(),
          delaySeconds,
          correlationId,
          ...(why ? { why } : {}),
          ...(rec.want ? { want: wantOf(rec.want) } : {}),
        },
        delaySeconds,
      )
      .catch((err: unknown) => {
        throw new EnqueueError('The request could not be stored for retry; please retry later', {
          cause: err,
        });
      });
  }

  private async deadLetter(
    rec: IncidentRecord,
    f: Failure,
    correlationId: string,
    lambda: 'receive' | 'retry',
  ): Promise<void> {
    const now = this.deps.clock.now();
    const body: RetryMessage = {
      v: 2,
      tenant: rec.tenant,
      incidentUuid: rec.incidentUuid,
      wakeId: this.newId(),
      sentAt: new Date(now).toISOString(),
      delaySeconds: 0,
      correlationId,
      why: 'dead-letter',
      ...(rec.want ? { want: wantOf(rec.want) } : {}),
      deadLettered: {
        at: new Date(now).toISOString(),
        reason: f.reason.slice(0, 2000),
        action: f.action,
        key: f.key,
        ...(f.status ? { status: f.status } : {}),
      },
      ...(f.comment
        ? {
            comment: {
              key: f.comment.key,
              text: f.comment.text,
              at: f.comment.at,
              correlationId: f.comment.correlationId,
              ...(f.comment.ticketId ? { ticketId: f.comment.ticketId } : {}),
              ...(f.comment.unsure ? { unsure: true } : {}),
            },
          }
        : {}),
    };
    await this.deps.queue.deadLetter(JSON.stringify(body), {
      reason: f.reason,
      action: f.action,
      ...(rec.progress.lastStatus ? { lastStatus: rec.progress.lastStatus } : {}),
      attempts: rec.progress.calls ?? 0,
      firstSeen: rec.firstSeen,
      ...(rec.progress.lastRequestId ? { esetRequestId: rec.progress.lastRequestId } : {}),
      incidentUuid: rec.incidentUuid,
      tenant: rec.tenant,
      correlationId,
    });
    this.deps.record({
      lambda,
      outcome: 'dead-lettered',
      tenant: rec.tenant,
      incidentUuid: rec.incidentUuid,
      action: f.action,
      correlationId,
      ...(rec.progress.lastStatus ? { esetStatus: rec.progress.lastStatus } : {}),
      attempt: rec.progress.attempts,
      detail: f.reason,
    });
  }

  /** What the sender of one ticket event is answered. */
  private answer(
    event: TicketEvent,
    key: string,
    merge: MergeResult,
    rec: IncidentRecord,
    session: Session | undefined,
    end: SessionEnd | undefined,
    base: {
      tenant: string;
      incidentUuid: string;
      action: TicketAction;
      correlationId: string;
      route?: string;
    },
  ): EventAnswer {
    const incidentUuid = event.incidentUuid;
    const failure =
      session?.failures.find((f) => f.key === key) ??
      (rec.failed?.key === key ? { ...rec.failed, key } : undefined);
    if (failure) {
      this.deps.record({
        lambda: 'receive',
        outcome: 'rejected',
        ...base,
        httpStatus: failure.status === 404 ? 404 : 422,
        ...(failure.status ? { esetStatus: String(failure.status) } : {}),
        detail: failure.reason,
      });
      return {
        statusCode: failure.status === 404 ? 404 : 422,
        body: {
          status: 'rejected',
          incidentUuid,
          ...(failure.status ? { esetStatus: failure.status } : {}),
          reason: failure.reason,
        },
      };
    }
    if (merge === 'stale') {
      return {
        statusCode: 200,
        body: {
          status: 'stale',
          incidentUuid,
          message: 'A later ticket event was already applied; this one was not',
          appliedEventAt: rec.want?.at,
        },
      };
    }
    const effect = session?.effects.find((e) => e.key === key);
    const duplicate = merge === 'duplicate' ? { duplicate: true } : {};
    const queued = (): EventAnswer => {
      // Without a session of its own (a repeat, or another worker holds the incident), the record
      // says why the work waits and when it is due.
      const why =
        end?.kind === 'wait' ? end.why : rec.pending ? 'pending' : rec.unknown ? 'unknown' : 'retry';
      const at = end?.kind === 'wait' ? end.at : rec.wake ? Date.parse(rec.wake.at) : this.deps.clock.now();
      const delaySeconds = delayTo(at, this.deps.clock.now());
      this.deps.record({
        lambda: 'receive',
        outcome: 'queued',
        ...base,
        httpStatus: 202,
        why,
        delaySeconds,
        ...(rec.progress.lastStatus ? { esetStatus: rec.progress.lastStatus } : {}),
      });
      return {
        statusCode: 202,
        body: {
          status: 'queued',
          incidentUuid,
          reason: why,
          ...(rec.progress.lastStatus ? { esetStatus: rec.progress.lastStatus } : {}),
          ...duplicate,
        },
      };
    };
    if (event.action === 'comment') {
      const posted =
        effect !== undefined ||
        (merge === 'duplicate' &&
          !rec.comments.some((c) => c.key === key) &&
          !(rec.pending?.key === key) &&
          !(rec.unknown?.key === key));
      return posted
        ? { statusCode: 200, body: { status: 'commented', incidentUuid, ...duplicate } }
        : queued();
    }
    const settled = !rec.pending && !rec.unknown && rec.want?.key === key && !rec.dirty;
    if (rec.want?.key !== key) {
      // A later event took over while this one was handled: it decides the incident's state.
      return {
        statusCode: 202,
        body: {
          status: 'superseded',
          incidentUuid,
          message: 'A later ticket event for this incident takes precedence',
        },
      };
    }
    if (!settled && !(effect && !rec.pending && !rec.unknown)) return queued();
    if (event.action === 'close') {
      const standing = rec.eset?.reason;
      if (effect && effect.how !== 'already')
        return { statusCode: 200, body: { status: 'closed', incidentUuid, ...duplicate } };
      if (merge === 'duplicate' && rec.applied.closes > 0)
        return { statusCode: 200, body: { status: 'closed', incidentUuid, ...duplicate } };
      const conflict =
        standing !== undefined && event.closureReason !== undefined && standing !== event.closureReason;
      if (conflict) {
        this.deps.record({
          lambda: 'receive',
          outcome: 'reason-conflict',
          ...base,
          detail: `requested ${event.closureReason}, ${standing} stands`,
        });
      }
      return {
        statusCode: 200,
        body: {
          status: 'already-closed',
          incidentUuid,
          ...(standing ? { closureReason: standing } : {}),
          ...(conflict
            ? {
                requestedReason: event.closureReason,
                note: 'the incident was already closed with another reason, which stands; this close changed nothing',
              }
            : {}),
          ...duplicate,
        },
      };
    }
    if (effect && effect.how !== 'already')
      return { statusCode: 200, body: { status: 'reopened', incidentUuid, ...duplicate } };
    if (merge === 'duplicate' && rec.applied.reopens > 0)
      return { statusCode: 200, body: { status: 'reopened', incidentUuid, ...duplicate } };
    return {
      statusCode: 200,
      body: {
        status: 'already-open',
        incidentUuid,
        ...(rec.eset ? { esetStatus: rec.eset.status } : {}),
        ...duplicate,
      },
    };
  }
}

/** What a redrive changes: a new budget, the failure forgotten, a parked comment back in line. */
function redriveInto(r: IncidentRecord, message: RetryMessage, now: number): void {
  const at = new Date(now).toISOString();
  const dl = message.deadLettered;
  if (r.failed && (!dl?.key || dl.key === r.failed.key)) r.failed = undefined;
  const c = message.comment;
  if (c && !r.comments.some((q) => q.key === c.key)) r.comments.push({ ...c });
  r.progress = { budgetStart: at, attempts: 0 };
  r.dirty = true;
}

const ECHO = "the bridge's own change in the ticket, echoed back: not acted on";

/** How soon a wake-up looks again at an incident a receive worker holds (its session is short). */
const BUSY_RECHECK_MS = 2_000;
/** How soon a message looks again at an incident a retry worker holds (up to its lease's end). */
const HELD_RECHECK_MS = 10_000;

function wantOf(w: NonNullable<IncidentRecord['want']>): NonNullable<RetryMessage['want']> {
  return { status: w.status, key: w.key, ...(w.ticketId ? { ticketId: w.ticketId } : {}) };
}

function delayTo(at: number, now: number): number {
  return Math.max(0, Math.min(900, Math.ceil((at - now) / 1000)));
}

export { CLOSED };
