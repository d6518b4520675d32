import { StreamError } from '../streams/stream-error';
import { StreamIdError } from '../streams/stream-id';
import { namedStreams, streamPath } from './rest-query';

describe('REST stream paths', () => {
  it('joins wildcard segments back; an encoded slash arrives inside its segment', () => {
    expect(streamPath(['site1', 'cam'])).toBe('site1/cam');
    expect(streamPath(['site1/cam'])).toBe('site1/cam');
    expect(namedStreams(['cam+mic'])).toEqual(['cam', 'mic']);
    expect(namedStreams(['cam mic'])).toEqual(['cam', 'mic']);
  });

  it('keeps /push and /pull for the WebSocket endpoints, unless the slash is encoded', () => {
    expect(() => streamPath(['cam', 'pull'])).toThrow(StreamError);
    expect(() => streamPath(['cam', 'push'])).toThrow(/WebSocket endpoint/);
    expect(streamPath(['cam/pull'])).toBe('cam/pull');
    expect(streamPath(['pull'])).toBe('pull');
  });

  it('refuses patterns and bad ids on reads', () => {
    expect(() => namedStreams(['*'])).toThrow(/patterns are not served/);
    expect(() => namedStreams(['imu*'])).toThrow(/patterns are not served/);
    expect(() => namedStreams(['a..b'])).toThrow(StreamIdError);
    expect(() => namedStreams([])).toThrow(StreamIdError);
  });
});
