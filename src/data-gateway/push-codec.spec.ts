import {
  CodecError,
  CodecErrorCode,
  HeaderItem,
  MAX_HEADER_CHARS,
  MAX_HEADER_ITEMS,
  OffsetsMode,
  PlannedEntry,
  closeCodeFor,
  parsePushHeader,
  planEntries,
  splitBlob,
} from './push-codec';
import { PullHeaderEncoder } from './pull-header';
import { rng } from '../../test/support/prng';

/** The pull header of entries given by stream id, id and payload length, as text. */
function encodePullHeader(entries: { streamId: string; id: string; length: number }[], mode: 'start' | 'end'): string {
  const encoder = new PullHeaderEncoder((key) => key, mode);
  return encoder.encode(entries.map((e) => ({ key: e.streamId, id: e.id, data: Buffer.alloc(e.length) }))).toString();
}

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error('expected a CodecError');
}

function expectCodecError(fn: () => unknown, code: CodecErrorCode, message?: string): void {
  const e = codecError(fn);
  expect(e.code).toBe(code);
  expect(e.name).toBe('CodecError');
  if (message !== undefined) expect(e.message).toBe(message);
}

const flat = (...offsets: number[]): HeaderItem[] => offsets.map((offset) => ({ streamId: null, id: null, offset }));

/** Header text + blob → the slices as strings, with their streams and ids. */
function run(
  header: string,
  blob: string,
  pathStreams: string[] | null = ['s'],
  mode: OffsetsMode = 'auto',
): [string, string | null, string][] {
  const buf = Buffer.from(blob);
  const plan = planEntries(parsePushHeader(header), buf.length, pathStreams, mode);
  const slices = splitBlob(buf, plan);
  return plan.map((p, i) => [p.streamId, p.id, slices[i].toString()]);
}

describe('CodecError / closeCodeFor', () => {
  it('maps codes to WebSocket close codes', () => {
    expect(closeCodeFor('BAD_HEADER')).toBe(1007);
    expect(closeCodeFor('BAD_OFFSETS')).toBe(1007);
    expect(closeCodeFor('BAD_ID')).toBe(1008);
    expect(closeCodeFor('BAD_STREAM_ID')).toBe(1008);
  });

  it('carries code and message', () => {
    const e = new CodecError('BAD_OFFSETS', 'nope');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('BAD_OFFSETS');
    expect(e.message).toBe('nope');
    expect(e.name).toBe('CodecError');
  });
});

