import { PassThrough } from 'node:stream';
import { StreamError } from '../streams/stream-error';
import { readMultipart, readRawBody } from './rest-upload';

const BOUNDARY = 'b0undary';
const headers = (length?: number) => ({
  'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
  ...(length === undefined ? {} : { 'content-length': String(length) }),
});

function multipart(parts: { name: string; filename?: string; type?: string; data: Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const type = p.type ? `Content-Type: ${p.type}\r\n` : '';
    chunks.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      p.data,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** A request-like stream that sends `body` in small pieces. */
function body(data: Buffer, piece = 7): PassThrough {
  const s = new PassThrough();
  void (async () => {
    for (let i = 0; i < data.length; i += piece) {
      s.write(data.subarray(i, i + piece));
      await new Promise((r) => setImmediate(r));
    }
    s.end();
  })();
  return s;
}

describe('readMultipart', () => {
  it('returns the parts named entries in order, bytes untouched, with their filenames', async () => {
    const bin = Buffer.from([0, 13, 10, 255, 45, 45]);
    const data = multipart([
      { name: 'entries', filename: 'cam', data: bin },
      { name: 'entries', data: Buffer.from('text ü') },
      { name: 'entries', type: 'application/octet-stream', data: Buffer.alloc(0) },
    ]);
    const parts = await readMultipart(body(data), headers(), 1024, 10);
    expect(parts).toEqual([
      { filename: 'cam', data: bin },
      { data: Buffer.from('text ü') },
      { filename: undefined, data: Buffer.alloc(0) },
    ]);
  });

  it('fails on other part names, too many parts, a body over the limit, and garbage', async () => {
    const other = multipart([{ name: 'file', filename: 'x', data: Buffer.from('x') }]);
    await expect(readMultipart(body(other), headers(), 1024, 10)).rejects.toThrow('unexpected part "file"');
    const three = multipart([1, 2, 3].map(() => ({ name: 'entries', filename: 'x', data: Buffer.from('x') })));
    await expect(readMultipart(body(three), headers(), 1024, 2)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    const big = multipart([{ name: 'entries', filename: 'x', data: Buffer.alloc(2000) }]);
    await expect(readMultipart(body(big, 100), headers(), 1024, 10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(readMultipart(body(big), headers(big.length), 1024, 10)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(readMultipart(body(Buffer.from('junk')), headers(), 1024, 10)).rejects.toBeInstanceOf(StreamError);
    await expect(
      readMultipart(body(Buffer.alloc(0)), { 'content-type': 'multipart/form-data' }, 1024, 10),
    ).rejects.toThrow(/bad multipart body/);
  });
});

describe('readRawBody', () => {
  it('returns the whole body up to the limit, inclusive', async () => {
    const data = Buffer.alloc(1024, 3);
    expect(await readRawBody(body(data, 100), {}, 1024)).toEqual(data);
  });

  it('fails past the limit (counted as it arrives, or from Content-Length)', async () => {
    const data = Buffer.alloc(1025);
    await expect(readRawBody(body(data, 100), {}, 1024)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(readRawBody(body(data), { 'content-length': '1025' }, 1024)).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
  });
});
