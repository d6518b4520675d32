import {
  Cursor,
  IdError,
  MAX_SEQ,
  compareIds,
  cursorToExclusiveId,
  idTime,
  idToIso,
  isEntryId,
  nextId,
  parseCursor,
  parseRangeBound,
  prevId,
} from './entry-id';

const MAX_ID = `${MAX_SEQ}-${MAX_SEQ}`;

function idError(fn: () => unknown): IdError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IdError);
    return e as IdError;
  }
  throw new Error('expected an IdError');
}

describe('MAX_SEQ', () => {
  it('is 2^64 - 1', () => {
    expect(MAX_SEQ).toBe('18446744073709551615');
    expect(BigInt(MAX_SEQ)).toBe(2n ** 64n - 1n);
  });
});

describe('isEntryId', () => {
  it.each([
    '0-0',
    '0-1',
    '1-0',
    '1675000000000-0',
    '1675000000000-42',
    `${MAX_SEQ}-0`,
    `0-${MAX_SEQ}`,
    MAX_ID,
    '18446744073709551614-18446744073709551614',
    '9999999999999999999-1',
  ])('accepts %s', (s) => {
    expect(isEntryId(s)).toBe(true);
  });

  it.each([
    '',
    '0',
    '1675000000000',
    '-',
    '-0',
    '0-',
    '1-2-3',
    '01-0',
    '0-01',
    '00-0',
    '+1-0',
    '1-+0',
    ' 1-0',
    '1-0 ',
    '1-0\n',
    '1 -0',
    '1.5-0',
    '1e3-0',
    'a-b',
    '$',
    '*',
    '1-*',
    '18446744073709551616-0',
    '0-18446744073709551616',
    '99999999999999999999-0',
    '100000000000000000000-0',
    '١-٠', // Arabic-Indic digits are not ASCII digits
    '１-０',
  ])('rejects %j', (s) => {
    expect(isEntryId(s)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isEntryId(undefined as unknown as string)).toBe(false);
    expect(isEntryId(12 as unknown as string)).toBe(false);
  });
});

describe('compareIds', () => {
  it.each<[string, string, number]>([
    ['0-0', '0-0', 0],
    ['1-0', '1-0', 0],
    ['9-0', '10-0', -1],
    ['10-0', '9-0', 1],
    ['1-9', '1-10', -1],
    ['1-10', '1-9', 1],
    ['1-10', '2-0', -1],
    ['2-0', '1-99999', 1],
    ['1675000000000-5', '1675000000000-5', 0],
    ['1675000000000-5', '1675000000001-0', -1],
    ['999999999999-9', '1000000000000-0', -1],
    ['1000000000000-0', '999999999999-9', 1],
    ['123-456', '124-455', -1],
    ['124-1', '123-9', 1],
    [`${MAX_SEQ}-0`, '18446744073709551614-' + MAX_SEQ, 1],
    [MAX_ID, `${MAX_SEQ}-18446744073709551614`, 1],
    [`0-${MAX_SEQ}`, '1-0', -1],
    [MAX_ID, MAX_ID, 0],
    ['0-0', MAX_ID, -1],
  ])('compareIds(%s, %s) = %d', (a, b, expected) => {
    expect(compareIds(a, b)).toBe(expected);
    expect(compareIds(b, a)).toBe(-expected || 0);
  });

  it('treats an id without a dash as ms-0', () => {
    expect(compareIds('5', '5-0')).toBe(0);
    expect(compareIds('5', '5-1')).toBe(-1);
    expect(compareIds('5-1', '5')).toBe(1);
    expect(compareIds('6', '5-9')).toBe(1);
  });

  it('differs from string comparison where strings get it wrong', () => {
    expect('9-0' < '10-0').toBe(false);
    expect(compareIds('9-0', '10-0')).toBe(-1);
  });

  it('agrees with BigInt comparison on random ids', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const pick = () => {
      const r = rnd() % 4;
      if (r === 0) return String(rnd() % 10);
      if (r === 1) return String(rnd());
      if (r === 2) return `${rnd() + 1}${rnd()}`;
      return (BigInt(MAX_SEQ) - BigInt(rnd() % 3)).toString();
    };
    for (let i = 0; i < 2000; i++) {
      const a = `${pick()}-${pick()}`;
      const b = i % 5 === 0 ? a : `${pick()}-${pick()}`;
      const [am, as] = a.split('-').map(BigInt);
      const [bm, bs] = b.split('-').map(BigInt);
      const expected = am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
      expect(compareIds(a, b)).toBe(expected);
    }
  });

  it('sorts ids numerically', () => {
    const ids = ['10-0', '9-1', '9-10', '9-2', '100-0', '0-5', '1-0'];
    expect([...ids].sort(compareIds)).toEqual(['0-5', '1-0', '9-1', '9-2', '9-10', '10-0', '100-0']);
  });
});

