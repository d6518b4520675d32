/**
 * The AsyncAPI 3.0 description of the streaming endpoints, which OpenAPI cannot express:
 * WebSocket push and pull (PROTOCOL §3, §4) and Server-Sent Events (§5). Operations are from the
 * service's side: `receive` = the client sends, `send` = the service sends.
 */

const str = (description: string, extra: object = {}): object => ({ type: 'string', description, ...extra });
const flag = (description: string): object => ({ type: 'string', enum: ['0', '1', 'true', 'false'], description });

const STREAM_ID = {
  description:
    'Stream id (`A-Z a-z 0-9 _ . - / :`, up to 200 characters), or several joined by `+`; `*` on a push path ' +
    'means the header names the streams; on a pull or events path `*` is every stream of the device and `imu*` ' +
    'a glob over its stream ids, streams created later included.',
  examples: ['cam1', 'cam+mic', '*', 'imu*'],
};

const FORMAT = str('`binary` (default) or `json`: one text frame per entry', { enum: ['binary', 'json'] });

const DEVICE_ID = str('Device of the streams (default `default`)');

const PUSH_QUERY = {
  type: 'object',
  properties: {
    header: str(
      '`auto` (default): a text frame is a header for the next binary frame; `1`: every binary frame needs one; `0`: every binary frame is one entry',
      { enum: ['auto', '1', '0'] },
    ),
    batch: flag('PTG name for `header=1`'),
    ack: flag('`1`: after each stored batch the service sends its ids'),
    offsets: str('How header offsets are read: `auto` (a list starting with 0 holds start offsets), `start`, `end`', {
      enum: ['auto', 'start', 'end'],
    }),
    device_id: DEVICE_ID,
    format: FORMAT,
    token: str('Bearer token, for clients that cannot set headers'),
  },
};

const PULL_QUERY = {
  type: 'object',
  properties: {
    last_entry_id: str(
      'Entries after this: `$` (default), `0`, an id, a ms or ISO-8601 time; per stream joined by `+` (`%2B`)',
    ),
    count: str('Entries per stream per message (1-10000, default 1)'),
    latest: flag('Frame dropping: only the newest `count` entries newer than the last sent'),
    header: flag('`0`: binary frames only (one stream, count=1)'),
    offsets: str('Offsets in the header: `start` (default) or `end`', { enum: ['start', 'end'] }),
    ack: flag('`1`: the service waits for any client frame after each message'),
    max_fps: str('At most this many messages per second (0 = no limit)'),
    device_id: DEVICE_ID,
    format: FORMAT,
    until: str('Last entry of a replay (id, ms or ISO-8601 time): the socket closes with 1000 after it'),
    group: str('Consumer-group mode (docs/protocol.md §8): the group name'),
    consumer: str('Consumer name in the group (generated and returned in `X-Consumer` when absent)'),
    group_start: str('Where a new group starts: `$` (default), `0`, an id or a time'),
    claim_idle_ms: str('Entries idle this long are claimed for a live consumer (default 60000)'),
    max_deliveries: str('Deliveries before an entry moves to `{stream_id}:dead` (default 10)'),
    token: str('Bearer token, for clients that cannot set headers'),
  },
};

const SSE_QUERY = {
  type: 'object',
  properties: {
    last_entry_id: str(
      'Where to start without `Last-Event-ID`: `$` (default), `0`, an id, a time; per stream with `+`',
    ),
    count: str('Entries per stream per read (default 100; 1 with `latest`)'),
    latest: flag('Skip to the newest `count` entries whenever behind'),
    encoding: str('Payload encoding in `data:`', { enum: ['utf8', 'base64'] }),
    heartbeat: str('Keep-alive comment interval, ms (1000-60000, default 15000)'),
    device_id: DEVICE_ID,
    token: str('Bearer token (EventSource cannot set headers)'),
  },
};

const BINARY = { type: 'string', format: 'binary' };

