import { isUtf8 } from 'node:buffer';
import { idToIso } from '../redis/entry-id';
import { CodecError } from './push-codec';

/**
 * `format=json` frames (PROTOCOL §4): one text frame per entry. `data` is the payload parsed as
 * JSON, else its UTF-8 text, else base64 with `"encoding": "base64"`.
 */
export function entryToJson(streamId: string, id: string, data: Buffer): string {
  const head = `{"stream_id":${JSON.stringify(streamId)},"id":"${id}","time":"${idToIso(id)}","data":`;
  if (isUtf8(data)) {
    const text = data.toString('utf8');
    try {
      JSON.parse(text);
      // Valid JSON is embedded as it is: no re-serialisation of large documents.
      if (text.trim().length > 0) return `${head}${text}}`;
    } catch {
      // not JSON: sent as a string below
    }
    return `${head}${JSON.stringify(text)}}`;
  }
  return `${head}"${data.toString('base64')}","encoding":"base64"}`;
}

/** A `format=json` push frame `{"stream_id"?, "data"}`: `data` is stored as JSON text. */
export function parseJsonPush(text: string, pathStreams: string[] | null): { streamId: string; data: Buffer } {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new CodecError('BAD_HEADER', 'a format=json frame must be a JSON object');
  }
  if (!frame || typeof frame !== 'object' || Array.isArray(frame) || !('data' in frame)) {
    throw new CodecError('BAD_HEADER', 'a format=json frame must be an object with "data"');
  }
  const { stream_id: sid, data } = frame as { stream_id?: unknown; data: unknown };
  let streamId: string;
  if (sid === undefined) {
    if (!pathStreams || pathStreams.length !== 1) {
      throw new CodecError('BAD_HEADER', '"stream_id" is required unless the path names one stream');
    }
    streamId = pathStreams[0];
  } else if (typeof sid === 'string') {
    streamId = sid;
  } else {
    throw new CodecError('BAD_STREAM_ID', '"stream_id" must be a string');
  }
  return { streamId, data: Buffer.from(JSON.stringify(data)) };
}
