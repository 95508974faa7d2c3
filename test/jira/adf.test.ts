import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adfToText, textToAdf } from '../../functions/jira/adf';

describe('textToAdf', () => {
  it('makes paragraphs, hard breaks and links', () => {
    const doc = textToAdf('ESET incident opened.\nSeverity: high\n\nSee https://eset.example/i/42.');
    expect(doc).toEqual({
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'ESET incident opened.' },
            { type: 'hardBreak' },
            { type: 'text', text: 'Severity: high' },
          ],
        },
        {
          type: 'paragraph',
          content: [
            { type: 'text', text: 'See ' },
            {
              type: 'text',
              text: 'https://eset.example/i/42',
              marks: [{ type: 'link', attrs: { href: 'https://eset.example/i/42' } }],
            },
            { type: 'text', text: '.' },
          ],
        },
      ],
    });
  });

  it('never produces an empty text node, which ADF forbids', () => {
    const doc = textToAdf('\r\n\r\nhttps://a.example\r\n\r\n\r\n  \n\n');
    expect(doc.content).toHaveLength(1);
    expect(JSON.stringify(doc)).not.toContain('"text":""');
    expect(textToAdf('   \n\n ').content).toEqual([]);
  });
});

describe('adfToText', () => {
  it('reads what Jira users write: lists, mentions, links with their own text', () => {
    const body = {
      type: 'doc',
      version: 1,
      content: [
        {
          type: 'paragraph',
          content: [
            { type: 'mention', attrs: { id: '5b10a2844c20165700ede21g', text: '@Ana' } },
            { type: 'text', text: ' checked the ' },
            {
              type: 'text',
              text: 'host',
              marks: [{ type: 'link', attrs: { href: 'https://cmdb.example/h/7' } }],
            },
          ],
        },
        {
          type: 'bulletList',
          content: [
            {
              type: 'listItem',
              content: [{ type: 'paragraph', content: [{ type: 'text', text: 'reimaged' }] }],
            },
            {
              type: 'listItem',
              content: [{ type: 'paragraph', content: [{ type: 'text', text: 'closed' }] }],
            },
          ],
        },
      ],
    };
    expect(adfToText(body)).toBe('@Ana checked the host (https://cmdb.example/h/7)\n\n- reimaged\n- closed');
  });

  it('gives an empty string for anything that is not ADF', () => {
    for (const value of [null, 'text', 42, [], { type: 'doc', content: 'x' }])
      expect(adfToText(value)).toBe('');
  });

  it('stops at a bounded depth on hostile nesting', () => {
    let node: Record<string, unknown> = { type: 'text', text: 'deep' };
    for (let i = 0; i < 10_000; i++) node = { type: 'blockquote', content: [node] };
    expect(adfToText({ type: 'doc', version: 1, content: [node] })).toBe('');
  });

  it('gives back the text it was made from (paragraphs, lines, links)', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9äß,:;()-]{1,8}$/);
    const url = fc.constantFrom('https://eset.example/i/1', 'http://a.example/x?y=1');
    const line = fc
      .array(fc.oneof(word, url), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join(' '));
    const paragraph = fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('\n'));
    const text = fc.array(paragraph, { minLength: 1, maxLength: 4 }).map((ps) => ps.join('\n\n'));
    fc.assert(
      fc.property(text, (t) => adfToText(textToAdf(t)) === t),
      { numRuns: 200 },
    );
  });
});
