/**
 * `GET /v2/incidents`: the query parameters, the subset of Google AIP-160 filtering the bridge
 * needs, AIP-132 ordering and offset-based paging. ESET documents filter, orderBy and paging
 * only by reference to the AIPs; the sandbox implements the part a client may use and answers
 * 400 to everything else, so a filter ESET might read differently is never silently ignored.
 *
 * Filter grammar (whitespace between tokens is free):
 *   filter     := term ("AND" term)*
 *   term       := field op literal | name ".contains(" string ")"
 *   field      := ["incident."] (update_time | updateTime | create_time | createTime | status | severity)
 *   name       := ["incident."] (display_name | displayName)
 *   op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="      (status and severity: "=", "==", "!=")
 *   literal    := timestamp("RFC 3339") for times, "ENUM_VALUE" for status and severity
 */
import { createHash } from 'node:crypto';
import {
  INCIDENT_STATUSES,
  type IncidentRecord,
  parseTimestampNanos,
  SEVERITY_LEVELS,
  type SeverityLevel,
} from './incidents';

/** Limits from the spec's query parameter schemas, and its page size rule. */
export const LIST_LIMITS = {
  filterMaxLength: 200,
  orderByMaxLength: 100,
  pageTokenMaxLength: 128,
  pageSizeMaximum: 99_999,
  defaultPageSize: 50,
  maxPageSize: 1000,
} as const;

/** A list request the sandbox refuses; answered 400 with google.rpc code 3. */
export class ListQueryError extends Error {
  override readonly name = 'ListQueryError';
}

export interface ListQuery {
  filter: string;
  orderBy: string;
  /** After the spec's rules: 0 became 50, anything above 1000 became 1000. */
  pageSize: number;
  pageToken: string;
}

const QUERY_PARAMETERS = ['filter', 'orderBy', 'pageSize', 'pageToken'] as const;

/**
 * Reads the list's query parameters. grpc-gateway would also take snake_case names and ignore
 * unknown ones; the sandbox takes only the documented lowerCamelCase names, each at most once.
 */
export function parseListQuery(search: URLSearchParams): ListQuery {
  const seen = new Set<string>();
  for (const key of search.keys()) {
    if (!(QUERY_PARAMETERS as readonly string[]).includes(key)) {
      throw new ListQueryError(`unknown query parameter ${JSON.stringify(key)}`);
    }
    if (seen.has(key)) throw new ListQueryError(`query parameter ${key} given more than once`);
    seen.add(key);
  }
  const filter = search.get('filter') ?? '';
  const orderBy = search.get('orderBy') ?? '';
  const pageToken = search.get('pageToken') ?? '';
  if (filter.length > LIST_LIMITS.filterMaxLength) {
    throw new ListQueryError(`filter must be at most ${LIST_LIMITS.filterMaxLength} characters`);
  }
  if (orderBy.length > LIST_LIMITS.orderByMaxLength) {
    throw new ListQueryError(`orderBy must be at most ${LIST_LIMITS.orderByMaxLength} characters`);
  }
  if (pageToken.length > LIST_LIMITS.pageTokenMaxLength) {
    throw new ListQueryError(`pageToken must be at most ${LIST_LIMITS.pageTokenMaxLength} characters`);
  }
  const rawSize = search.get('pageSize');
  let pageSize: number = LIST_LIMITS.defaultPageSize;
  if (rawSize !== null) {
    if (!/^\d{1,6}$/.test(rawSize) || Number(rawSize) > LIST_LIMITS.pageSizeMaximum) {
      throw new ListQueryError(`pageSize must be an integer from 0 to ${LIST_LIMITS.pageSizeMaximum}`);
    }
    const size = Number(rawSize);
    pageSize = size === 0 ? LIST_LIMITS.defaultPageSize : Math.min(size, LIST_LIMITS.maxPageSize);
  }
  return { filter, orderBy, pageSize, pageToken };
}

// ---------------------------------------------------------------------------------------------
// Filter

type Token =
  | { type: 'ident'; value: string; at: number }
  | { type: 'string'; value: string; at: number }
  | { type: 'op'; value: string; at: number }
  | { type: '.' | '(' | ')'; at: number };

