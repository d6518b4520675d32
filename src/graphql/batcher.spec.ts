import { Batcher, RequestBatchers } from './batcher';

describe('Batcher', () => {
  it('loads the keys asked for in one turn with one call, each key once', async () => {
    const calls: string[][] = [];
    const batcher = new Batcher(async (keys: string[]) => {
      calls.push(keys);
      return keys.map((k) => k.toUpperCase());
    });
    const results = await Promise.all([batcher.load('a'), batcher.loadMany(['b', 'a']), batcher.load('c')]);
    expect(results).toEqual(['A', ['B', 'A'], 'C']);
    expect(calls).toEqual([['a', 'b', 'c']]);
    expect(await batcher.load('b')).toBe('B');
    expect(calls).toHaveLength(1); // cached for the batcher's lifetime
    expect(await batcher.load('d')).toBe('D');
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('rejects every waiter of a failed batch and forgets the keys', async () => {
    let fail = true;
    const batcher = new Batcher(async (keys: string[]) => {
      if (fail) throw new Error('down');
      return keys;
    });
    await expect(Promise.all([batcher.load('a'), batcher.load('b')])).rejects.toThrow('down');
    fail = false;
    expect(await batcher.load('a')).toBe('a');
  });

  it('keeps one batcher per request object', () => {
    const batchers = new RequestBatchers(async (keys: string[]) => keys);
    const r1 = {};
    expect(batchers.for(r1)).toBe(batchers.for(r1));
    expect(batchers.for({})).not.toBe(batchers.for(r1));
  });
});
