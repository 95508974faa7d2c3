import type { TicketAction } from '../../events/ticket-event';
import { parseFieldPath, scalarText, textAt, valueAt } from '../field-path';
import { normalizeKey } from '../normalize';

/**
 * What one system's payload says happened, before the route's settings and the incident lookup:
 * a close, a reopen or a comment, or a reason to ignore it. Each system has a reader (this folder)
 * that knows its event names and shapes; the adapter engine (../adapters.ts) does the rest.
 */
export type Reading =
  | {
      kind: 'event';
      action: TicketAction;
      /** The comment's text, the reopen note, or (close) a note when the system's note fields are empty. */
      text?: string;
      /** The system marks the comment as not visible to the requester (work note, private note). */
      internal?: boolean;
      /** When it happened, as the payload says it (normalised by the engine). */
      occurredAt?: unknown;
      eventId?: string;
      actor?: string;
    }
  | { kind: 'skip'; reason: string };

export interface Reader {
  /** The payload as the reader and the system's default field paths read it (unwrapped, flattened). */
  view(body: Record<string, unknown>): Record<string, unknown>;
  read(view: Record<string, unknown>): Reading;
}

export type Json = Record<string, unknown>;

const paths = new Map<string, ReturnType<typeof parseFieldPath>>();
const compiled = (path: string) => {
  let p = paths.get(path);
  if (!p) {
    p = parseFieldPath(path);
    paths.set(path, p);
  }
  return p;
};

/** The value at a fixed path of the reader's own (never a path from a payload). */
export const at = (root: unknown, path: string): unknown => valueAt(root, compiled(path));
/** The text at a fixed path (a scalar, or a select option's value/name). */
export const textOf = (root: unknown, path: string): string | undefined => textAt(root, compiled(path));
/** The first text found at any of the paths. */
export const firstText = (root: unknown, ...list: string[]): string | undefined => {
  for (const p of list) {
    const t = textOf(root, p);
    if (t !== undefined) return t;
  }
  return undefined;
};
export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
export const objectAt = (root: unknown, path: string): Json | undefined => {
  const v = at(root, path);
  return isObject(v) ? v : undefined;
};
/** Text that is present: a non-blank scalar. */
export const present = (v: unknown) => scalarText(v) !== undefined;
/** A boolean as webhooks spell it: true/false, "true"/"false", "1"/"0". */
export function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const t = scalarText(v)?.toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes') return true;
  if (t === 'false' || t === '0' || t === 'no') return false;
  return undefined;
}

const EVENT_WORDS = new Map<string, TicketAction>([
  ...['resolved', 'resolve', 'solved', 'closed', 'close'].map((w) => [w, 'close'] as const),
  ...['reopened', 'reopen'].map((w) => [w, 'reopen'] as const),
  ...['commented', 'comment', 'commentadded', 'noteadded', 'note'].map((w) => [w, 'comment'] as const),
]);

/**
 * The event an admin-written body declares with `"event": "resolved" | "reopened" | "commented"`
 * (docs/senders/): undefined when there is none, a skip when it names something else.
 */
export function declaredEvent(view: Json): TicketAction | { kind: 'skip'; reason: string } | undefined {
  const word = scalarText(view.event);
  if (word === undefined) return undefined;
  return (
    EVENT_WORDS.get(normalizeKey(word)) ?? {
      kind: 'skip',
      reason: `unknown event "${word.slice(0, 40)}" (expected resolved, reopened or commented)`,
    }
  );
}

/** Text of a comment body: a string, or an Atlassian Document Format tree (its text nodes). */
export function plainText(v: unknown): string | undefined {
  const direct = scalarText(v);
  if (direct !== undefined || !isObject(v)) return direct;
  const out: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 50 || !isObject(node)) return;
    if (node.type === 'text' && typeof node.text === 'string') out.push(node.text);
    if (node.type === 'hardBreak') out.push('\n');
    if (Array.isArray(node.content)) {
      node.content.forEach((child) => {
        walk(child, depth + 1);
      });
      if (node.type === 'paragraph' || node.type === 'heading' || node.type === 'listItem') out.push('\n');
    }
  };
  walk(v, 0);
  const text = out.join('').trim();
  return text === '' ? undefined : text;
}

/** `{ [key]: value }` when there is a value, `{}` otherwise (for optional fields). */
export function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
