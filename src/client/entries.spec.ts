import { parsePushHeader, planEntries, splitBlob } from '../data-gateway/push-codec';
import { decodeMessage, encodeBatch, toBytes } from './entries';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

describe('encodeBatch', () => {
  it('writes start offsets (first 0) and the payloads back to back', () => {
    const { header, blob } = encodeBatch([bytes('aaa'), bytes('bbbb'), bytes('cc')]);
    expect(header).toBe('[0,3,7]');
    expect(str(blob)).toBe('aaabbbbcc');
  });

  it('keeps empty payloads, including a batch of only empty ones', () => {
    expect(encodeBatch([bytes(''), bytes('x'), bytes('')]).header).toBe('[0,0,1]');
    const empty = encodeBatch([bytes(''), bytes('')]);
    expect(empty.header).toBe('[0,0]');
    expect(empty.blob.length).toBe(0);
  });

  it('refuses an empty batch', () => {
    expect(() => encodeBatch([])).toThrow(RangeError);
  });

  it("is split back into the same entries by the service's own codec (offsets=start)", () => {
    const payloads = ['', 'é', 'two', '', 'x'.repeat(1000)].map(bytes);
    const { header, blob } = encodeBatch(payloads);
    const plan = planEntries(parsePushHeader(header), blob.length, ['s'], 'start');
    expect(splitBlob(Buffer.from(blob), plan).map(str)).toEqual(payloads.map(str));
  });

  it('encodes text as UTF-8', () => {
    expect(Array.from(toBytes('é'))).toEqual([0xc3, 0xa9]);
  });
});

describe('decodeMessage', () => {
  it('splits a pull message at its start offsets, with the time from each id', () => {
    const header = JSON.stringify([
      ['a', '1700000000000-0', 0],
      ['b', '1700000000001-5', 2],
      ['a', '1700000000002-0', 2],
    ]);
    const entries = decodeMessage(header, bytes('hiyou'));
    expect(entries.map((e) => [e.streamId, e.id, e.time, str(e.data)])).toEqual([
      ['a', '1700000000000-0', 1700000000000, 'hi'],
      ['b', '1700000000001-5', 1700000000001, ''],
      ['a', '1700000000002-0', 1700000000002, 'you'],
    ]);
  });

  it('round-trips encodeBatch offsets', () => {
    const payloads = ['x', '', 'yz'].map(bytes);
    const { header, blob } = encodeBatch(payloads);
    const rows = (JSON.parse(header) as number[]).map((o, i) => ['s', `${i + 1}-0`, o]);
    expect(decodeMessage(JSON.stringify(rows), blob).map((e) => str(e.data))).toEqual(['x', '', 'yz']);
  });

  it('refuses malformed headers and offsets outside the blob', () => {
    expect(() => decodeMessage('{"a":1}', bytes(''))).toThrow(/malformed/);
    expect(() => decodeMessage('[["a","1-0","0"]]', bytes(''))).toThrow(/malformed/);
    expect(() => decodeMessage('[["a","1-0",5]]', bytes('abc'))).toThrow(/outside/);
    expect(() => decodeMessage('[["a","1-0",2],["a","2-0",1]]', bytes('abc'))).toThrow(/outside/);
  });
});
