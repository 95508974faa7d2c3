import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../clock/clock';
import type { Pacer } from './pacer';
import { MAX_PAUSE_MS } from './rate-limiter';

/**
 * ESET's rate limit is per API user, across every process of the deployment: 10 calls per second.
 * This budget is shared through one DynamoDB item per tenant (`budget#<tenant>`) holding `tat`,
 * the time the next call may start (the generic cell rate algorithm: each call takes the slot at
 * `max(tat, now)` and moves `tat` one interval on). Every process takes its slots from the same
 * item with one conditional update, so call starts are spaced `interval` apart deployment-wide,
 * and a 429 moves `tat` past the pause for everyone.
 *
 * Priorities: a call that changes an incident (`act`) takes any slot before its deadline; a read
 * only one within READ_QUEUE_MS and the sync one within SYNC_QUEUE_MS, so under load they give way
 * to closes instead of queueing in front of them.
 */
export const READ_QUEUE_MS = 2_000;

/**
 * Slots are `window / limit` apart: 110 ms for ESET's 10 per second. ESET counts calls when they
 * arrive, and a call can start a little late (a busy process wakes late) while the next starts on
 * time; the 10 % margin keeps any second's arrivals at 10 through such jitter, for 9.1 calls per
 * second of throughput.
 */
export const DEFAULT_BUDGET_WINDOW_MS = 1100;
export const SYNC_QUEUE_MS = 500;

/**
 * One round trip per call when the guess about the budget's state is right (the usual case: a
 * process takes its slots one at a time and sees `tat` in every answer); more when other
 * processes took the slot first.
 */
const MAX_TRIES = 12;

/**
 * A slot taken by `reserve` is used only this soon after its start time; later, starting the call
 * would crowd the next process's slot, so a fresh one is taken and the early one goes unused.
 */
export const RESERVED_SLOT_MS = 50;

export interface SharedBudgetOptions {
  table: string;
  tenant: string;
  /** ESET's limit per API user (10), spaced with a margin: `windowMs / perSecond` between starts. */
  perSecond: number;
  windowMs?: number;
  clock: Clock;
  dynamo: () => Promise<{ client: DynamoDBClient; mod: typeof import('@aws-sdk/client-dynamodb') }>;
  /** Called when the budget cannot be read or written (the call is then not made: not-sent). */
  onError?: (err: unknown) => void;
}

export class SharedBudget implements Pacer {
  private readonly intervalMs: number;
  private readonly key: string;
  /** The last `tat` seen: picks which of the two conditional updates to try first. */
  private lastTat = 0;
  /** Round trips to DynamoDB, for the benchmark's cost per call. */
  roundTrips = 0;
  /** Calls that started on a slot taken ahead by `reserve`. */
  reservedUsed = 0;
  /** This process asks for one slot at a time: its own calls never race each other. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A slot taken ahead by `reserve`, for the next `acquire`. */
  private early: { at: number; slot: Promise<number | undefined> } | undefined;

  constructor(private readonly opts: SharedBudgetOptions) {
    this.intervalMs = (opts.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) / opts.perSecond;
    this.key = `budget#${opts.tenant}`;
  }

  /**
   * Takes the next slot now, while the caller does other work (the receive path writes the
   * incident's record), for the `acquire` that follows. Only while the budget looks idle: then the
   * slot is now, and one that goes unused (the record showed nothing to do) delays nobody much.
   * Under load the caller waits for its slot anyway, and an unused one would be lost throughput.
   */
  reserve(deadline: number): void {
    const now = this.opts.clock.now();
    if (this.lastTat > now) return;
    if (this.early && now - this.early.at <= RESERVED_SLOT_MS) return;
    const turn = this.tail.then(() => this.takeSlot(deadline, 'act'));
    this.tail = turn.catch(() => undefined);
    this.early = {
      at: now,
      slot: turn.catch((err: unknown) => {
        this.opts.onError?.(err);
        return undefined;
      }),
    };
  }

