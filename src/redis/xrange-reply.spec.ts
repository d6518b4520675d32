import type { StreamEntry } from './redis-streams.service';
import { RedisProtocolError, RedisReplyError, XrangeReplyReader } from './xrange-reply';

// Replies Redis itself sends are read in test/history-connection.e2e-spec.ts; these are the shapes
// a healthy Redis does not produce on demand (nils, garbage, a reply nobody asked for).

type Reply = StreamEntry[] | string | Error;

function reader(...keys: (string | null)[]): { reader: XrangeReplyReader; replies: Reply[] } {
  const replies: Reply[] = [];
  const r = new XrangeReplyReader();
  for (const key of keys) r.expect({ key, done: (reply) => replies.push(reply) });
  return { reader: r, replies };
}

describe('XrangeReplyReader', () => {
  it('answers status commands with their text and errors with ReplyError', () => {
    const { reader: r, replies } = reader(null, null, 'k', null);
    r.feed(Buffer.from('+OK\r\n-WRONGPASS invalid username-password pair\r\n-WRONGTYPE Operation\r\n:1\r\n'));
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toBeInstanceOf(RedisReplyError);
    expect((replies[1] as Error).message).toBe('WRONGPASS invalid username-password pair');
    expect((replies[2] as Error).message).toBe('WRONGTYPE Operation');
    expect(replies[3]).toBe('1');
    expect(r.pending).toBe(0);
  });

  it('reads a nil array as no entries and nil fields as an empty payload', () => {
    const { reader: r, replies } = reader('a', 'b');
    r.feed(Buffer.from('*-1\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*-1\r\n'));
    expect(replies[0]).toEqual([]);
    const [entry] = replies[1] as StreamEntry[];
    expect([entry.key, entry.id, entry.data.length]).toEqual(['b', '1-1', 0]);
  });

  it('refuses bytes that are not a reply to what was sent', () => {
    expect(() => reader().reader.feed(Buffer.from('+OK\r\n'))).toThrow(RedisProtocolError);
    expect(() => reader('k').reader.feed(Buffer.from('+OK\r\n'))).toThrow(/XRANGE answered with "OK"/);
    expect(() => reader('k').reader.feed(Buffer.from('$3\r\nabc\r\n'))).toThrow(/unexpected reply type/);
    expect(() => reader('k').reader.feed(Buffer.from('*1\r\n*3\r\n'))).toThrow(/not an id and its fields/);
    expect(() => reader('k').reader.feed(Buffer.from('*1\r\n*2\r\n$-1\r\n'))).toThrow(/nil string/);
    expect(() => reader('k').reader.feed(Buffer.from('*1x\r\n'))).toThrow(/malformed length/);
    expect(() => reader('k').reader.feed(Buffer.from('*1\rx'))).toThrow(/malformed line end/);
    expect(() => reader('k').reader.feed(Buffer.from('*1\r\n*2\r\n$3\r\n1-10\r\n'))).toThrow(/longer than its length/);
  });

  it('fails every waiting command at once, and reads nothing more', () => {
    const { reader: r, replies } = reader('a', null);
    r.feed(Buffer.from('*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nd\r\n$2\r\nhi'));
    r.failAll(new Error('Connection is closed'));
    r.feed(Buffer.from('\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nd\r\n$0\r\n\r\n+OK\r\n'));
    expect(replies.map((x) => (x as Error).message)).toEqual(['Connection is closed', 'Connection is closed']);
    expect(r.pending).toBe(0);
  });
});
