import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { dataKey, isValidDeviceId, streamIdFromKey } from './stream-id';
import { StreamError } from './stream-error';

export const DEFAULT_DEVICE = 'default';

/** Maps (device, stream id) to Redis data keys and back, honouring DEVICE_PREFIXING. */
@Injectable()
export class StreamKeys {
  readonly prefixing: boolean;

  constructor(config: AppConfig) {
    this.prefixing = config.get('DEVICE_PREFIXING');
  }

  /** A validated device id (query `device_id`, default `default`). */
  device(raw: string | undefined | null): string {
    const device = raw ?? DEFAULT_DEVICE;
    if (!isValidDeviceId(device))
      throw new StreamError('BAD_STREAM_ID', `invalid device_id ${JSON.stringify(device.slice(0, 70))}`);
    return device;
  }

  key(device: string, streamId: string): string {
    try {
      return dataKey(device, streamId, this.prefixing);
    } catch (err) {
      throw new StreamError('BAD_STREAM_ID', (err as Error).message);
    }
  }

  streamId(key: string, device: string): string {
    return streamIdFromKey(key, device, this.prefixing);
  }

  /** The metadata key of a data key (Redis Streamer's layout). */
  metaKey(key: string): string {
    return `:stream:meta:${key}`;
  }
}
