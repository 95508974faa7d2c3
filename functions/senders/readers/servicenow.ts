import { normalizeKey } from '../normalize';
import {
  at,
  declaredEvent,
  firstText,
  type Json,
  objectAt,
  optional,
  plainText,
  type Reader,
  type Reading,
  textOf,
} from './reading';

/**
 * ServiceNow as a sender: the JSON a Business Rule posts with RESTMessageV2 (docs/senders/
 * servicenow.md). The record's fields at the top level; `previous_state` tells a reopen from a
 * close; a journal entry (additional comments or work notes) arrives as `journal` (from a rule on
 * sys_journal_field) or as flat `comments` / `work_notes`.
 */

/** Resolved and Closed of `incident` (6, 7) and of Security Incident Response (Closed is 3 there). */
function isResolved(table: string | undefined, state: string | undefined): boolean {
  if (state === undefined) return false;
  const key = normalizeKey(state);
  if (key === 'resolved' || key === 'closed') return true;
  return table === 'sn_si_incident' ? key === '3' : key === '6' || key === '7';
}

/** Canceled (8 on incident, 7 on sn_si_incident) is neither open nor resolved. */
function isCanceled(table: string | undefined, state: string | undefined): boolean {
  if (state === undefined) return false;
  const key = normalizeKey(state);
  return key === 'canceled' || key === 'cancelled' || key === (table === 'sn_si_incident' ? '7' : '8');
}

export const servicenowReader: Reader = {
  view: (body) => body,

  read(view) {
    const table = textOf(view, 'table');
    const state = textOf(view, 'state');
    const previous = textOf(view, 'previous_state');
    const common = {
      occurredAt: at(view, 'sys_updated_on'),
      ...optional('actor', firstText(view, 'sys_updated_by')),
    };
    const recordEvent = (action: 'close' | 'reopen'): Reading => ({
      kind: 'event',
      action,
      ...common,
      ...optional('eventId', eventIdOf(view)),
    });
    const declared = declaredEvent(view);
    if (declared !== undefined) {
      if (typeof declared !== 'string') return declared;
      return declared === 'comment' ? journalEvent(view, common) : recordEvent(declared);
    }
    if (objectAt(view, 'journal')) return journalEvent(view, common);
    if (isResolved(table, state)) {
      if (isResolved(table, previous)) {
        return { kind: 'skip', reason: `already resolved (state ${previous} -> ${state})` };
      }
      return recordEvent('close');
    }
    if (isResolved(table, previous) && state !== undefined && !isCanceled(table, state)) {
      return recordEvent('reopen');
    }
    if (firstText(view, 'comments', 'work_notes') !== undefined) return journalEvent(view, common);
    return { kind: 'skip', reason: `not a resolve event (state ${state ?? 'missing'})` };
  },
};

/** The record's version: sys_id and its update count, so each update is its own event. */
function eventIdOf(view: Json): string | undefined {
  const id = firstText(view, 'sys_id');
  const count = firstText(view, 'sys_mod_count');
  return id === undefined ? undefined : count === undefined ? id : `${id}:${count}`;
}

function journalEvent(view: Json, common: { occurredAt: unknown; actor?: string }): Reading {
  const journal = objectAt(view, 'journal');
  if (journal) {
    const text = plainText(journal.value);
    if (text === undefined) return { kind: 'skip', reason: 'a journal entry without text' };
    return {
      kind: 'event',
      action: 'comment',
      text,
      internal: textOf(journal, 'element') !== 'comments',
      occurredAt: journal.sys_created_on ?? common.occurredAt,
      ...optional('eventId', firstText(journal, 'sys_id')),
      ...optional('actor', firstText(journal, 'sys_created_by') ?? common.actor),
    };
  }
  const comments = plainText(at(view, 'comments'));
  const workNotes = plainText(at(view, 'work_notes'));
  if (comments === undefined && workNotes === undefined) {
    return { kind: 'skip', reason: 'a comment event without comments or work_notes' };
  }
  return {
    kind: 'event',
    action: 'comment',
    // Additional comments are what the caller sees; work notes stay inside the service desk.
    text: (comments ?? workNotes) as string,
    internal: comments === undefined,
    ...common,
    ...optional('eventId', eventIdOf(view)),
  };
}