const MESSAGES = {
  pushHeader: {
    name: 'pushHeader',
    contentType: 'application/json',
    summary: 'Text frame: offsets into the next binary frame',
    description:
      '`[o1, o2, ...]` entries of the path stream (one per stream for `a+b`); `[[stream_id, offset], ...]`; ' +
      '`[[stream_id, entry_id|null, offset], ...]`; or PTG text `"0,100,256"`. Offsets are integers, ' +
      'non-decreasing, inside the blob.',
    payload: {
      oneOf: [
        { type: 'array', items: { type: 'integer', minimum: 0 } },
        {
          type: 'array',
          items: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'null' }] } },
        },
        { type: 'string', pattern: '^[0-9]+(,[0-9]+)*$' },
      ],
    },
    examples: [
      { payload: [0, 5120, 10240] },
      {
        payload: [
          ['cam', 4096],
          ['mic', 4608],
        ],
      },
    ],
  },
  pushData: {
    name: 'pushData',
    contentType: 'application/octet-stream',
    summary: 'Binary frame: the payloads of the header before it, back to back (or one entry without a header)',
    payload: BINARY,
  },
  jsonPush: {
    name: 'jsonPush',
    contentType: 'application/json',
    summary: 'Text frame (format=json): one entry; `data` is stored as its JSON text',
    payload: {
      type: 'object',
      required: ['data'],
      properties: { stream_id: { type: 'string' }, data: {} },
    },
    examples: [{ payload: { stream_id: 'temp', data: 21.5 } }],
  },
  jsonEntry: {
    name: 'jsonEntry',
    contentType: 'application/json',
    summary: 'Text frame (format=json): one entry; `data` is parsed JSON, else UTF-8 text, else base64',
    payload: {
      type: 'object',
      required: ['stream_id', 'id', 'time', 'data'],
      properties: {
        stream_id: { type: 'string' },
        id: { type: 'string' },
        time: { type: 'string', format: 'date-time' },
        data: {},
        encoding: { type: 'string', const: 'base64' },
      },
    },
    examples: [{ payload: { stream_id: 'temp', id: '1700000000000-0', time: '2023-11-14T22:13:20.000Z', data: 21.5 } }],
  },
  pushAck: {
    name: 'pushAck',
    contentType: 'text/plain',
    summary: 'Text frame (ack=1): the new ids of one stored batch, in header order, comma-joined',
    payload: { type: 'string', examples: ['1675000000000-0,1675000000000-1'] },
  },
  pullHeader: {
    name: 'pullHeader',
    contentType: 'application/json',
    summary: 'Text frame: `[[stream_id, entry_id, offset], ...]` for the binary frame that follows',
    payload: {
      type: 'array',
      items: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'string' }, { type: 'integer' }] },
    },
    examples: [
      {
        payload: [
          ['cam1', '1675000000000-0', 0],
          ['cam1', '1675000000033-0', 5120],
        ],
      },
    ],
  },
  pullData: {
    name: 'pullData',
    contentType: 'application/octet-stream',
    summary: 'Binary frame: the payloads of the header before it, back to back',
    payload: BINARY,
  },
  pullAck: {
    name: 'pullAck',
    summary: 'Any frame (ack=1): the client is ready for the next message',
    payload: {},
  },
  entryEvent: {
    name: 'entryEvent',
    contentType: 'text/event-stream',
    summary: 'One entry as a Server-Sent Event',
    description:
      '`id:` is the entry id (for `a+b`, every stream’s cursor joined by `+`, and `event:` names the stream); ' +
      '`data:` is the payload as UTF-8 (one line per line) or base64. A reconnecting EventSource sends the last ' +
      'id as `Last-Event-ID` and resumes right after it.',
    payload: { type: 'string' },
    examples: [{ payload: 'id: 1675000000000-0\ndata: {"t": 21.5}\n\n' }],
  },
  keepAlive: {
    name: 'keepAlive',
    contentType: 'text/event-stream',
    summary: 'A comment line sent after `heartbeat` ms without entries',
    payload: { type: 'string', const: ': keep-alive\n\n' },
  },
};

const CLOSE_CODES =
  'Errors close the socket with a code and a short reason: 1007 bad header or offsets, 1008 forbidden stream ' +
  'or bad id, 1009 frame larger than WS_MAX_PAYLOAD, 1011 storage failure, 1001 server shutting down. An ' +
  'upgrade without a valid token is refused with HTTP 401, a forbidden stream with 403, bad query values with 400.';

const ref = (path: string): { $ref: string } => ({ $ref: path });

