import {
  StreamIdError,
  dataKey,
  globToRegExp,
  isValidDeviceId,
  isValidStreamId,
  parseStreamPath,
  streamIdFromKey,
} from './stream-id';

function streamIdError(fn: () => unknown): StreamIdError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StreamIdError);
    expect((e as StreamIdError).code).toBe('BAD_STREAM_ID');
    return e as StreamIdError;
  }
  throw new Error('expected a StreamIdError');
}

describe('isValidStreamId', () => {
  it.each([
    'a',
    'Z',
    '0',
    'cam',
    'cam1',
    'main:depthcam',
    'cam/left',
    'a/b/c',
    'a.b',
    'a-b_c',
    'a.b.c',
    '1675000000000-0',
    'x:',
    'a:/b',
    'a/.b',
    'a/-',
    'a.',
    'a_',
    'a' + 'b'.repeat(199),
    'A-Za-z0-9_.-/:',
  ])('accepts %j', (s) => {
    expect(isValidStreamId(s)).toBe(true);
  });

  it.each([
    '',
    '_cam',
    '.cam',
    '-cam',
    '/cam',
    ':cam',
    'a..b',
    '..',
    'a/../b',
    'a//b',
    'a/',
    'cam/left/',
    'a' + 'b'.repeat(200),
    'caméra',
    'カメラ',
    'cam\u0000',
    'a b',
    ' a',
    'a ',
    'a\r',
    'a\n',
    'a\r\nb',
    'a\t',
    'a?b',
    'a#b',
    'a*',
    '*',
    'a+b',
    'a%2Fb',
    'a\\b',
    'a"b',
    "a'b",
    'a,b',
    'a;b',
    'a[0]',
    'a{b}',
    'a@b',
    'a\u2028',
    'ａ',
  ])('rejects %j', (s) => {
    expect(isValidStreamId(s)).toBe(false);
  });

  it('is exactly 200 characters at most', () => {
    expect(isValidStreamId('a'.repeat(200))).toBe(true);
    expect(isValidStreamId('a'.repeat(201))).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidStreamId(undefined as unknown as string)).toBe(false);
    expect(isValidStreamId(5 as unknown as string)).toBe(false);
  });
});

describe('isValidDeviceId', () => {
  it.each(['default', 'd', '0', 'dev-1', 'dev_1', 'dev.1', '_dev', '.dev', '-', 'a'.repeat(64)])('accepts %j', (s) => {
    expect(isValidDeviceId(s)).toBe(true);
  });

  it.each(['', 'a'.repeat(65), 'dev:1', 'dev/1', 'dev 1', 'dev*', 'dev+1', 'dév', 'dev\n', 'dev?', 'dev\r'])(
    'rejects %j',
    (s) => {
      expect(isValidDeviceId(s)).toBe(false);
    },
  );

  it('rejects non-strings', () => {
    expect(isValidDeviceId(null as unknown as string)).toBe(false);
  });
});

describe('parseStreamPath', () => {
  it('parses a single stream id', () => {
    expect(parseStreamPath('cam', 'push')).toEqual({ kind: 'list', ids: ['cam'] });
    expect(parseStreamPath('cam/left:0', 'pull')).toEqual({ kind: 'list', ids: ['cam/left:0'] });
  });

  it('parses + separated lists in order', () => {
    expect(parseStreamPath('cam+mic', 'push')).toEqual({ kind: 'list', ids: ['cam', 'mic'] });
    expect(parseStreamPath('mic+cam+imu', 'pull')).toEqual({ kind: 'list', ids: ['mic', 'cam', 'imu'] });
  });

  it('accepts a space as the separator (an unencoded + in a URL)', () => {
    expect(parseStreamPath('cam mic', 'pull')).toEqual({ kind: 'list', ids: ['cam', 'mic'] });
    expect(parseStreamPath('a+b c', 'push')).toEqual({ kind: 'list', ids: ['a', 'b', 'c'] });
  });

  it('parses a lone * as the wildcard in both modes', () => {
    expect(parseStreamPath('*', 'push')).toEqual({ kind: 'wildcard' });
    expect(parseStreamPath('*', 'pull')).toEqual({ kind: 'wildcard' });
  });

  it.each(['imu*', 'cam/*', '*:depth', 'a*b*c', '**', 'main:*', '*/left'])('parses %j as a glob in pull mode', (p) => {
    expect(parseStreamPath(p, 'pull')).toEqual({ kind: 'glob', pattern: p });
  });

  it.each(['imu*', 'cam/*', '**', 'a+*', '*+a'])('rejects %j in push mode', (p) => {
    expect(streamIdError(() => parseStreamPath(p, 'push')).message).toBe(
      `bad stream path ${JSON.stringify(p)}: a push path takes stream ids or a lone *`,
    );
  });

  it.each(['a*+b', 'a+b*', '* a', 'imu?*', 'im u*', 'cam*\n', 'é*', '*'.repeat(201)])(
    'rejects the bad pattern %j in pull mode',
    (p) => {
      expect(streamIdError(() => parseStreamPath(p, 'pull')).message).toBe(
        `bad stream pattern ${JSON.stringify(p.length > 40 ? `${p.slice(0, 40)}…` : p)}`,
      );
    },
  );

  it.each<[string, string]>([
    ['a++b', 'bad stream id ""'],
    ['+a', 'bad stream id ""'],
    ['a+', 'bad stream id ""'],
    ['a ', 'bad stream id ""'],
    ['_a', 'bad stream id "_a"'],
    ['a+b/', 'bad stream id "b/"'],
    ['a..b', 'bad stream id "a..b"'],
    ['a//b', 'bad stream id "a//b"'],
    ['a?b', 'bad stream id "a?b"'],
    ['a\r\nb', 'bad stream id "a\\r\\nb"'],
    ['cam+cam', 'stream "cam" appears twice in the path'],
    ['a+b+a', 'stream "a" appears twice in the path'],
    ['cam cam', 'stream "cam" appears twice in the path'],
  ])('rejects %j', (p, message) => {
    for (const mode of ['push', 'pull'] as const) {
      expect(streamIdError(() => parseStreamPath(p, mode)).message).toBe(message);
    }
  });

  it('rejects an empty path', () => {
    expect(streamIdError(() => parseStreamPath('', 'pull')).message).toBe('empty stream path');
  });

  it('accepts 64 ids and rejects 65', () => {
    const ids = Array.from({ length: 65 }, (_, i) => `s${i}`);
    expect(parseStreamPath(ids.slice(0, 64).join('+'), 'push')).toEqual({ kind: 'list', ids: ids.slice(0, 64) });
    expect(streamIdError(() => parseStreamPath(ids.join('+'), 'push')).message).toBe(
      'too many streams in path (max 64)',
    );
  });

  it('rejects an over-long path before splitting it', () => {
    expect(streamIdError(() => parseStreamPath('a+'.repeat(10000), 'pull')).message).toBe('stream path too long');
  });

  it('truncates long ids in messages', () => {
    const id = `_${'a'.repeat(100)}`;
    expect(streamIdError(() => parseStreamPath(id, 'push')).message).toBe(`bad stream id "_${'a'.repeat(39)}…"`);
  });
});

