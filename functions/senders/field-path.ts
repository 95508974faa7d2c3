/**
 * Field paths into a sender's JSON payload, as operators write them in SENDERS_CONFIG:
 * `issue.fields.customfield_10050`, `issue.fields.comment.comments[-1].body` (last element),
 * `object.customFields[name=eset-incident].value` (first array element whose `name` is
 * `eset-incident`). Keys containing `.` or `[` cannot be addressed.
 */

type Selector =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'match'; key: string; value: string };

export type FieldPath = readonly Selector[];

const SEGMENT = /^([^[\]]*)((?:\[[^\]]+\])*)$/;

/** Parses a path; throws an Error naming the problem (reported by the config loader). */
export function parseFieldPath(text: string): FieldPath {
  if (text.trim() === '') throw new Error('field path must not be empty');
  const out: Selector[] = [];
  for (const segment of text.split('.')) {
    const m = SEGMENT.exec(segment);
    if (!m || (m[1] === '' && m[2] === '')) throw new Error(`invalid field path "${text}"`);
    if (m[1]) out.push({ kind: 'key', key: m[1] });
    for (const [, inner = ''] of (m[2] ?? '').matchAll(/\[([^\]]+)\]/g)) {
      if (/^-?\d+$/.test(inner)) out.push({ kind: 'index', index: Number(inner) });
      else if (inner.includes('=')) {
        const at = inner.indexOf('=');
        out.push({ kind: 'match', key: inner.slice(0, at), value: inner.slice(at + 1) });
      } else throw new Error(`invalid selector [${inner}] in field path "${text}"`);
    }
  }
  return out;
}

/** The value at a path, or undefined when any step is missing. Never throws. */
export function valueAt(root: unknown, path: FieldPath): unknown {
  let v: unknown = root;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (s.kind === 'key') {
      if (!Object.hasOwn(v, s.key)) return undefined;
      v = (v as Record<string, unknown>)[s.key];
    } else if (!Array.isArray(v)) {
      return undefined;
    } else if (s.kind === 'index') {
      v = v.at(s.index);
    } else {
      v = v.find(
        (item) =>
          scalarText(
            item === null || typeof item !== 'object' ? undefined : (item as Record<string, unknown>)[s.key],
          ) === s.value,
      );
    }
  }
  return v;
}

/** A scalar as text (strings trimmed, numbers and booleans printed); undefined for anything else. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * The text a field holds, for the shapes ticketing systems use for "a value": a string or number,
 * a select option (`{ value }`, `{ name }`, `{ display_value }`) or, for TheHive 4 custom fields,
 * `{ string }`.
 */
export function textAt(root: unknown, path: FieldPath): string | undefined {
  const v = valueAt(root, path);
  const direct = scalarText(v);
  if (direct !== undefined || v === null || typeof v !== 'object' || Array.isArray(v)) return direct;
  const o = v as Record<string, unknown>;
  for (const key of ['value', 'name', 'display_value', 'string']) {
    const t = scalarText(o[key]);
    if (t !== undefined) return t;
  }
  return undefined;
}

/** Tags as a list: arrays of strings (or of `{ name }`) and space/comma-separated strings. */
export function tagsAt(root: unknown, path: FieldPath): string[] {
  const v = valueAt(root, path);
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((t) => t.length > 0);
  if (!Array.isArray(v)) return [];
  return v
    .map(
      (t) =>
        scalarText(t) ??
        (t && typeof t === 'object' ? scalarText((t as Record<string, unknown>).name) : undefined),
    )
    .filter((t): t is string => t !== undefined);
}