/** The document, with `host` (as the client reached the service) in its servers. */
export function asyncApiDocument(host: string): object {
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'redis-streamer streaming endpoints',
      version: '0.1.0',
      description:
        'WebSocket push and pull and Server-Sent Events of redis-streamer. Every endpoint needs a bearer token ' +
        'from `POST /token`, as `Authorization: Bearer <token>` or `?token=<token>`. REST routes are in the ' +
        'OpenAPI document at `/docs-json`; the full contract is `docs/protocol.md`.',
    },
    servers: {
      ws: { host, protocol: 'ws', security: [ref('#/components/securitySchemes/bearer')] },
      http: { host, protocol: 'http', security: [ref('#/components/securitySchemes/bearer')] },
    },
    channels: {
      push: {
        address: '/data/{stream_id}/push',
        title: 'WebSocket push',
        description: `Devices send entries. Every header + binary frame is stored atomically (all or none). ${CLOSE_CODES}`,
        servers: [ref('#/servers/ws')],
        parameters: { stream_id: STREAM_ID },
        messages: {
          pushHeader: ref('#/components/messages/pushHeader'),
          pushData: ref('#/components/messages/pushData'),
          jsonPush: ref('#/components/messages/jsonPush'),
          pushAck: ref('#/components/messages/pushAck'),
        },
        bindings: { ws: { method: 'GET', query: PUSH_QUERY } },
      },
      pull: {
        address: '/data/{stream_id}/pull',
        title: 'WebSocket pull',
        description:
          'Readers receive a text header and one binary frame per message; nothing while there is no data (liveness ' +
          `by WebSocket pings). Sequential by default: every entry after the cursor exactly once, in order. ${CLOSE_CODES}`,
        servers: [ref('#/servers/ws')],
        parameters: { stream_id: STREAM_ID },
        messages: {
          pullHeader: ref('#/components/messages/pullHeader'),
          pullData: ref('#/components/messages/pullData'),
          jsonEntry: ref('#/components/messages/jsonEntry'),
          pullAck: ref('#/components/messages/pullAck'),
        },
        bindings: { ws: { method: 'GET', query: PULL_QUERY } },
      },
      events: {
        address: '/data/{stream_id}/events',
        title: 'Server-Sent Events',
        description:
          'For browsers (EventSource). Headers: `Content-Type: text/event-stream`, `Cache-Control: no-cache, ' +
          'no-transform`, `X-Accel-Buffering: no`; `retry: 1000` is sent first. Errors before the stream starts are ' +
          'JSON `{"detail"}` with 400/401/403/503.',
        servers: [ref('#/servers/http')],
        parameters: { stream_id: STREAM_ID },
        messages: {
          entryEvent: ref('#/components/messages/entryEvent'),
          keepAlive: ref('#/components/messages/keepAlive'),
        },
        bindings: { http: { method: 'GET', query: SSE_QUERY } },
      },
    },
    operations: {
      receivePush: {
        action: 'receive',
        channel: ref('#/channels/push'),
        summary: 'A header (optional with header=auto) and a binary frame',
        messages: [
          ref('#/channels/push/messages/pushHeader'),
          ref('#/channels/push/messages/pushData'),
          ref('#/channels/push/messages/jsonPush'),
        ],
      },
      sendPushAck: {
        action: 'send',
        channel: ref('#/channels/push'),
        summary: 'Ids of a stored batch (ack=1)',
        messages: [ref('#/channels/push/messages/pushAck')],
      },
      sendPull: {
        action: 'send',
        channel: ref('#/channels/pull'),
        summary: 'Header then payloads (header=0: payload only)',
        messages: [
          ref('#/channels/pull/messages/pullHeader'),
          ref('#/channels/pull/messages/pullData'),
          ref('#/channels/pull/messages/jsonEntry'),
        ],
      },
      receivePullAck: {
        action: 'receive',
        channel: ref('#/channels/pull'),
        summary: 'Flow control (ack=1)',
        messages: [ref('#/channels/pull/messages/pullAck')],
      },
      sendEvents: {
        action: 'send',
        channel: ref('#/channels/events'),
        summary: 'Entries as events, and keep-alive comments',
        messages: [ref('#/channels/events/messages/entryEvent'), ref('#/channels/events/messages/keepAlive')],
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Token from POST /token' },
      },
      messages: MESSAGES,
    },
  };
}
