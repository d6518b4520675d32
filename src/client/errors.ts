/** What the service said when it refused a request (HTTP status) or closed a socket (close code). */
export interface ErrorDetails {
  /** HTTP status of a refused request or WebSocket upgrade. */
  status?: number;
  /** WebSocket close code. */
  closeCode?: number;
  /** The service's `detail` or close reason. */
  detail?: string;
}

const CLOSE_MEANINGS: Record<number, string> = {
  1000: 'closed normally',
  1001: 'server shutting down',
  1006: 'connection lost',
  1007: 'bad header or offsets',
  1008: 'forbidden stream or bad id',
  1009: 'frame too large (WS_MAX_PAYLOAD)',
  1011: 'storage failure',
  1012: 'service restarting',
  1013: 'try again later',
};

/** Statuses and close codes after which the same request can succeed later. */
const TRANSIENT_STATUS = new Set([408, 429, 502, 503, 504]);
const TRANSIENT_CLOSE = new Set([1001, 1005, 1006, 1011, 1012, 1013]);

/** An error of the service or of the connection to it, with its HTTP status or close code. */
export class StreamerError extends Error {
  override readonly name = 'StreamerError';
  readonly status?: number;
  readonly closeCode?: number;
  readonly detail?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message);
    this.status = details.status;
    this.closeCode = details.closeCode;
    this.detail = details.detail;
  }

  /** A refused HTTP request or upgrade, from its status and body (`{"detail": ...}` or text). */
  static fromResponse(status: number, body: string, what = 'request'): StreamerError {
    let detail = body.trim().slice(0, 300);
    try {
      const parsed = JSON.parse(body) as { detail?: unknown; message?: unknown };
      const d = parsed.detail ?? parsed.message;
      if (d !== undefined) detail = typeof d === 'string' ? d : JSON.stringify(d);
    } catch {
      // not JSON: keep the text
    }
    return new StreamerError(`${what} refused: HTTP ${status}${detail ? ` ${detail}` : ''}`, { status, detail });
  }

  /** A WebSocket closed by the service (or the network) with `code` and `reason`. */
  static fromClose(code: number, reason: string): StreamerError {
    const meaning = CLOSE_MEANINGS[code] ?? 'closed';
    return new StreamerError(`socket closed ${code} (${meaning})${reason ? `: ${reason}` : ''}`, {
      closeCode: code,
      detail: reason,
    });
  }

  /** True when trying again later can succeed: network failures, 503, 1001, 1006, 1011... */
  get transient(): boolean {
    if (this.status !== undefined) return TRANSIENT_STATUS.has(this.status);
    if (this.closeCode !== undefined) return TRANSIENT_CLOSE.has(this.closeCode);
    return true; // no answer at all: refused connection, DNS, reset
  }
}

/** A request that got no answer (refused connection, DNS, reset), with the cause's code when there is one. */
export function networkError(base: string, err: unknown): StreamerError {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return new StreamerError(`${base}: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`);
}