describe('nextId', () => {
  it.each([
    ['0-0', '0-1'],
    ['1-9', '1-10'],
    ['1675000000000-41', '1675000000000-42'],
    [`5-${MAX_SEQ}`, '6-0'],
    [`0-${MAX_SEQ}`, '1-0'],
    ['18446744073709551614-' + MAX_SEQ, `${MAX_SEQ}-0`],
    [`${MAX_SEQ}-0`, `${MAX_SEQ}-1`],
    ['9999999999999999999-18446744073709551614', `9999999999999999999-${MAX_SEQ}`],
  ])('nextId(%s) = %s', (id, expected) => {
    expect(nextId(id)).toBe(expected);
    expect(compareIds(nextId(id), id)).toBe(1);
  });

  it('throws IdError after the maximum id', () => {
    expect(idError(() => nextId(MAX_ID)).code).toBe('BAD_ID');
  });

  it.each(['', '5', 'x-1', '01-1', '18446744073709551616-0'])('throws IdError for %j', (bad) => {
    expect(idError(() => nextId(bad)).message).toContain(JSON.stringify(bad));
  });
});

describe('prevId', () => {
  it.each([
    ['0-1', '0-0'],
    ['1-10', '1-9'],
    ['1-0', `0-${MAX_SEQ}`],
    ['1675000000000-0', `1674999999999-${MAX_SEQ}`],
    ['10-0', `9-${MAX_SEQ}`],
    [`${MAX_SEQ}-0`, `18446744073709551614-${MAX_SEQ}`],
    [MAX_ID, `${MAX_SEQ}-18446744073709551614`],
  ])('prevId(%s) = %s', (id, expected) => {
    expect(prevId(id)).toBe(expected);
    expect(nextId(prevId(id))).toBe(id);
  });

  it('throws IdError for 0-0', () => {
    const e = idError(() => prevId('0-0'));
    expect(e.code).toBe('BAD_ID');
    expect(e.message).toBe('no entry id before 0-0');
  });

  it('throws IdError for malformed ids', () => {
    expect(idError(() => prevId('abc')).message).toBe('bad entry id "abc"');
  });
});

describe('idTime / idToIso', () => {
  it('returns the ms part', () => {
    expect(idTime('1675000000000-7')).toBe(1675000000000);
    expect(idTime('0-0')).toBe(0);
    expect(idTime('1675000000000')).toBe(1675000000000);
  });

  it('formats ISO-8601 UTC', () => {
    expect(idToIso('1675000000000-7')).toBe('2023-01-29T13:46:40.000Z');
    expect(idToIso('1675000000123-0')).toBe('2023-01-29T13:46:40.123Z');
    expect(idToIso('0-0')).toBe('1970-01-01T00:00:00.000Z');
    expect(idToIso('8640000000000000-0')).toBe('+275760-09-13T00:00:00.000Z');
  });

  it('throws IdError beyond the Date range and for garbage', () => {
    expect(idError(() => idToIso('8640000000000001-0')).code).toBe('BAD_ID');
    expect(idError(() => idToIso(MAX_ID)).code).toBe('BAD_ID');
    expect(idError(() => idTime('x-0')).code).toBe('BAD_ID');
    expect(idError(() => idTime('')).code).toBe('BAD_ID');
  });
});

