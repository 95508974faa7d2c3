import { normalizeKey } from '../normalize';
import {
  at,
  declaredEvent,
  firstText,
  flag,
  isObject,
  type Json,
  objectAt,
  optional,
  plainText,
  type Reader,
  type Reading,
  textOf,
} from './reading';

/**
 * Zendesk as a sender:
 * - event webhooks (`zen:event-type:ticket.*`): `ticket.status_changed` closes or reopens,
 *   `ticket.comment_added` is a comment; every other event (tags changed, priority...) is ignored,
 *   whatever the ticket's status, so an edit of a solved ticket never closes anything again;
 * - trigger webhooks with a body from the documented template, nested under `ticket` or flat,
 *   optionally with `"event": "resolved" | "reopened" | "commented"`.
 */

const RESOLVED = new Set(['solved', 'closed']);
const OPEN = new Set(['new', 'open', 'pending', 'hold']);
const TICKET_KEYS = ['id', 'status', 'eset_incident', 'tags'] as const;

export const zendeskReader: Reader = {
  view(body) {
    const isEvent = typeof body.type === 'string' && body.type.startsWith('zen:event-type:');
    if (isEvent || isObject(body.ticket) || !TICKET_KEYS.some((k) => body[k] !== undefined)) return body;
    // A trigger body written flat: the same keys as the nested template, at the top level.
    const { event, ...ticket } = body;
    return { ...(event !== undefined ? { event } : {}), ticket };
  },

  read(view) {
    const type = textOf(view, 'type');
    if (type?.startsWith('zen:event-type:')) return eventWebhook(view, type);
    if (!isObject(view.ticket)) {
      return { kind: 'skip', reason: 'neither a Zendesk event nor a trigger body with a ticket' };
    }
    const declared = declaredEvent(view);
    if (declared !== undefined && typeof declared !== 'string') return declared;
    const status = textOf(view, 'ticket.status');
    const comment = triggerComment(view);
    const action =
      declared ??
      (status !== undefined && RESOLVED.has(normalizeKey(status))
        ? 'close'
        : comment !== undefined
          ? 'comment'
          : undefined);
    if (action === undefined) {
      return { kind: 'skip', reason: `not a resolve event (ticket.status ${status ?? 'missing'})` };
    }
    const common = {
      occurredAt: at(view, 'ticket.updated_at'),
      ...optional('actor', firstText(view, 'ticket.actor_id', 'ticket.current_user_id')),
    };
    if (action !== 'comment') return { kind: 'event', action, ...common };
    if (comment === undefined) return { kind: 'skip', reason: 'a comment event without comment text' };
    return {
      kind: 'event',
      action,
      ...common,
      ...comment,
      ...optional('actor', firstText(view, 'ticket.latest_comment.author_id') ?? common.actor),
    };
  },
};

/** The latest comment of a trigger body: `latest_comment` as text or `{id, body, public, author_id}`. */
function triggerComment(view: Json): { text: string; internal?: boolean; eventId?: string } | undefined {
  const raw = at(view, 'ticket.latest_comment') ?? at(view, 'ticket.latest_public_comment');
  if (!isObject(raw)) {
    const text = plainText(raw);
    return text === undefined ? undefined : { text };
  }
  const text = plainText(raw.body ?? raw.value);
  if (text === undefined) return undefined;
  const isPublic = flag(raw.public ?? raw.is_public);
  return {
    text,
    ...(isPublic === undefined ? {} : { internal: !isPublic }),
    ...optional('eventId', firstText(raw, 'id')),
  };
}

function eventWebhook(view: Json, type: string): Reading {
  const common = {
    occurredAt: at(view, 'time'),
    ...optional('actor', firstText(view, 'detail.actor_id')),
  };
  if (type === 'zen:event-type:ticket.status_changed') {
    const current = normalizeKey(textOf(view, 'event.current') ?? '');
    const previous = normalizeKey(textOf(view, 'event.previous') ?? '');
    const eventId = optional('eventId', firstText(view, 'id'));
    if (RESOLVED.has(current)) {
      if (RESOLVED.has(previous)) {
        return { kind: 'skip', reason: `already resolved (status ${previous} -> ${current})` };
      }
      return { kind: 'event', action: 'close', ...common, ...eventId };
    }
    if (RESOLVED.has(previous) && OPEN.has(current)) {
      return { kind: 'event', action: 'reopen', ...common, ...eventId };
    }
    return { kind: 'skip', reason: `status changed from ${previous || '?'} to ${current || '?'}` };
  }
  if (type === 'zen:event-type:ticket.comment_added') {
    const comment = objectAt(view, 'event.comment');
    const text = plainText(comment?.body);
    if (!comment || text === undefined)
      return { kind: 'skip', reason: 'a comment event without comment text' };
    const isPublic = flag(comment.is_public);
    return {
      kind: 'event',
      action: 'comment',
      text,
      ...(isPublic === undefined ? {} : { internal: !isPublic }),
      ...common,
      ...optional('eventId', firstText(comment, 'id') ?? firstText(view, 'id')),
      ...optional('actor', firstText(comment, 'author.id') ?? common.actor),
    };
  }
  return {
    kind: 'skip',
    reason: `not a status change or comment (${type.slice(0, 80)}): only those close, reopen or comment`,
  };
}
