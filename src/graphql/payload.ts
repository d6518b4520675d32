const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as UTF-8 text, or null when it is not valid UTF-8 (binary data). */
export function payloadText(data: Buffer): string | null {
  try {
    return utf8.decode(data);
  } catch {
    return null;
  }
}

/** The payload parsed as JSON, or null when it is not JSON. */
export function payloadJson(data: Buffer): unknown {
  const text = payloadText(data);
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
