/**
 * Parsers for the admin endpoints' JSON bodies. Admin input comes from test tools and people
 * with curl, so every field is checked and an unknown one is refused: a misspelt option would
 * otherwise be dropped and the test would test something else.
 */
import { SandboxInputError } from './faults';
import {
  INCIDENT_STATUSES,
  type IncidentOptions,
  type IncidentRecord,
  type IncidentStatus,
  isRecord,
  newIncidentRecord,
  type ResolveReason,
} from './incidents';
import type { ConsoleCloseOptions, ConsoleReopenOptions } from './types';

export function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], label: string): void {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new SandboxInputError(`${label}.${extra} is not a known field`);
}

function optionalText(value: Record<string, unknown>, key: string, label: string): string | undefined {
  const text = value[key];
  if (text !== undefined && typeof text !== 'string') {
    throw new SandboxInputError(`${label}.${key} must be a string`);
  }
  return text;
}

/** `POST /_sandbox/incidents` `{"incidents":[{uuid, status?, severity?, displayName?, description?, createTime?}]}`. */
export function parseSeedIncidents(input: unknown, now: number): IncidentRecord[] {
  if (!isRecord(input) || !Array.isArray(input.incidents)) {
    throw new SandboxInputError('body must be {"incidents":[{"uuid","status"?,"severity"?,...}]}');
  }
  return input.incidents.map((item: unknown, index) => {
    const label = `incidents[${index}]`;
    if (!isRecord(item) || typeof item.uuid !== 'string' || item.uuid === '') {
      throw new SandboxInputError(`${label}.uuid must be a non-empty string`);
    }
    onlyKeys(item, ['uuid', 'status', 'severity', 'displayName', 'description', 'createTime'], label);
    if (item.status !== undefined && !INCIDENT_STATUSES.includes(item.status as IncidentStatus)) {
      throw new SandboxInputError(`${label}.status must be one of ${INCIDENT_STATUSES.join(', ')}`);
    }
    const { uuid, status, ...opts } = item;
    try {
      return newIncidentRecord(
        uuid as string,
        (status ?? 'INCIDENT_STATUS_OPEN') as IncidentStatus,
        opts as IncidentOptions,
        now,
      );
    } catch (error) {
      if (error instanceof SandboxInputError) throw new SandboxInputError(`${label}: ${error.message}`);
      throw error;
    }
  });
}

export type ConsoleInput =
  | { action: 'close'; uuid: string; options: ConsoleCloseOptions }
  | { action: 'reopen'; uuid: string; options: ConsoleReopenOptions }
  | { action: 'comment'; uuid: string; text: string; by?: string };

/** `POST /_sandbox/console/{close,reopen,comment}`: `{uuid, reason?, comment?, by?}` or `{uuid, text, by?}`. */
export function parseConsoleInput(action: ConsoleInput['action'], input: unknown): ConsoleInput {
  const label = `console/${action}`;
  if (!isRecord(input) || typeof input.uuid !== 'string')
    throw new SandboxInputError(`${label} needs a uuid`);
  const uuid = input.uuid;
  const by = optionalText(input, 'by', label);
  const withBy = by === undefined ? {} : { by };
  if (action === 'comment') {
    onlyKeys(input, ['uuid', 'text', 'by'], label);
    return { action, uuid, text: optionalText(input, 'text', label) ?? '', ...withBy };
  }
  const comment = optionalText(input, 'comment', label);
  const withComment = comment === undefined ? {} : { comment };
  if (action === 'reopen') {
    onlyKeys(input, ['uuid', 'comment', 'by'], label);
    return { action, uuid, options: { ...withComment, ...withBy } };
  }
  onlyKeys(input, ['uuid', 'reason', 'comment', 'by'], label);
  const reason = optionalText(input, 'reason', label) as ResolveReason | undefined;
  return {
    action,
    uuid,
    options: { ...(reason === undefined ? {} : { reason }), ...withComment, ...withBy },
  };
}
