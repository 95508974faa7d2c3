import { normalizeKey } from '../normalize';
import {
  at,
  declaredEvent,
  firstText,
  isObject,
  type Json,
  optional,
  plainText,
  type Reader,
  type Reading,
  textOf,
} from './reading';

/**
 * Freshservice and Freshdesk as senders: a Workflow Automator (Freshservice) or automation rule
 * (Freshdesk) "Trigger Webhook". Three body shapes, read as one flat record with the `ticket_`
 * prefix dropped (`ticket_cf_eset_incident` -> `cf_eset_incident`):
 * - "Simple" content: `{"freshdesk_webhook": {"ticket_id": ..., "ticket_status": ...}}`;
 * - "Advanced" content nested: `{"ticket": {"id": ..., "status": ...}}`;
 * - "Advanced" content flat: `{"ticket_id": ..., "ticket_status": ...}` or `{"id": ..., "status": ...}`.
 * An Advanced body may declare `"event": "resolved" | "reopened" | "commented"`.
 */

const RESOLVED = new Set(['resolved', 'closed', '4', '5']);

export const freshworksReader: Reader = {
  view(body) {
    const inner = isObject(body.freshdesk_webhook)
      ? body.freshdesk_webhook
      : isObject(body.ticket)
        ? body.ticket
        : body;
    const flat: Json = {};
    for (const [key, value] of Object.entries(inner)) {
      if (key.startsWith('ticket_')) flat[key.slice('ticket_'.length)] = value;
    }
    for (const [key, value] of Object.entries(inner)) {
      if (!key.startsWith('ticket_')) flat[key] = value;
    }
    if (inner !== body && body.event !== undefined) flat.event = body.event;
    return flat;
  },

  read(view) {
    const declared = declaredEvent(view);
    if (declared !== undefined && typeof declared !== 'string') return declared;
    const status = textOf(view, 'status');
    const publicNote = plainText(at(view, 'latest_public_comment'));
    const privateNote = plainText(at(view, 'latest_private_comment'));
    const note = plainText(at(view, 'note')) ?? plainText(at(view, 'comment'));
    const action =
      declared ??
      (status !== undefined && RESOLVED.has(normalizeKey(status))
        ? 'close'
        : (publicNote ?? privateNote ?? note) !== undefined
          ? 'comment'
          : undefined);
    const common = {
      occurredAt: at(view, 'occurredAt') ?? at(view, 'updated_at') ?? at(view, 'modified_at'),
      ...optional('actor', firstText(view, 'actor')),
      ...optional('eventId', firstText(view, 'eventId', 'note_id')),
    };
    if (action === undefined)
      return { kind: 'skip', reason: `not a resolve event (status ${status ?? 'missing'})` };
    if (action !== 'comment') {
      return {
        kind: 'event',
        action,
        ...common,
        ...(note !== undefined && action === 'reopen' ? { text: note } : {}),
      };
    }
    const text = note ?? publicNote ?? privateNote;
    if (text === undefined) return { kind: 'skip', reason: 'a note event without note text' };
    // A private note, or the latest private note alone: not visible to the requester.
    const internal =
      note !== undefined
        ? at(view, 'private') === true || textOf(view, 'private') === 'true'
        : publicNote === undefined;
    return { kind: 'event', action, text, internal, ...common } satisfies Reading;
  },
};
