import { StreamError } from '../stream-error';
import { QueryParams } from './query-params';

const q = (url: string, known = ['a', 'n', 'e', 'count']): QueryParams => QueryParams.of(url, known);

describe('QueryParams', () => {
  it('reads text, flags (Python True included), integers, enums and count', () => {
    const p = q('/x?a=True&n=42&e=b&count=7&token=t');
    expect(p.flag('a')).toBe(true);
    expect(p.int('n', 0, 0, 100)).toBe(42);
    expect(p.oneOf('e', ['a', 'b'] as const, 'a')).toBe('b');
    expect(p.count(1)).toBe(7);
    expect(q('/x').count(1)).toBe(1);
    expect(q('/x?a=').flag('a', true)).toBe(true);
    expect(q('/x?a=off').flag('a', true)).toBe(false);
    expect(q('/x?n=').text('n')).toBeUndefined();
  });

  it('refuses unknown names and bad values with a message naming them', () => {
    expect(() => q('/x?lates=1')).toThrow('unknown query parameter "lates"; known: a, n, e, count');
    expect(() => q('/x?a=maybe').flag('a')).toThrow('a must be true/false or 1/0, got "maybe"');
    for (const n of ['-1', '101', '1.5', '1e3', 'x']) {
      expect(() => q(`/x?n=${n}`).int('n', 0, 0, 100)).toThrow(StreamError);
    }
    expect(() => q('/x?e=c').oneOf('e', ['a', 'b'] as const, 'a')).toThrow('e must be one of a|b');
    expect(() => q('/x?count=0').count(1)).toThrow(/count/);
  });
});