const OPERATORS = ['<=', '>=', '!=', '==', '=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === '.' || ch === '(' || ch === ')') {
      tokens.push({ type: ch, at: i });
      i += 1;
      continue;
    }
    const op = OPERATORS.find((candidate) => text.startsWith(candidate, i));
    if (op !== undefined) {
      tokens.push({ type: 'op', value: op, at: i });
      i += op.length;
      continue;
    }
    if (ch === '"') {
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new ListQueryError(`unterminated string at ${start}`);
        const c = text.charAt(i);
        if (c === '"') break;
        if (c === '\\') {
          const next = text.charAt(i + 1);
          // Only the two escapes a quoted value needs; CEL's others are not worth guessing at.
          if (next !== '"' && next !== '\\') throw new ListQueryError(`unsupported escape at ${i}`);
          value += next;
          i += 2;
          continue;
        }
        value += c;
        i += 1;
      }
      tokens.push({ type: 'string', value, at: start });
      i += 1;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident !== null) {
      tokens.push({ type: 'ident', value: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    throw new ListQueryError(`unsupported character ${JSON.stringify(ch)} at ${i} in filter`);
  }
  return tokens;
}

type Predicate = (incident: IncidentRecord) => boolean;

const TIME_FIELDS: Record<string, 'createTime' | 'updateTime'> = {
  create_time: 'createTime',
  createTime: 'createTime',
  update_time: 'updateTime',
  updateTime: 'updateTime',
};
const ENUM_FIELDS: Record<string, 'status' | 'severity'> = { status: 'status', severity: 'severity' };
const NAME_FIELDS = new Set(['display_name', 'displayName']);

function compare(left: bigint | string, op: Operator, right: bigint | string): boolean {
  switch (op) {
    case '=':
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
  }
}

class FilterParser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Predicate {
    const terms = [this.term()];
    while (this.i < this.tokens.length) {
      const token = this.next();
      if (token.type !== 'ident' || token.value !== 'AND') {
        throw new ListQueryError(`expected AND at ${token.at} (only AND joins terms)`);
      }
      terms.push(this.term());
    }
    return (incident) => terms.every((term) => term(incident));
  }

  private next(): Token {
    const token = this.tokens[this.i];
    if (token === undefined) throw new ListQueryError('filter ends early');
    this.i += 1;
    return token;
  }

  private expect<T extends Token['type']>(type: T, what: string): Extract<Token, { type: T }> {
    const token = this.next();
    if (token.type !== type) throw new ListQueryError(`expected ${what} at ${token.at}`);
    return token as Extract<Token, { type: T }>;
  }

  private term(): Predicate {
    const path = [this.expect('ident', 'a field name').value];
    while (this.tokens[this.i]?.type === '.') {
      this.i += 1;
      path.push(this.expect('ident', 'a field name').value);
    }
    if (path.length > 1 && path[0] === 'incident') path.shift();
    if (this.tokens[this.i]?.type === '(') return this.contains(path);
    if (path.length !== 1) throw new ListQueryError(`unsupported field ${path.join('.')}`);
    const field = path[0] ?? '';
    const op = this.expect('op', 'a comparison operator').value as Operator;
    const timeField = TIME_FIELDS[field];
    if (timeField !== undefined) {
      const fn = this.expect('ident', 'timestamp("...")');
      if (fn.value !== 'timestamp') throw new ListQueryError(`expected timestamp("...") at ${fn.at}`);
      this.expect('(', '(');
      const literal = this.expect('string', 'a quoted RFC 3339 timestamp');
      this.expect(')', ')');
      const nanos = parseTimestampNanos(literal.value);
      if (nanos === undefined) throw new ListQueryError(`invalid timestamp at ${literal.at}`);
      return (incident) => compare(BigInt(incident[timeField]) * 1_000_000n, op, nanos);
    }
    const enumField = ENUM_FIELDS[field];
    if (enumField !== undefined) {
      if (op !== '=' && op !== '==' && op !== '!=') {
        throw new ListQueryError(`${field} takes only =, == and !=`);
      }
      const literal = this.expect('string', `a quoted ${field} value`);
      const allowed: readonly string[] = enumField === 'status' ? INCIDENT_STATUSES : SEVERITY_LEVELS;
      if (!allowed.includes(literal.value)) {
        throw new ListQueryError(`invalid ${field} value ${JSON.stringify(literal.value)}`);
      }
      return (incident) => compare(incident[enumField], op, literal.value);
    }
    throw new ListQueryError(`unsupported field ${field}`);
  }

  private contains(path: string[]): Predicate {
    const fn = path.pop();
    const field = path.join('.');
    if (fn !== 'contains' || !NAME_FIELDS.has(field)) {
      throw new ListQueryError(`unsupported function ${[...path, fn].join('.')}(...)`);
    }
    this.expect('(', '(');
    const needle = this.expect('string', 'a quoted string').value;
    this.expect(')', ')');
    return (incident) => incident.displayName.includes(needle);
  }
}

