import { describe, expect, it } from 'vitest';
import { parseFieldPath, tagsAt, textAt, valueAt } from '../../functions/senders/field-path';

const doc = {
  issue: {
    key: 'SEC-1',
    fields: {
      customfield_10050: { value: 'picked option' },
      resolution: { name: 'Done' },
      comment: { comments: [{ body: 'first' }, { body: 'last' }] },
      labels: ['a', 'b'],
    },
  },
  object: {
    customFields: [
      { name: 'other', value: 1 },
      { name: 'eset-incident', value: 'abc' },
    ],
    caseId: 12,
  },
  tags: 'x, y  z',
};

describe('field paths', () => {
  it.each([
    ['issue.key', 'SEC-1'],
    ['issue.fields.customfield_10050', 'picked option'],
    ['issue.fields.resolution.name', 'Done'],
    ['issue.fields.comment.comments[-1].body', 'last'],
    ['issue.fields.comment.comments[0].body', 'first'],
    ['object.customFields[name=eset-incident].value', 'abc'],
    ['object.caseId', '12'],
  ])('reads %s', (path, expected) => {
    expect(textAt(doc, parseFieldPath(path))).toBe(expected);
  });

  it('is undefined for missing steps and never throws on odd shapes', () => {
    for (const path of [
      'issue.nope.key',
      'tags[0]',
      'issue.key.length',
      'object.customFields[name=none].value',
    ]) {
      expect(valueAt(doc, parseFieldPath(path))).toBeUndefined();
    }
    expect(valueAt(null, parseFieldPath('a.b'))).toBeUndefined();
  });

  it('does not walk into inherited properties', () => {
    expect(valueAt({}, parseFieldPath('constructor.name'))).toBeUndefined();
  });

  it('reads tags from arrays and from space- or comma-separated strings', () => {
    expect(tagsAt(doc, parseFieldPath('issue.fields.labels'))).toEqual(['a', 'b']);
    expect(tagsAt(doc, parseFieldPath('tags'))).toEqual(['x', 'y', 'z']);
  });

  it.each(['', 'a..b', 'a[]', 'a[x]'])('refuses the path "%s"', (path) => {
    expect(() => parseFieldPath(path)).toThrow();
  });
});