describe('parsePushHeader', () => {
  it('parses a flat JSON array', () => {
    expect(parsePushHeader('[0, 3, 7]')).toEqual(flat(0, 3, 7));
    expect(parsePushHeader('[9]')).toEqual(flat(9));
    expect(parsePushHeader(' \n[0]\n ')).toEqual(flat(0));
  });

  it('parses [[sid, offset], ...]', () => {
    expect(parsePushHeader('[["cam", 0], ["mic", 3]]')).toEqual([
      { streamId: 'cam', id: null, offset: 0 },
      { streamId: 'mic', id: null, offset: 3 },
    ]);
  });

  it('parses [[sid, id|null, offset], ...] and mixed row lengths', () => {
    expect(parsePushHeader('[["cam", "1675000000000-0", 4], ["cam", null, 9], ["mic", 12], ["x", "*", 13]]')).toEqual([
      { streamId: 'cam', id: '1675000000000-0', offset: 4 },
      { streamId: 'cam', id: null, offset: 9 },
      { streamId: 'mic', id: null, offset: 12 },
      { streamId: 'x', id: null, offset: 13 },
    ]);
  });

  it("parses PTG's comma form", () => {
    expect(parsePushHeader('0,100,256')).toEqual(flat(0, 100, 256));
    expect(parsePushHeader('512')).toEqual(flat(512));
    expect(parsePushHeader(' 0 , 100,\t256 \n')).toEqual(flat(0, 100, 256));
    expect(parsePushHeader('0')).toEqual(flat(0));
    expect(parsePushHeader('007,8')).toEqual(flat(7, 8));
  });

  it('accepts the largest safe integer and normalises -0', () => {
    expect(parsePushHeader(`[${Number.MAX_SAFE_INTEGER}]`)).toEqual(flat(Number.MAX_SAFE_INTEGER));
    expect(parsePushHeader(`${Number.MAX_SAFE_INTEGER}`)).toEqual(flat(Number.MAX_SAFE_INTEGER));
    const [item] = parsePushHeader('[-0]');
    expect(Object.is(item.offset, 0)).toBe(true);
  });

  it('accepts exactly MAX_HEADER_ITEMS items', () => {
    expect(MAX_HEADER_ITEMS).toBe(100_000);
    const items = Array.from({ length: MAX_HEADER_ITEMS }, (_, i) => i);
    expect(parsePushHeader(JSON.stringify(items))).toHaveLength(MAX_HEADER_ITEMS);
    expect(parsePushHeader(items.join(','))).toHaveLength(MAX_HEADER_ITEMS);
  });

  it.each<[string, string]>([
    ['', 'empty header'],
    ['   ', 'empty header'],
    ['[]', 'empty header'],
    ['[', 'header is not valid JSON'],
    ['[0,]', 'header is not valid JSON'],
    ['[01]', 'header is not valid JSON'],
    ['[NaN]', 'header is not valid JSON'],
    ['[0] x', 'header is not valid JSON'],
    ['[-1]', 'offset #1 is not a non-negative integer'],
    ['[0, -5]', 'offset #2 is not a non-negative integer'],
    ['[1.5]', 'offset #1 is not a non-negative integer'],
    ['[0, 2.25]', 'offset #2 is not a non-negative integer'],
    [`[${Number.MAX_SAFE_INTEGER + 1}]`, 'offset #1 is not a non-negative integer'],
    ['[1e300]', 'offset #1 is not a non-negative integer'],
    ['["0"]', 'offset #1 is not a non-negative integer'],
    ['[null]', 'offset #1 is not a non-negative integer'],
    ['[true]', 'offset #1 is not a non-negative integer'],
    ['[{}]', 'offset #1 is not a non-negative integer'],
    ['[0, [1]]', 'header mixes offsets and rows'],
    ['[["a", 0], 5]', 'header row #2 must be [stream_id, offset] or [stream_id, entry_id, offset]'],
    ['[[]]', 'header row #1 must be [stream_id, offset] or [stream_id, entry_id, offset]'],
    ['[["a"]]', 'header row #1 must be [stream_id, offset] or [stream_id, entry_id, offset]'],
    ['[["a", null, 0, 1]]', 'header row #1 must be [stream_id, offset] or [stream_id, entry_id, offset]'],
    ['[[0, 0]]', 'header row #1: stream id must be a string'],
    ['[[null, 0]]', 'header row #1: stream id must be a string'],
    ['[["a", {}, 0]]', 'header row #1: entry id must be a string or null'],
    ['[["a", true, 0]]', 'header row #1: entry id must be a string or null'],
    ['[["a", "0"]]', 'offset #1 is not a non-negative integer'],
    ['[["a", -1]]', 'offset #1 is not a non-negative integer'],
    ['[["a", 0.5]]', 'offset #1 is not a non-negative integer'],
    ['[[["a"], 0]]', 'header row #1: stream id must be a string'],
    ['{}', 'header must be a JSON array or comma-separated offsets'],
    ['{"offsets": [0]}', 'header must be a JSON array or comma-separated offsets'],
    ['"0,1"', 'header must be a JSON array or comma-separated offsets'],
    ['null', 'header must be a JSON array or comma-separated offsets'],
    ['0,,1', 'header must be a JSON array or comma-separated offsets'],
    ['0,1,', 'header must be a JSON array or comma-separated offsets'],
    [',0', 'header must be a JSON array or comma-separated offsets'],
    ['-1', 'header must be a JSON array or comma-separated offsets'],
    ['1.5', 'header must be a JSON array or comma-separated offsets'],
    ['1e5', 'header must be a JSON array or comma-separated offsets'],
    ['0x10', 'header must be a JSON array or comma-separated offsets'],
    ['0 1', 'header must be a JSON array or comma-separated offsets'],
    ['+1', 'header must be a JSON array or comma-separated offsets'],
    ['12345678901234567', 'header must be a JSON array or comma-separated offsets'],
    ['9007199254740992', 'offset #1 is too large'],
    ['0;1', 'header must be a JSON array or comma-separated offsets'],
  ])('rejects %j as BAD_HEADER', (text, message) => {
    expectCodecError(() => parsePushHeader(text), 'BAD_HEADER', message);
  });

  it.each<[string, string]>([
    ['[["_a", 0]]', 'bad stream id "_a"'],
    ['[["a..b", 0]]', 'bad stream id "a..b"'],
    ['[["a//b", 0]]', 'bad stream id "a//b"'],
    ['[["a/", 0]]', 'bad stream id "a/"'],
    ['[["", 0]]', 'bad stream id ""'],
    ['[["a b", 0]]', 'bad stream id "a b"'],
    ['[["a*", 0]]', 'bad stream id "a*"'],
    ['[["ok", 0], ["caméra", 1]]', 'bad stream id "caméra"'],
    [`[["${'a'.repeat(201)}", 0]]`, `bad stream id "${'a'.repeat(40)}…"`],
  ])('rejects %j as BAD_STREAM_ID', (text, message) => {
    expectCodecError(() => parsePushHeader(text), 'BAD_STREAM_ID', message);
  });

  it.each<[string, string]>([
    ['[["a", "0-0", 0]]', 'bad entry id "0-0"'],
    ['[["a", "5", 0]]', 'bad entry id "5"'],
    ['[["a", "", 0]]', 'bad entry id ""'],
    ['[["a", "1-", 0]]', 'bad entry id "1-"'],
    ['[["a", "01-1", 0]]', 'bad entry id "01-1"'],
    ['[["a", "1-*", 0]]', 'bad entry id "1-*"'],
    ['[["a", "$", 0]]', 'bad entry id "$"'],
    ['[["a", "18446744073709551616-0", 0]]', 'bad entry id "18446744073709551616-0"'],
    // the largest millisecond part would use up the stream's ids (no later entry could be added)
    ['[["a", "18446744073709551615-0", 0]]', 'bad entry id "18446744073709551615-0"'],
    [
      '[["a", "18446744073709551615-18446744073709551615", 0]]',
      'bad entry id "18446744073709551615-1844674407370955161…"',
    ],
    ['[["a", "2023-01-29T13:46:40Z", 0]]', 'bad entry id "2023-01-29T13:46:40Z"'],
    ['[["a", 5, 0]]', 'header row #1: entry id must be a "ms-seq" string'],
  ])('rejects %j as BAD_ID', (text, message) => {
    expectCodecError(() => parsePushHeader(text), 'BAD_ID', message);
  });

  it('rejects more than MAX_HEADER_ITEMS items', () => {
    const items = Array.from({ length: MAX_HEADER_ITEMS + 1 }, () => 0);
    expectCodecError(() => parsePushHeader(JSON.stringify(items)), 'BAD_HEADER', 'header has more than 100000 items');
    expectCodecError(() => parsePushHeader(items.join(',')), 'BAD_HEADER', 'header has more than 100000 items');
  });

  it('rejects text longer than 4 MiB', () => {
    expect(MAX_HEADER_CHARS).toBe(4 * 1024 * 1024);
    const text = `[0${' '.repeat(MAX_HEADER_CHARS)}]`;
    expectCodecError(() => parsePushHeader(text), 'BAD_HEADER', 'header too long');
  });

  it('rejects deeply nested arrays as BAD_HEADER', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expectCodecError(() => parsePushHeader(deep), 'BAD_HEADER');
    expectCodecError(() => parsePushHeader('['.repeat(200_000)), 'BAD_HEADER');
  });

  it('rejects non-string input', () => {
    const inputs: unknown[] = [undefined, null, 5, {}, [0], Buffer.from('[0]')];
    for (const v of inputs) {
      expectCodecError(() => parsePushHeader(v as string), 'BAD_HEADER', 'header must be text');
    }
  });
});