/** Compiles a filter into a predicate; "" matches every incident. */
export function compileFilter(text: string): Predicate {
  const tokens = tokenize(text);
  if (tokens.length === 0) return () => true;
  return new FilterParser(tokens).parse();
}

// ---------------------------------------------------------------------------------------------
// Ordering

type Comparator = (a: IncidentRecord, b: IncidentRecord) => number;

const ORDER_KEYS: Record<string, (incident: IncidentRecord) => number | string> = {
  create_time: (incident) => incident.createTime,
  update_time: (incident) => incident.updateTime,
  severity: (incident) => SEVERITY_LEVELS.indexOf(incident.severity as SeverityLevel),
  display_name: (incident) => incident.displayName,
};
const CAMEL: Record<string, string> = {
  createTime: 'create_time',
  updateTime: 'update_time',
  displayName: 'display_name',
};

function byUuid(a: IncidentRecord, b: IncidentRecord): number {
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

/**
 * Compiles `orderBy` (AIP-132: comma-separated fields, each optionally followed by ` desc`).
 * "" orders by create time ascending. Ties are always broken by uuid, so the order is total
 * and page boundaries are well defined.
 */
export function compileOrderBy(text: string): Comparator {
  const parts = text.trim() === '' ? ['create_time'] : text.split(',');
  const keys: Array<{ key: (incident: IncidentRecord) => number | string; sign: number }> = [];
  const seen = new Set<string>();
  for (const part of parts) {
    const match = /^\s*([A-Za-z_]+)(?:\s+(desc))?\s*$/.exec(part);
    const name = match?.[1];
    if (name === undefined) throw new ListQueryError(`invalid orderBy item ${JSON.stringify(part.trim())}`);
    const field = CAMEL[name] ?? name;
    const key = ORDER_KEYS[field];
    if (key === undefined) throw new ListQueryError(`orderBy field ${JSON.stringify(name)} is not supported`);
    if (seen.has(field)) throw new ListQueryError(`orderBy names ${field} twice`);
    seen.add(field);
    keys.push({ key, sign: match?.[2] === 'desc' ? -1 : 1 });
  }
  return (a, b) => {
    for (const { key, sign } of keys) {
      const left = key(a);
      const right = key(b);
      if (left < right) return -sign;
      if (left > right) return sign;
    }
    return byUuid(a, b);
  };
}

// ---------------------------------------------------------------------------------------------
// Paging

/** Binds a page token to the query it came from (AIP-158: a token is only valid for the same filter and order). */
function fingerprint(query: ListQuery): string {
  return createHash('sha256').update(`${query.filter}\n${query.orderBy}`).digest('hex').slice(0, 12);
}

function encodeToken(offset: number, query: ListQuery): string {
  return Buffer.from(JSON.stringify({ o: offset, q: fingerprint(query) })).toString('base64url');
}

function decodeToken(token: string, query: ListQuery): number {
  if (token === '') return 0;
  const bad = new ListQueryError('invalid pageToken');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (typeof value !== 'object' || value === null) throw bad;
  const { o, q } = value as { o?: unknown; q?: unknown };
  if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) throw bad;
  if (q !== fingerprint(query))
    throw new ListQueryError('pageToken does not belong to this filter and orderBy');
  return o;
}

export interface ListPage {
  incidents: IncidentRecord[];
  /** "" on the last page. */
  nextPageToken: string;
}

/**
 * One page of the filtered, ordered list. The token is an offset into the list as it is at the
 * time of each request, as with a real paged API: if incidents change between pages, an item can
 * be skipped or seen twice, and a client that must not miss one has to overlap its windows.
 */
export function listIncidents(all: Iterable<IncidentRecord>, query: ListQuery): ListPage {
  const matches = compileFilter(query.filter);
  const order = compileOrderBy(query.orderBy);
  const offset = decodeToken(query.pageToken, query);
  const sorted = [...all].filter(matches).sort(order);
  const end = offset + query.pageSize;
  return {
    incidents: sorted.slice(offset, end),
    nextPageToken: end < sorted.length ? encodeToken(end, query) : '',
  };
}
