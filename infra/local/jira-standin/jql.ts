/**
 * The JQL the stand-in understands: `labels = "x"`, `labels in ("x", "y")`, either one after
 * `project = KEY AND`. Values are quoted (with `\"` and `\\` escapes) or bare words; keywords are
 * case-insensitive, as in JQL (https://support.atlassian.com/jira-software-cloud/docs/jql-fields/).
 * Anything else is refused, so a query the bridge sends that real Jira would read differently
 * fails loudly here instead of matching by accident.
 */
export interface LabelQuery {
  project?: string;
  /** An issue matches when it carries any of these. */
  labels: string[];
}

export class JqlError extends Error {
  override name = 'JqlError';
}

const TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_.-]+)|(=|\(|\)|,))/y;

type Token = { kind: 'value'; text: string; quoted: boolean } | { kind: 'symbol'; text: string };

function tokenize(jql: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < jql.length) {
    if (jql.slice(at).trim() === '') break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(jql);
    if (!m) throw new JqlError(`Error in the JQL Query: unexpected character at position ${at + 1}.`);
    at = TOKEN.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'value', text: m[1].replace(/\\(.)/g, '$1'), quoted: true });
    else if (m[2] !== undefined) tokens.push({ kind: 'value', text: m[2], quoted: false });
    else tokens.push({ kind: 'symbol', text: m[3] ?? '' });
  }
  return tokens;
}

/** Parses the supported subset or throws {@link JqlError} with a Jira-like message. */
export function parseLabelQuery(jql: string): LabelQuery {
  const tokens = tokenize(jql);
  let i = 0;
  const word = (expected: string) => {
    const t = tokens[i];
    if (t?.kind === 'value' && !t.quoted && t.text.toLowerCase() === expected) {
      i++;
      return true;
    }
    return false;
  };
  const symbol = (expected: string) => {
    const t = tokens[i];
    if (t?.kind === 'symbol' && t.text === expected) {
      i++;
      return true;
    }
    return false;
  };
  const value = () => {
    const t = tokens[i];
    if (t?.kind !== 'value') throw unsupported(jql);
    i++;
    return t.text;
  };

  const query: LabelQuery = { labels: [] };
  if (word('project')) {
    if (!symbol('=')) throw unsupported(jql);
    query.project = value();
    if (!word('and')) throw unsupported(jql);
  }
  if (!word('labels')) throw unsupported(jql);
  if (symbol('=')) query.labels.push(value());
  else if (word('in') && symbol('(')) {
    do query.labels.push(value());
    while (symbol(','));
    if (!symbol(')')) throw unsupported(jql);
  } else throw unsupported(jql);
  if (i !== tokens.length) throw unsupported(jql);
  return query;
}

function unsupported(jql: string): JqlError {
  return new JqlError(
    `Error in the JQL Query: the stand-in reads only 'labels = "x"', 'labels in ("x", ...)' and 'project = KEY AND ' before either; got: ${jql}`,
  );
}