describe('planEntries / splitBlob: offsets', () => {
  const blob = 'aaabbbbcc';

  it('reads start offsets (first value 0); the last entry runs to the end', () => {
    expect(run('[0, 3, 7]', blob)).toEqual([
      ['s', null, 'aaa'],
      ['s', null, 'bbbb'],
      ['s', null, 'cc'],
    ]);
  });

  it('reads end offsets (first value not 0); the last equals the blob length', () => {
    expect(run('[3, 7, 9]', blob)).toEqual([
      ['s', null, 'aaa'],
      ['s', null, 'bbbb'],
      ['s', null, 'cc'],
    ]);
  });

  it("reads PTG's comma form as start offsets", () => {
    expect(run('0,3,7', blob)).toEqual([
      ['s', null, 'aaa'],
      ['s', null, 'bbbb'],
      ['s', null, 'cc'],
    ]);
  });

  it("reads Redis Streamer's single [len] as one whole-blob entry", () => {
    expect(run('[9]', blob)).toEqual([['s', null, 'aaabbbbcc']]);
    expect(run('9', blob)).toEqual([['s', null, 'aaabbbbcc']]);
  });

  it('reads [0] as one whole-blob entry', () => {
    expect(run('[0]', blob)).toEqual([['s', null, 'aaabbbbcc']]);
    expect(run('0', blob)).toEqual([['s', null, 'aaabbbbcc']]);
  });

  it('handles empty blobs', () => {
    expect(run('[0]', '')).toEqual([['s', null, '']]);
    expect(run('[0, 0]', '')).toEqual([
      ['s', null, ''],
      ['s', null, ''],
    ]);
    expect(run('[0]', '', ['s'], 'end')).toEqual([['s', null, '']]);
    expect(run('[0]', '', ['s'], 'start')).toEqual([['s', null, '']]);
    expectCodecError(() => run('[1]', ''), 'BAD_OFFSETS', 'offset 1 is beyond the end of the 0-byte blob');
  });

  it('allows empty entries inside the blob', () => {
    expect(run('[0, 3, 3, 9]', blob)).toEqual([
      ['s', null, 'aaa'],
      ['s', null, ''],
      ['s', null, 'bbbbcc'],
      ['s', null, ''],
    ]);
    expect(run('[3, 3, 9]', blob)).toEqual([
      ['s', null, 'aaa'],
      ['s', null, ''],
      ['s', null, 'bbbbcc'],
    ]);
    expect(run('[0, 0, 9]', blob, ['s'], 'end')).toEqual([
      ['s', null, ''],
      ['s', null, ''],
      ['s', null, 'aaabbbbcc'],
    ]);
  });

  it('forces the convention with start and end modes', () => {
    // [0, 9] is start offsets in auto mode: an entry of 9 bytes and an empty one
    expect(run('[0, 9]', blob)).toEqual([
      ['s', null, 'aaabbbbcc'],
      ['s', null, ''],
    ]);
    expect(run('[0, 9]', blob, ['s'], 'end')).toEqual([
      ['s', null, ''],
      ['s', null, 'aaabbbbcc'],
    ]);
    expect(run('[0, 3, 7]', blob, ['s'], 'start')).toEqual([
      ['s', null, 'aaa'],
      ['s', null, 'bbbb'],
      ['s', null, 'cc'],
    ]);
    expect(run('[3, 7, 9]', blob, ['s'], 'end')).toEqual([
      ['s', null, 'aaa'],
      ['s', null, 'bbbb'],
      ['s', null, 'cc'],
    ]);
  });

  it.each<[string, OffsetsMode, string]>([
    [
      '[3, 7]',
      'auto',
      'the last end offset (7) must equal the blob length (9); offsets not starting with 0 are end offsets',
    ],
    ['[3, 7]', 'end', 'the last end offset (7) must equal the blob length (9)'],
    ['[0, 7]', 'end', 'the last end offset (7) must equal the blob length (9)'],
    ['[3, 7, 9]', 'start', 'the first start offset must be 0'],
    ['[0, 7, 3]', 'auto', 'offsets must be non-decreasing'],
    ['[5, 3, 9]', 'auto', 'offsets must be non-decreasing'],
    ['[0, 10]', 'auto', 'offset 10 is beyond the end of the 9-byte blob'],
    ['[10]', 'auto', 'offset 10 is beyond the end of the 9-byte blob'],
    ['[3, 10]', 'end', 'offset 10 is beyond the end of the 9-byte blob'],
    ['[0, 3, 9, 10]', 'start', 'offset 10 is beyond the end of the 9-byte blob'],
  ])('rejects %s (%s) as BAD_OFFSETS', (header, mode, message) => {
    expectCodecError(() => run(header, blob, ['s'], mode), 'BAD_OFFSETS', message);
  });

  it('rejects bad item offsets and blob lengths', () => {
    expectCodecError(
      () => planEntries(flat(-1), 9, ['s'], 'auto'),
      'BAD_OFFSETS',
      'offset #1 is not a non-negative integer',
    );
    expectCodecError(
      () => planEntries(flat(0, 1.5), 9, ['s'], 'auto'),
      'BAD_OFFSETS',
      'offset #2 is not a non-negative integer',
    );
    expectCodecError(() => planEntries(flat(NaN), 9, ['s'], 'auto'), 'BAD_OFFSETS');
    expectCodecError(() => planEntries(flat(0), -1, ['s'], 'auto'), 'BAD_OFFSETS', 'bad blob length');
    expectCodecError(() => planEntries(flat(0), 1.5, ['s'], 'auto'), 'BAD_OFFSETS', 'bad blob length');
    expectCodecError(
      () => planEntries(flat(0), 9, ['s'], 'both' as OffsetsMode),
      'BAD_OFFSETS',
      'offsets must be auto, start or end',
    );
  });

  it('rejects an empty item list', () => {
    expectCodecError(() => planEntries([], 0, ['s'], 'auto'), 'BAD_HEADER', 'empty header');
  });

  it('returns exact plans', () => {
    expect(planEntries(flat(0, 3, 7), 9, ['s'], 'auto')).toEqual<PlannedEntry[]>([
      { streamId: 's', id: null, start: 0, end: 3 },
      { streamId: 's', id: null, start: 3, end: 7 },
      { streamId: 's', id: null, start: 7, end: 9 },
    ]);
    expect(planEntries(flat(3, 7, 9), 9, ['s'], 'auto')).toEqual<PlannedEntry[]>([
      { streamId: 's', id: null, start: 0, end: 3 },
      { streamId: 's', id: null, start: 3, end: 7 },
      { streamId: 's', id: null, start: 7, end: 9 },
    ]);
  });
});

