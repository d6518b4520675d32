import { sseEvent } from './sse-format';

describe('sseEvent', () => {
  it('writes id, optional event and one data line per text line', () => {
    expect(sseEvent('1-0', Buffer.from('hi'), 'utf8')).toBe('id: 1-0\ndata: hi\n\n');
    expect(sseEvent('1-0+2-0', Buffer.from('a\nb\r\nc\rd'), 'utf8', 'cam')).toBe(
      'id: 1-0+2-0\nevent: cam\ndata: a\ndata: b\ndata: c\ndata: d\n\n',
    );
  });

  it('keeps leading spaces and empty payloads (one space after the colon is the separator)', () => {
    expect(sseEvent('1-0', Buffer.from('  x'), 'utf8')).toBe('id: 1-0\ndata:   x\n\n');
    expect(sseEvent('1-0', Buffer.alloc(0), 'utf8')).toBe('id: 1-0\ndata: \n\n');
  });

  it('encodes binary as one base64 line', () => {
    const bytes = Buffer.from([0, 10, 13, 255]);
    expect(sseEvent('2-0', bytes, 'base64')).toBe(`id: 2-0\ndata: ${bytes.toString('base64')}\n\n`);
  });
});
