import request from 'supertest';
import { startApp, startRedis, TestApp, tokenFor } from './harness';

interface Operation {
  parameters?: { name: string; in: string }[];
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, { example?: unknown }> }>;
}

describe('REST and streaming endpoints in the OpenAPI portal and the AsyncAPI document', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: TestApp;
  let spec: { info: { description: string }; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startApp(redis.url);
    spec = (await request(svc.http).get('/docs-json').expect(200)).body;
  });
  afterAll(async () => {
    await svc.close();
    await redis.cleanup();
  });

  it('documents every REST data and stream route with parameters, headers and error bodies', () => {
    const routes: [string, string, string[], string[]][] = [
      [
        '/data/{path}',
        'get',
        ['last_entry_id', 'count', 'latest', 'block', 'device_id'],
        ['200', '204', '400', '401', '403', '503'],
      ],
      ['/data/{path}', 'post', ['device_id'], ['201', '400', '401', '403', '413', '415', '503']],
      ['/data/{path}/range', 'get', ['start', 'end', 'count', 'device_id'], ['200', '400', '401', '403', '404', '503']],
      [
        '/data/{path}/events',
        'get',
        ['last_entry_id', 'count', 'latest', 'encoding', 'heartbeat', 'Last-Event-ID'],
        ['200', '400', '401', '403'],
      ],
      ['/streams', 'get', ['device_id', 'info'], ['200', '400', '401']],
      ['/streams/{stream_id}', 'get', ['stream_id', 'device_id'], ['200', '403', '404']],
      ['/streams/{stream_id}', 'put', ['stream_id', 'override'], ['200', '400', '403']],
      ['/streams/{stream_id}', 'delete', ['stream_id'], ['204', '403', '404']],
      ['/asyncapi.json', 'get', [], ['200', '401']],
    ];
    for (const [path, method, params, statuses] of routes) {
      const op = spec.paths[path]?.[method];
      expect([path, method, op !== undefined]).toEqual([path, method, true]);
      expect(op.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(params));
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(statuses));
    }
    const read = spec.paths['/data/{path}'].get.responses;
    expect(Object.keys(read['200'].headers!)).toEqual(['x-last-entry-id', 'x-offsets', 'entry-offset']);
    expect(Object.keys(read['204'].headers!)).toEqual(['x-last-entry-id']);
    expect(read['400'].content!['application/json'].example).toEqual({ detail: expect.stringMatching(/count/) });
    expect(spec.info.description).toContain('/asyncapi.json');
  });

  it('serves the AsyncAPI document behind the token, describing push, pull and SSE', async () => {
    await request(svc.http).get('/asyncapi.json').expect(401);
    const token = await tokenFor(svc.http);
    const doc = (await request(svc.http).get(`/asyncapi.json?token=${token}`).expect(200)).body;
    expect(doc.asyncapi).toBe('3.0.0');
    const host = svc.http.replace('http://', '');
    expect(doc.servers).toMatchObject({ ws: { host, protocol: 'ws' }, http: { host, protocol: 'http' } });
    expect(Object.values(doc.channels).map((c) => (c as { address: string }).address)).toEqual([
      '/data/{stream_id}/push',
      '/data/{stream_id}/pull',
      '/data/{stream_id}/events',
    ]);
    expect(Object.keys(doc.channels.pull.bindings.ws.query.properties)).toEqual(
      expect.arrayContaining(['last_entry_id', 'count', 'latest', 'header', 'offsets', 'ack', 'max_fps', 'device_id']),
    );
    // every $ref resolves inside the document
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/[^"]+"/g) ?? [];
    for (const ref of refs) {
      const path = ref.slice(10, -1).split('/');
      let node: unknown = doc;
      for (const part of path) node = (node as Record<string, unknown>)?.[part];
      expect([ref, node !== undefined]).toEqual([ref, true]);
    }
  });
});