describe('planEntries: streams', () => {
  const blob = 'aaabbbbcc';

  it('sends a flat list to the single path stream', () => {
    expect(run('[0, 3, 7]', blob, ['cam'])).toEqual([
      ['cam', null, 'aaa'],
      ['cam', null, 'bbbb'],
      ['cam', null, 'cc'],
    ]);
  });

  it('sends a flat list of k offsets to k path streams in order', () => {
    expect(run('[0, 3, 7]', blob, ['a', 'b', 'c'])).toEqual([
      ['a', null, 'aaa'],
      ['b', null, 'bbbb'],
      ['c', null, 'cc'],
    ]);
    expect(run('3,7,9', blob, ['c', 'b', 'a'])).toEqual([
      ['c', null, 'aaa'],
      ['b', null, 'bbbb'],
      ['a', null, 'cc'],
    ]);
  });

  it('rejects a flat list whose length differs from the number of path streams', () => {
    const message = 'a flat header for 2 path streams must list exactly 2 offsets';
    expectCodecError(() => run('[0, 3, 7]', blob, ['a', 'b']), 'BAD_HEADER', message);
    expectCodecError(() => run('[9]', blob, ['a', 'b']), 'BAD_HEADER', message);
  });

  it('rejects unnamed items on a * path', () => {
    expectCodecError(() => run('[0, 3]', blob, null), 'BAD_HEADER', 'header must name streams on a * path');
    expectCodecError(() => run('9', blob, null), 'BAD_HEADER', 'header must name streams on a * path');
  });

  it('rejects unnamed items with no path stream', () => {
    expectCodecError(() => run('[9]', blob, []), 'BAD_HEADER', 'no path stream for the header');
  });

  it('uses named streams as named, on any path', () => {
    const header = '[["cam", 0], ["mic", 3], ["cam", 7]]';
    const expected = [
      ['cam', null, 'aaa'],
      ['mic', null, 'bbbb'],
      ['cam', null, 'cc'],
    ];
    expect(run(header, blob, null)).toEqual(expected);
    expect(run(header, blob, ['x'])).toEqual(expected);
    expect(run(header, blob, ['x', 'y'])).toEqual(expected);
    expect(run('[["cam", 3], ["mic", 7], ["cam", 9]]', blob, null)).toEqual(expected);
  });

  it('puts unnamed items of a mixed list on the single path stream', () => {
    const items: HeaderItem[] = [
      { streamId: null, id: null, offset: 0 },
      { streamId: 'mic', id: null, offset: 3 },
    ];
    expect(planEntries(items, 9, ['cam'], 'auto')).toEqual([
      { streamId: 'cam', id: null, start: 0, end: 3 },
      { streamId: 'mic', id: null, start: 3, end: 9 },
    ]);
    expectCodecError(() => planEntries(items, 9, ['cam', 'x'], 'auto'), 'BAD_HEADER');
    expectCodecError(() => planEntries(items, 9, null, 'auto'), 'BAD_HEADER');
  });

  it('validates stream ids of hand-built items and path streams', () => {
    expectCodecError(
      () => planEntries([{ streamId: '../x', id: null, offset: 0 }], 9, null, 'auto'),
      'BAD_STREAM_ID',
      'bad stream id "../x"',
    );
    expectCodecError(() => planEntries(flat(0), 9, ['a b'], 'auto'), 'BAD_STREAM_ID', 'bad stream id "a b"');
  });
});