describe('parseCursor', () => {
  it.each<[string, Cursor]>([
    ['0', { kind: 'start' }],
    ['$', { kind: 'end' }],
    ['0-0', { kind: 'id', id: '0-0' }],
    ['1675000000000-0', { kind: 'id', id: '1675000000000-0' }],
    ['1675000000000-3', { kind: 'id', id: '1675000000000-3' }],
    [MAX_ID, { kind: 'id', id: MAX_ID }],
    // times: entries at or after the time, so the exclusive id is just before ms-0
    ['1675000000000', { kind: 'id', id: `1674999999999-${MAX_SEQ}` }],
    ['1', { kind: 'id', id: `0-${MAX_SEQ}` }],
    [MAX_SEQ, { kind: 'id', id: `18446744073709551614-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40Z', { kind: 'id', id: `1674999999999-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40.000Z', { kind: 'id', id: `1674999999999-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40.123Z', { kind: 'id', id: `1675000000122-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40.123+01:00', { kind: 'id', id: `1674996400122-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40.123-02:30', { kind: 'id', id: `1675009000122-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40+0100', { kind: 'id', id: `1674996399999-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40+01', { kind: 'id', id: `1674996399999-${MAX_SEQ}` }],
    // an unencoded '+' in a query string arrives as a space
    ['2023-01-29T13:46:40 01:00', { kind: 'id', id: `1674996399999-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40', { kind: 'id', id: `1674999999999-${MAX_SEQ}` }],
    ['2023-01-29T13:46Z', { kind: 'id', id: `1674999959999-${MAX_SEQ}` }],
    ['2023-01-29t13:46:40z', { kind: 'id', id: `1674999999999-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40,5Z', { kind: 'id', id: `1675000000499-${MAX_SEQ}` }],
    ['2023-01-29T13:46:40.123456789Z', { kind: 'id', id: `1675000000122-${MAX_SEQ}` }],
    ['2024-02-29T00:00:00Z', { kind: 'id', id: `1709164799999-${MAX_SEQ}` }],
    ['1970-01-01T00:00:00Z', { kind: 'start' }],
    ['1970-01-01T00:00:00.001Z', { kind: 'id', id: `0-${MAX_SEQ}` }],
  ])('parseCursor(%j)', (input, expected) => {
    expect(parseCursor(input)).toEqual(expected);
  });

  it('reads a bare ms and the same ISO time identically', () => {
    expect(parseCursor('1675000000123')).toEqual(parseCursor('2023-01-29T13:46:40.123Z'));
  });

  it.each([
    '',
    '-',
    '+',
    '*',
    'yesterday',
    'NaN',
    'Infinity',
    '1e5',
    '-1',
    '-1675000000000',
    '1.5',
    '0x10',
    '01',
    '00',
    ' 0',
    '0 ',
    '1675000000000-',
    '-0',
    '1-2-3',
    '18446744073709551616',
    '18446744073709551616-0',
    '2023-01-29',
    '2023-01-29 13:46:40Z',
    '2023-01-29T13:46:40ZZ',
    '2023-01-29T13:46:40+25:00',
    '2023-01-29T13:46:40+01:60',
    '2023-01-29T24:00:00Z',
    '2023-01-29T13:60:00Z',
    '2023-01-29T13:46:60Z',
    '2023-02-29T00:00:00Z',
    '2023-13-01T00:00:00Z',
    '2023-00-01T00:00:00Z',
    '2023-01-00T00:00:00Z',
    '2023-01-32T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '1970-01-01T00:00:00+01:00',
    '0000-01-01T00:00:00Z',
    '23-01-29T13:46:40Z',
    'T13:46:40Z',
    '2023-01-29T13:46:40.Z',
    '2023-01-29T13:46:40.1234567890Z',
    'Sun, 29 Jan 2023 13:46:40 GMT',
    '2023-01-29T13:46:40Z\n',
  ])('rejects %j with IdError', (input) => {
    const e = idError(() => parseCursor(input));
    expect(e.code).toBe('BAD_ID');
    expect(e.name).toBe('IdError');
    expect(e.message).toBe(`bad entry id or time ${JSON.stringify(input)}`);
  });

  it('truncates a long value in the message to 40 characters', () => {
    const long = 'x'.repeat(100);
    expect(idError(() => parseCursor(long)).message).toBe(`bad entry id or time "${'x'.repeat(40)}…"`);
  });

  it('rejects non-strings', () => {
    expect(idError(() => parseCursor(undefined as unknown as string)).code).toBe('BAD_ID');
  });
});

describe('cursorToExclusiveId', () => {
  it('maps every cursor kind', () => {
    expect(cursorToExclusiveId({ kind: 'start' })).toBe('0-0');
    expect(cursorToExclusiveId({ kind: 'end' })).toBeNull();
    expect(cursorToExclusiveId({ kind: 'id', id: '5-1' })).toBe('5-1');
    expect(cursorToExclusiveId(parseCursor('1675000000000'))).toBe(`1674999999999-${MAX_SEQ}`);
    expect(cursorToExclusiveId(parseCursor('0'))).toBe('0-0');
    expect(cursorToExclusiveId(parseCursor('$'))).toBeNull();
  });
});

describe('parseRangeBound', () => {
  it.each<[string, 'start' | 'end', string]>([
    ['-', 'start', '-'],
    ['+', 'end', '+'],
    ['-', 'end', '-'],
    ['+', 'start', '+'],
    ['1675000000000-5', 'start', '1675000000000-5'],
    ['1675000000000-5', 'end', '1675000000000-5'],
    ['1675000000000', 'start', '1675000000000-0'],
    ['1675000000000', 'end', `1675000000000-${MAX_SEQ}`],
    ['0', 'start', '0-0'],
    ['0', 'end', `0-${MAX_SEQ}`],
    ['2023-01-29T13:46:40.123Z', 'start', '1675000000123-0'],
    ['2023-01-29T13:46:40.123Z', 'end', `1675000000123-${MAX_SEQ}`],
    ['2023-01-29T14:46:40+01:00', 'start', '1675000000000-0'],
  ])('parseRangeBound(%j, %s) = %s', (input, side, expected) => {
    expect(parseRangeBound(input, side)).toBe(expected);
  });

  it.each(['$', '', 'yesterday', '1e5', '-5', '(1-0', '1-0-0', 'NaN', '2023-01-29'])('rejects %j', (input) => {
    const e = idError(() => parseRangeBound(input, 'start'));
    expect(e.message).toBe(`bad range bound ${JSON.stringify(input)}`);
  });
});