  async acquire(deadline: number, priority: 'act' | 'read' | 'sync' = 'act'): Promise<boolean> {
    const { clock } = this.opts;
    const early = this.early;
    if (early) {
      this.early = undefined;
      const reserved = await early.slot;
      const now = clock.now();
      if (reserved !== undefined && reserved <= deadline && now - reserved <= RESERVED_SLOT_MS) {
        if (reserved > now) await clock.sleep(reserved - now);
        this.reservedUsed += 1;
        return true;
      }
    }
    let slot: number | undefined;
    const turn = this.tail.then(() => this.takeSlot(deadline, priority));
    this.tail = turn.catch(() => undefined);
    try {
      slot = await turn;
    } catch (err) {
      this.opts.onError?.(err);
      return false;
    }
    if (slot === undefined) return false;
    const wait = slot - clock.now();
    if (wait > 0) await clock.sleep(wait);
    return true;
  }

  pause(ms: number): void {
    const until = this.opts.clock.now() + Math.min(Math.max(0, ms), MAX_PAUSE_MS);
    // Everyone's next slot moves past the pause; a failure only loses the pause, never a call.
    void this.update('SET tat = :until', 'attribute_not_exists(tat) OR tat < :until', {
      ':until': until,
    }).catch((err: unknown) => this.opts.onError?.(err));
  }

  /** The start time of this call's slot, or undefined when none comes before the caller's limit. */
  private async takeSlot(deadline: number, priority: 'act' | 'read' | 'sync'): Promise<number | undefined> {
    const { clock } = this.opts;
    for (let i = 0; i < MAX_TRIES; i++) {
      const now = clock.now();
      const queueLimit =
        priority === 'act' ? Number.POSITIVE_INFINITY : priority === 'read' ? READ_QUEUE_MS : SYNC_QUEUE_MS;
      const latest = Math.min(deadline, now + queueLimit);
      if (this.lastTat > now) {
        // Busy: take the slot at `tat` and move it on, if it comes soon enough.
        const r = await this.update('SET tat = tat + :i', 'tat >= :now AND tat <= :latest', {
          ':i': this.intervalMs,
          ':now': now,
          ':latest': latest,
        });
        if (r.ok) {
          this.lastTat = r.tat;
          return r.tat - this.intervalMs;
        }
        this.lastTat = r.tat ?? (await this.read());
        if (this.lastTat > latest) return undefined;
      } else {
        // Idle: the slot is now (a slot starting exactly now is free too: `tat <= now`, the
        // same test as the guess above, so a guess of idle is never refused on that edge).
        const r = await this.update('SET tat = :next', 'attribute_not_exists(tat) OR tat <= :now', {
          ':next': now + this.intervalMs,
          ':now': now,
        });
        if (r.ok) {
          this.lastTat = r.tat;
          return now;
        }
        this.lastTat = r.tat ?? (await this.read());
        if (this.lastTat > latest) return undefined;
      }
    }
    return undefined;
  }

  /**
   * The budget's `tat`, read when a failed update did not return the item (DynamoDB returns it
   * with ReturnValuesOnConditionCheckFailure; some DynamoDB-protocol servers do not).
   */
  private async read(): Promise<number> {
    const { client, mod } = await this.opts.dynamo();
    this.roundTrips += 1;
    const res = await client.send(
      new mod.GetItemCommand({
        TableName: this.opts.table,
        Key: { id: { S: this.key } },
        ConsistentRead: true,
      }),
    );
    return Number((res.Item as Record<string, { N?: string }> | undefined)?.tat?.N ?? '0');
  }

  /** One conditional update; on a failed condition, the item as it stands (ALL_OLD). */
  private async update(
    expression: string,
    condition: string,
    values: Record<string, number>,
  ): Promise<{ ok: true; tat: number } | { ok: false; tat?: number }> {
    const { client, mod } = await this.opts.dynamo();
    this.roundTrips += 1;
    try {
      const res = await client.send(
        new mod.UpdateItemCommand({
          TableName: this.opts.table,
          Key: { id: { S: this.key } },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeValues: Object.fromEntries(
            Object.entries(values).map(([k, v]) => [k, { N: String(Math.round(v)) }]),
          ),
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true, tat: Number(res.Attributes?.tat?.N ?? '0') };
    } catch (err) {
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') {
        const item = (err as { Item?: Record<string, { N?: string }> }).Item;
        const tat = item?.tat?.N;
        return tat === undefined ? { ok: false } : { ok: false, tat: Number(tat) };
      }
      throw err;
    }
  }
}