describe('planEntries: explicit ids', () => {
  const blob = 'aaabbbbcc';

  it('keeps explicit ids per entry', () => {
    expect(run('[["a", "5-0", 0], ["b", "1-0", 3], ["a", "5-1", 7]]', blob, null)).toEqual([
      ['a', '5-0', 'aaa'],
      ['b', '1-0', 'bbbb'],
      ['a', '5-1', 'cc'],
    ]);
  });

  it('compares ids numerically, not as strings', () => {
    expect(run('[["a", "9-0", 0], ["a", "10-0", 3], ["a", "10-10", 7]]', blob, null).map((r) => r[1])).toEqual([
      '9-0',
      '10-0',
      '10-10',
    ]);
  });

  it.each<[string, string]>([
    ['[["a", "5-1", 0], ["a", "5-1", 3]]', 'entry ids of stream "a" must increase: 5-1 after 5-1'],
    ['[["a", "5-1", 0], ["a", "5-0", 3]]', 'entry ids of stream "a" must increase: 5-0 after 5-1'],
    ['[["a", "10-0", 0], ["a", "9-0", 3]]', 'entry ids of stream "a" must increase: 9-0 after 10-0'],
    ['[["a", "1-10", 0], ["b", "1-0", 3], ["a", "1-9", 5]]', 'entry ids of stream "a" must increase: 1-9 after 1-10'],
  ])('rejects non-increasing ids %s as BAD_ID', (header, message) => {
    expectCodecError(() => run(header, blob, null), 'BAD_ID', message);
  });

  it('rejects a stream mixing explicit and auto ids as BAD_HEADER', () => {
    const message = 'stream "a" mixes explicit and auto ids in one batch';
    expectCodecError(() => run('[["a", "5-0", 0], ["a", 3]]', blob, null), 'BAD_HEADER', message);
    expectCodecError(() => run('[["a", null, 0], ["a", "5-0", 3]]', blob, null), 'BAD_HEADER', message);
    expectCodecError(
      () => run('[["a", 0], ["b", "1-0", 3], ["a", "*", 5], ["a", "9-0", 7]]', blob, null),
      'BAD_HEADER',
      message,
    );
  });

  it('allows explicit ids on one stream and auto ids on another', () => {
    expect(run('[["a", "5-0", 0], ["b", 3], ["a", "6-0", 7]]', blob, null)).toEqual([
      ['a', '5-0', 'aaa'],
      ['b', null, 'bbbb'],
      ['a', '6-0', 'cc'],
    ]);
  });

  it('validates ids of hand-built items', () => {
    expectCodecError(
      () => planEntries([{ streamId: 'a', id: '0-0', offset: 0 }], 9, null, 'auto'),
      'BAD_ID',
      'bad entry id "0-0"',
    );
    expectCodecError(() => planEntries([{ streamId: 'a', id: 'x', offset: 0 }], 9, null, 'auto'), 'BAD_ID');
    expectCodecError(
      () => planEntries([{ streamId: 'a', id: '18446744073709551615-7', offset: 0 }], 9, null, 'auto'),
      'BAD_ID',
    );
  });
});

