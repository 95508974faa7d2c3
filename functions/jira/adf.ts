/**
 * Atlassian Document Format, the little of it the bridge needs: plain text with paragraphs and
 * links in, plain text out. Jira Cloud's v3 API takes and returns issue descriptions and
 * comments only as ADF (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
 */

export interface AdfMark {
  type: string;
  attrs?: Record<string, unknown>;
}

export interface AdfNode {
  type: string;
  text?: string;
  content?: AdfNode[];
  marks?: AdfMark[];
  attrs?: Record<string, unknown>;
}

/** The root node: `version` is always 1. */
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** Bare http(s) URLs become links; a trailing sentence mark stays text. */
const URL_PATTERN = /https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'}]/g;

/**
 * Plain text as an ADF document: blank lines separate paragraphs, a single line break becomes a
 * `hardBreak`, and each http(s) URL becomes a text node with a `link` mark. Empty text nodes are
 * not allowed in ADF (https://developer.atlassian.com/platform/framework/adf-builder/reference/nodes/text/),
 * so none is produced; text with nothing in it gives a document without content.
 */
export function textToAdf(text: string): AdfDoc {
  const paragraphs = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim() !== '');
  return {
    type: 'doc',
    version: 1,
    content: paragraphs.map((p) => {
      const content: AdfNode[] = [];
      p.split('\n').forEach((line, index) => {
        if (index > 0) content.push({ type: 'hardBreak' });
        content.push(...inline(line));
      });
      return { type: 'paragraph', content };
    }),
  };
}

function inline(line: string): AdfNode[] {
  const nodes: AdfNode[] = [];
  let at = 0;
  for (const match of line.matchAll(URL_PATTERN)) {
    const href = match[0];
    const start = match.index;
    if (!URL.canParse(href)) continue;
    if (start > at) nodes.push({ type: 'text', text: line.slice(at, start) });
    nodes.push({ type: 'text', text: href, marks: [{ type: 'link', attrs: { href } }] });
    at = start + href.length;
  }
  if (at < line.length) nodes.push({ type: 'text', text: line.slice(at) });
  return nodes;
}

/** Inline nodes are concatenated; block nodes are separated by line breaks. */
const INLINE_TYPES = new Set([
  'text',
  'hardBreak',
  'mention',
  'emoji',
  'inlineCard',
  'date',
  'status',
  'mediaInline',
  'placeholder',
]);

/** Deeper documents are cut off: the text is for reading, and hostile input must not recurse forever. */
const MAX_DEPTH = 32;

/**
 * An ADF document (or any ADF node) as plain text: paragraphs separated by a blank line, hard
 * breaks as line breaks, list items prefixed with "- ", a link whose text differs from its
 * target followed by the target in parentheses, mentions and emoji by their text. Anything that
 * is not ADF gives an empty string.
 */
export function adfToText(value: unknown): string {
  return render(value, 0).trim();
}

function render(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH || !isRecord(value)) return '';
  const attrs = isRecord(value.attrs) ? value.attrs : {};
  switch (value.type) {
    case 'text':
      return textOf(value);
    case 'hardBreak':
      return '\n';
    case 'mention':
    case 'emoji':
    case 'date':
    case 'status':
      return stringAttr(attrs, 'text') ?? stringAttr(attrs, 'shortName') ?? '';
    case 'inlineCard':
    case 'blockCard':
      return stringAttr(attrs, 'url') ?? '';
    case 'rule':
      return '---';
  }
  const children = Array.isArray(value.content) ? value.content : [];
  const allInline = children.every((c) => isRecord(c) && INLINE_TYPES.has(String(c.type)));
  const parts = children.map((c) => render(c, depth + 1));
  const body = allInline
    ? parts.join('')
    : parts.filter((p) => p !== '').join(value.type === 'doc' ? '\n\n' : '\n');
  return value.type === 'listItem' ? `- ${body}` : body;
}

function textOf(node: Record<string, unknown>): string {
  const text = typeof node.text === 'string' ? node.text : '';
  const marks = Array.isArray(node.marks) ? node.marks : [];
  for (const mark of marks) {
    if (!isRecord(mark) || mark.type !== 'link' || !isRecord(mark.attrs)) continue;
    const href = stringAttr(mark.attrs, 'href');
    if (href && href !== text) return `${text} (${href})`;
  }
  return text;
}

function stringAttr(attrs: Record<string, unknown>, name: string): string | undefined {
  const v = attrs[name];
  return typeof v === 'string' ? v : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
