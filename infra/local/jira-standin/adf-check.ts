/**
 * The stand-in's own check that a body is an Atlassian Document Format document, written apart
 * from the bridge's ADF code so it can catch that code's mistakes. It covers the nodes and marks
 * Jira accepts in descriptions and comments that a plain-text integration could send
 * (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/); anything
 * else is refused as Jira refuses it.
 */

const BLOCK_CHILDREN: Record<string, 'inline' | 'block' | 'listItem' | 'text' | 'none'> = {
  paragraph: 'inline',
  heading: 'inline',
  codeBlock: 'text',
  blockquote: 'block',
  bulletList: 'listItem',
  orderedList: 'listItem',
  listItem: 'block',
  rule: 'none',
};
const INLINE = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status']);
const MARKS = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link', 'subsup', 'textColor']);
const MAX_DEPTH = 32;

/** Undefined when `value` is a valid ADF document, else what is wrong with it. */
export function adfProblem(value: unknown): string | undefined {
  if (!isRecord(value) || value.type !== 'doc') return 'the root must be {"type":"doc"}';
  if (value.version !== 1) return 'version must be 1';
  if (!Array.isArray(value.content)) return 'content must be an array';
  for (const [i, node] of value.content.entries()) {
    const problem = block(node, `content[${i}]`, 1);
    if (problem) return problem;
  }
  return undefined;
}

function block(node: unknown, at: string, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `${at}: nested too deeply`;
  if (!isRecord(node) || typeof node.type !== 'string') return `${at}: not a node`;
  const children = BLOCK_CHILDREN[node.type];
  if (children === undefined || node.type === 'listItem')
    return `${at}: ${node.type} is not a block node here`;
  return content(node, children, at, depth);
}

function content(
  node: Record<string, unknown>,
  children: 'inline' | 'block' | 'listItem' | 'text' | 'none',
  at: string,
  depth: number,
): string | undefined {
  if (node.content === undefined)
    return children === 'inline' || children === 'none' ? undefined : `${at}: content missing`;
  if (!Array.isArray(node.content)) return `${at}: content must be an array`;
  if (children === 'none' && node.content.length > 0) return `${at}: ${String(node.type)} takes no content`;
  for (const [i, child] of node.content.entries()) {
    const where = `${at}.content[${i}]`;
    let problem: string | undefined;
    if (children === 'inline' || children === 'text') problem = inline(child, where, children === 'text');
    else if (children === 'listItem') {
      problem =
        isRecord(child) && child.type === 'listItem'
          ? content(child, 'block', where, depth + 1)
          : `${where}: lists hold listItem nodes`;
    } else problem = block(child, where, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

function inline(node: unknown, at: string, textOnly: boolean): string | undefined {
  if (!isRecord(node) || typeof node.type !== 'string' || !INLINE.has(node.type))
    return `${at}: not an inline node`;
  if (textOnly && node.type !== 'text') return `${at}: only text is allowed here`;
  if (node.type !== 'text') return undefined;
  if (typeof node.text !== 'string' || node.text === '') return `${at}: text nodes need non-empty text`;
  if (node.marks === undefined) return undefined;
  if (!Array.isArray(node.marks)) return `${at}: marks must be an array`;
  for (const mark of node.marks) {
    if (!isRecord(mark) || typeof mark.type !== 'string' || !MARKS.has(mark.type))
      return `${at}: unknown mark`;
    if (mark.type === 'link' && !(isRecord(mark.attrs) && typeof mark.attrs.href === 'string')) {
      return `${at}: a link mark needs attrs.href`;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