describe('splitBlob', () => {
  it('returns views into the blob, not copies', () => {
    const blob = Buffer.from('aaabbbbcc');
    const [a, b] = splitBlob(blob, [
      { streamId: 's', id: null, start: 0, end: 3 },
      { streamId: 's', id: null, start: 3, end: 9 },
    ]);
    expect(a.buffer).toBe(blob.buffer);
    expect(a.byteOffset).toBe(blob.byteOffset);
    expect(b.byteOffset).toBe(blob.byteOffset + 3);
    blob[0] = 0x7a;
    expect(a.toString()).toBe('zaa');
    expect(b.toString()).toBe('bbbbcc');
  });

  it('rejects slices outside the blob', () => {
    const blob = Buffer.from('abc');
    expectCodecError(
      () => splitBlob(blob, [{ streamId: 's', id: null, start: 0, end: 4 }]),
      'BAD_OFFSETS',
      'slice 0..4 is outside the 3-byte blob',
    );
    expectCodecError(() => splitBlob(blob, [{ streamId: 's', id: null, start: 2, end: 1 }]), 'BAD_OFFSETS');
    expect(splitBlob(blob, [])).toEqual([]);
  });
});

describe('encodePullHeader', () => {
  const entries = [
    { streamId: 'cam', id: '1675000000000-0', length: 3 },
    { streamId: 'mic', id: '1675000000000-1', length: 4 },
    { streamId: 'cam', id: '1675000000001-0', length: 2 },
  ];

  it('encodes start offsets', () => {
    expect(encodePullHeader(entries, 'start')).toBe(
      '[["cam","1675000000000-0",0],["mic","1675000000000-1",3],["cam","1675000000001-0",7]]',
    );
  });

  it('encodes end offsets', () => {
    expect(encodePullHeader(entries, 'end')).toBe(
      '[["cam","1675000000000-0",3],["mic","1675000000000-1",7],["cam","1675000000001-0",9]]',
    );
  });

  it('produces valid JSON equal to the straightforward encoding', () => {
    const text = encodePullHeader(entries, 'start');
    expect(JSON.parse(text)).toEqual([
      ['cam', '1675000000000-0', 0],
      ['mic', '1675000000000-1', 3],
      ['cam', '1675000000001-0', 7],
    ]);
  });

  it('encodes an empty list and empty entries', () => {
    expect(encodePullHeader([], 'start')).toBe('[]');
    expect(encodePullHeader([], 'end')).toBe('[]');
    expect(encodePullHeader([{ streamId: 'a', id: '1-0', length: 0 }], 'start')).toBe('[["a","1-0",0]]');
    expect(encodePullHeader([{ streamId: 'a', id: '1-0', length: 0 }], 'end')).toBe('[["a","1-0",0]]');
  });

  it('equals JSON.stringify for UTF-8 stream ids and offsets of every width', () => {
    const lengths = [0, 1, 8, 90, 900, 9_000, 90_000, 900_000, 9_000_000, 90_000_000, 0];
    const rows = lengths.map((length, i) => ({
      streamId: i % 2 ? 'kamera-ü/links' : '相机',
      id: `${1675000000000 + i}-${i * 7}`,
      length,
    }));
    for (const mode of ['start', 'end'] as const) {
      let pos = 0;
      const expected = rows.map((r) => {
        const off = mode === 'start' ? pos : pos + r.length;
        pos += r.length;
        return [r.streamId, r.id, off];
      });
      expect(encodePullHeader(rows, mode)).toBe(JSON.stringify(expected));
    }
  });

  it('escapes stream ids that would break JSON', () => {
    const odd = [{ streamId: 'we"ird\\\n', id: '1-0', length: 1 }];
    const text = encodePullHeader(odd, 'start');
    expect(text).toBe('[["we\\"ird\\\\\\n","1-0",0]]');
    expect(JSON.parse(text)).toEqual([['we"ird\\\n', '1-0', 0]]);
  });

  it('is read back by the push side as the same entries', () => {
    const blob = Buffer.from('aaabbbbcc');
    for (const mode of ['start', 'end'] as const) {
      const plan = planEntries(parsePushHeader(encodePullHeader(entries, mode)), blob.length, null, mode);
      expect(plan).toEqual([
        { streamId: 'cam', id: '1675000000000-0', start: 0, end: 3 },
        { streamId: 'mic', id: '1675000000000-1', start: 3, end: 7 },
        { streamId: 'cam', id: '1675000000001-0', start: 7, end: 9 },
      ]);
    }
  });
});

