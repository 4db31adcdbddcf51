import { describe, expect, it } from 'vitest';
import { noneMatch, revisionTag } from './etag.js';

describe('validators of answers made once per state', () => {
  it('If-None-Match: a list, weak tags and * match; others do not', () => {
    expect(noneMatch(undefined, '"1-a"')).toBe(false);
    expect(noneMatch('"1-a"', '"1-a"')).toBe(true);
    expect(noneMatch('"0-b", "1-a"', '"1-a"')).toBe(true);
    expect(noneMatch('W/"1-a"', '"1-a"')).toBe(true);
    expect(noneMatch('*', '"1-a"')).toBe(true);
    expect(noneMatch('"1-b"', '"1-a"')).toBe(false);
    expect(noneMatch('1-a', '"1-a"')).toBe(false);
  });

  it('the tag is the revision and a hash of the bytes', () => {
    expect(revisionTag(3, '{}')).toMatch(/^"3-[A-Za-z0-9_-]{16}"$/);
    expect(revisionTag(3, '{}')).toBe(revisionTag(3, '{}'));
    expect(revisionTag(3, '{"a":1}')).not.toBe(revisionTag(3, '{}'));
    expect(revisionTag(4, '{}')).not.toBe(revisionTag(3, '{}'));
  });
});
