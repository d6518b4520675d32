/**
 * Request bodies of `POST /data/{stream_id}` (PROTOCOL §5): a raw body is one entry; in a
 * multipart body every part named `entries` is one entry, in order, bytes untouched. The body
 * is bounded: past `limit` bytes nothing more is kept, the rest is discarded as it arrives and
 * the upload fails with TOO_LARGE (413), so nothing of it is stored.
 */
import busboy from 'busboy';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { StreamError } from '../streams/stream-error';

export interface UploadPart {
  /** The part's filename: names the stream when the path is `*`. */
  filename?: string;
  data: Buffer;
}

export const ENTRIES_FIELD = 'entries';

function tooLarge(limit: number): StreamError {
  return new StreamError('TOO_LARGE', `upload larger than ${limit} bytes (HTTP_MAX_BODY)`);
}

/**
 * Settles a body read once. A failure stops keeping data (`stop`); the body goes on being read
 * and discarded, so that the client, still sending, gets to read the error answer.
 */
function settleOnce<T>(req: Readable, resolve: (v: T) => void, reject: (e: Error) => void, stop: () => void) {
  let settled = false;
  let ended = false;
  const out = {
    ok(v: T): void {
      if (settled) return;
      settled = true;
      resolve(v);
    },
    fail(e: Error): void {
      if (settled) return;
      settled = true;
      stop();
      reject(e);
    },
  };
  req.once('end', () => (ended = true));
  req.once('error', (err) => out.fail(err));
  req.once('close', () => {
    if (!ended) out.fail(new StreamError('BAD_REQUEST', 'the request body ended early'));
  });
  return out;
}

/** Content-Length already says too much: refuse before reading (the rest is drained). */
function declaredTooLarge(req: Readable, headers: IncomingHttpHeaders, limit: number): boolean {
  if (!(Number(headers['content-length']) > limit)) return false;
  req.resume();
  return true;
}

/** The whole body as one buffer, at most `limit` bytes. */
export function readRawBody(req: Readable, headers: IncomingHttpHeaders, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (declaredTooLarge(req, headers, limit)) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let total = 0;
    const done = settleOnce(req, resolve, reject, () => (chunks.length = 0));
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) done.fail(tooLarge(limit));
      else chunks.push(chunk);
    });
    req.once('end', () => done.ok(Buffer.concat(chunks, total)));
  });
}

/** The parts of a multipart/form-data body, in order; every part must be named `entries`. */
export function readMultipart(
  req: Readable,
  headers: IncomingHttpHeaders,
  limit: number,
  maxParts: number,
): Promise<UploadPart[]> {
  return new Promise((resolve, reject) => {
    if (declaredTooLarge(req, headers, limit)) return reject(tooLarge(limit));
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers, limits: { parts: maxParts, fields: maxParts, files: maxParts, fieldSize: limit } });
    } catch (err) {
      return reject(new StreamError('BAD_REQUEST', `bad multipart body: ${(err as Error).message}`));
    }
    const parts: UploadPart[] = [];
    let pending = 0;
    let parsed = false;
    const done = settleOnce(req, resolve, reject, () => {
      req.unpipe(bb);
      req.resume();
      parts.length = 0;
    });
    const finish = (): void => {
      if (parsed && pending === 0) done.ok(parts);
    };
    const named = (name: string): boolean => {
      if (name === ENTRIES_FIELD) return true;
      const shown = JSON.stringify(name.slice(0, 40));
      done.fail(new StreamError('BAD_REQUEST', `unexpected part ${shown}: name every part entries`));
      return false;
    };
    // A part with a filename (or typed application/octet-stream) arrives as bytes; one without is
    // a text field, stored as its UTF-8 text. Both events come in part order.
    bb.on('file', (name, stream, info) => {
      if (!named(name)) return stream.resume();
      const chunks: Buffer[] = [];
      const part: UploadPart = { filename: info.filename, data: Buffer.alloc(0) };
      parts.push(part);
      pending++;
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('end', () => {
        part.data = Buffer.concat(chunks);
        pending--;
        finish();
      });
    });
    bb.on('field', (name, value) => {
      if (named(name)) parts.push({ data: Buffer.from(value, 'utf8') });
    });
    bb.once('partsLimit', () => done.fail(new StreamError('TOO_LARGE', `more than ${maxParts} parts in one upload`)));
    bb.once('error', (err: Error) => done.fail(new StreamError('BAD_REQUEST', `bad multipart body: ${err.message}`)));
    bb.once('close', () => {
      parsed = true;
      finish();
    });
    let total = 0;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) done.fail(tooLarge(limit));
    });
    req.pipe(bb);
  });
}