describe('round trip (property, seeded)', () => {
  it('entry lengths → offsets → plan → slices equal the originals', () => {
    const rnd = rng(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    const streams = ['a', 'b', 'cam/left', 'main:imu'];
    const failures: string[] = [];
    let checks = 0;
    for (let c = 0; c < 2000; c++) {
      const count = 1 + int(c % 10 === 0 ? 200 : 12);
      const payloads: Buffer[] = [];
      const entries: { streamId: string; id: string; length: number }[] = [];
      const seq = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const len = int(4) === 0 ? 0 : int(c % 7 === 0 ? 3000 : 40);
        const p = Buffer.alloc(len);
        // distinct content per entry, so a slice that is off by one byte is noticed
        const base = int(256);
        const step = 1 + 2 * int(100);
        for (let j = 0; j < len; j++) p[j] = (base + j * step) & 255;
        payloads.push(p);
        const sid = streams[int(streams.length)];
        const n = (seq.get(sid) ?? int(5)) + 1 + int(3);
        seq.set(sid, n);
        entries.push({ streamId: sid, id: `${1675000000000 + Math.floor(n / 4)}-${n % 4}`, length: len });
      }
      const blob = Buffer.concat(payloads);
      const ends: number[] = [];
      const starts: number[] = [];
      let pos = 0;
      for (const p of payloads) {
        starts.push(pos);
        pos += p.length;
        ends.push(pos);
      }

      // plain comparisons, one expect at the end: a million expect() calls would take a minute
      const check = (plan: PlannedEntry[], named: boolean, stream?: string) => {
        const slices = splitBlob(blob, plan);
        let ok = slices.length === count;
        for (let i = 0; ok && i < count; i++) {
          ok =
            slices[i].equals(payloads[i]) &&
            plan[i].streamId === (named ? entries[i].streamId : stream) &&
            plan[i].id === (named ? entries[i].id : null);
        }
        if (!ok) failures.push(`case ${c}: ${JSON.stringify(entries.map((e) => e.length))}`);
        checks++;
      };

      // pull header (3-element rows) read back by the push side, both conventions
      for (const mode of ['start', 'end'] as const) {
        const text = encodePullHeader(entries, mode);
        check(planEntries(parsePushHeader(text), blob.length, null, mode), true);
        if (mode === 'start' || ends[0] !== 0) {
          check(planEntries(parsePushHeader(text), blob.length, null, 'auto'), true);
        }
      }

      // flat forms: JSON array and PTG comma text, for one path stream
      for (const [offsets, mode] of [
        [starts, 'start'],
        [ends, 'end'],
      ] as const) {
        for (const text of [JSON.stringify(offsets), offsets.join(',')]) {
          check(planEntries(parsePushHeader(text), blob.length, ['s'], mode), false, 's');
          // auto is unambiguous unless end offsets begin with an empty entry
          if (mode === 'start' || offsets[0] !== 0) {
            check(planEntries(parsePushHeader(text), blob.length, ['s'], 'auto'), false, 's');
          }
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(checks).toBeGreaterThan(2000 * 8);
  });
});

describe('fuzz (seeded): only CodecError ever escapes', () => {
  const rnd = rng(0xf022);
  const int = (n: number) => Math.floor(rnd() * n);
  const atoms = [
    '[',
    ']',
    ',',
    '"',
    '0',
    '1',
    '9',
    '-',
    '.',
    'e',
    'E',
    '+',
    ' ',
    '\n',
    'null',
    'true',
    'false',
    '{',
    '}',
    ':',
    '"a"',
    '"1-0"',
    '"0-0"',
    '"*"',
    '\\',
    '\u0000',
    'é',
    '\ud800',
    '9007199254740993',
    '1e999',
    '"__proto__"',
  ];

  const randomValue = (depth: number): unknown => {
    const r = int(depth > 3 ? 8 : 11);
    switch (r) {
      case 0:
        return int(20);
      case 1:
        return int(2) ? -int(100) : rnd() * 100;
      case 2:
        return [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e300, -0][int(4)];
      case 3:
        return ['a', 'cam', '1-0', '0-0', '', '_x', 'a..b', '*', '5-5', 'x'.repeat(250)][int(10)];
      case 4:
        return null;
      case 5:
        return int(2) === 0;
      case 6:
        return `${int(1000)}-${int(1000)}`;
      case 7:
        return {};
      default: {
        const n = int(5);
        return Array.from({ length: n }, () => randomValue(depth + 1));
      }
    }
  };

  const attempt = (text: string, blobLength: number, pathStreams: string[] | null, mode: OffsetsMode) => {
    try {
      const items = parsePushHeader(text);
      const plan = planEntries(items, blobLength, pathStreams, mode);
      const slices = splitBlob(Buffer.alloc(blobLength), plan);
      // whatever is accepted must be a consistent plan
      let covered = 0;
      for (let i = 0; i < plan.length; i++) {
        expect(plan[i].start).toBe(covered);
        covered = plan[i].end;
        expect(slices[i].length).toBe(plan[i].end - plan[i].start);
      }
      expect(covered).toBe(blobLength);
      return true;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      expect(['BAD_HEADER', 'BAD_OFFSETS', 'BAD_ID', 'BAD_STREAM_ID']).toContain(e.code);
      expect(e.message.length).toBeGreaterThan(0);
      expect(e.message.length).toBeLessThan(200);
      return false;
    }
  };

  const pathChoices: (string[] | null)[] = [null, ['s'], ['a', 'b'], ['a', 'b', 'c']];
  const modes: OffsetsMode[] = ['auto', 'start', 'end'];

  it('random character soup', () => {
    let accepted = 0;
    for (let c = 0; c < 1000; c++) {
      let text = '';
      const n = int(30);
      for (let i = 0; i < n; i++) text += atoms[int(atoms.length)];
      // now and then a plain valid header, so that the accepting path is fuzzed as well
      if (c % 10 === 0) text = ['0', '[0]', '[0, 1]', '0,1,2', '[["a", 0]]'][int(5)];
      if (attempt(text, int(30), pathChoices[int(4)], modes[int(3)])) accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('random JSON values', () => {
    let accepted = 0;
    for (let c = 0; c < 1000; c++) {
      const text = JSON.stringify(randomValue(0)) ?? 'undefined';
      if (attempt(text, int(30), pathChoices[int(4)], modes[int(3)])) accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('random hand-built items', () => {
    for (let c = 0; c < 500; c++) {
      const n = int(6);
      const items = Array.from({ length: n }, () => ({
        streamId: randomValue(3),
        id: randomValue(3),
        offset: randomValue(3),
      })) as unknown as HeaderItem[];
      try {
        planEntries(items, int(30), pathChoices[int(4)], modes[int(3)]);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
      }
    }
  });
});
