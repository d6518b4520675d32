import { pullEntries } from '../examples/pull';
import { getToken, pushBatch } from '../examples/push';
import { useService } from './harness';

describe('README example clients', () => {
  const ctx = useService();

  it('push example stores a batch; pull example reads it back from 0 byte for byte', async () => {
    const token = await getToken(ctx.svc.http, 'example', 'example');
    const payloads = Array.from({ length: 25 }, (_, i) => Buffer.from(`value-${i}`));
    const ids = await pushBatch(ctx.svc.ws, token, 'demo', payloads);
    expect(ids).toHaveLength(25);
    const got: { id: string; data: Buffer }[] = [];
    const stop = new AbortController();
    await pullEntries(
      ctx.svc.ws,
      token,
      'demo',
      '0',
      (e) => {
        got.push(e);
        if (got.length === 25) stop.abort();
      },
      stop.signal,
    );
    expect(got.map((e) => e.id)).toEqual(ids);
    expect(got.map((e) => e.data)).toEqual(payloads);
  });
});