describe('globToRegExp', () => {
  it.each<[string, string, boolean]>([
    ['*', '', true],
    ['*', 'anything/at:all', true],
    ['imu*', 'imu', true],
    ['imu*', 'imu/left', true],
    ['imu*', 'xmu', false],
    ['imu*', 'ximu', false],
    ['cam1:*', 'cam1:depth', true],
    ['cam1:*', 'cam1:a/b:c', true],
    ['cam1:*', 'cam10:depth', false],
    ['cam1:*', 'cam1', false],
    ['*:depth', 'dev:depth', true],
    ['*:depth', 'dev:depth2', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'a-x-b-y-c', true],
    ['a*b*c', 'a-x-c', false],
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['a?', 'a?', true],
    ['a?', 'a', false],
    ['(a|b)', '(a|b)', true],
    ['(a|b)', 'a', false],
    ['[ab]', '[ab]', true],
    ['[ab]', 'a', false],
    ['^a$', '^a$', true],
    ['a\\d', 'a\\d', true],
    ['a\\d', 'a1', false],
    ['{1}', '{1}', true],
    ['a/b-c', 'a/b-c', true],
    ['cam', 'cam', true],
    ['cam', 'cam1', false],
    ['cam', 'xcam', false],
    ['a*', 'a\nb', true],
  ])('%j matches %j: %s', (pattern, input, expected) => {
    expect(globToRegExp(pattern).test(input)).toBe(expected);
  });

  it('builds an anchored expression', () => {
    expect(globToRegExp('cam1:*').source).toBe('^cam1:.*$');
    expect(globToRegExp('a.b*').source).toBe('^a\\.b.*$');
  });
});

describe('dataKey / streamIdFromKey', () => {
  it('prefixes with the device id', () => {
    expect(dataKey('default', 'cam', true)).toBe('default:cam');
    expect(dataKey('dev-1', 'main:depth/left', true)).toBe('dev-1:main:depth/left');
  });

  it('uses the stream id alone without prefixing', () => {
    expect(dataKey('default', 'cam', false)).toBe('cam');
    expect(dataKey('not valid:', 'cam', false)).toBe('cam');
  });

  it('validates both ids', () => {
    expect(streamIdError(() => dataKey('default', '../x', true)).message).toBe('bad stream id "../x"');
    expect(streamIdError(() => dataKey('default', '', false)).message).toBe('bad stream id ""');
    expect(streamIdError(() => dataKey('a:b', 'cam', true)).message).toBe('bad device id "a:b"');
    expect(streamIdError(() => dataKey('', 'cam', true)).message).toBe('bad device id ""');
  });

  it('inverts dataKey', () => {
    expect(streamIdFromKey('default:cam', 'default', true)).toBe('cam');
    expect(streamIdFromKey('dev-1:main:depth/left', 'dev-1', true)).toBe('main:depth/left');
    expect(streamIdFromKey('cam', 'default', false)).toBe('cam');
    expect(streamIdFromKey('x:y', 'default', false)).toBe('x:y');
    for (const [d, s] of [
      ['default', 'cam'],
      ['a.b', 'c:d/e'],
      ['x', 'x:x'],
    ]) {
      expect(streamIdFromKey(dataKey(d, s, true), d, true)).toBe(s);
      expect(streamIdFromKey(dataKey(d, s, false), d, false)).toBe(s);
    }
  });

  it("rejects keys that are not the device's", () => {
    expect(streamIdError(() => streamIdFromKey('other:cam', 'default', true)).message).toBe(
      'key "other:cam" is not a stream of device "default"',
    );
    expect(streamIdError(() => streamIdFromKey('default:', 'default', true)).code).toBe('BAD_STREAM_ID');
    expect(streamIdError(() => streamIdFromKey('defaultcam', 'default', true)).code).toBe('BAD_STREAM_ID');
    expect(streamIdError(() => streamIdFromKey('dev', 'dev', true)).code).toBe('BAD_STREAM_ID');
  });
});
