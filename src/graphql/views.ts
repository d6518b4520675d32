import { StreamEntry } from '../redis/redis-streams.service';
import { isoTimeOf } from '../streams/dto/stream-info.dto';
import { StreamDescription } from '../streams/stream-catalog.service';
import { DataEntryModel } from './models/data-entry.model';
import { StreamModel } from './models/stream.model';
import { payloadJson, payloadText } from './payload';

/*
 * The objects resolvers return. Text, JSON and time are getters: GraphQL reads only the fields a
 * query selects, so a payload is decoded only when asked for (frames can be megabytes).
 */

function timeOf(id: string | null): string | null {
  return id === null ? null : isoTimeOf(id);
}

/** Where a stream sits: its Redis key, the id it is listed under, and its device. */
export interface StreamName {
  key: string;
  id: string;
  streamId: string;
  deviceId: string | null;
}

export class StreamView implements StreamModel {
  readonly id: string;
  readonly streamId: string;
  readonly deviceId: string | null;
  readonly key: string;
  readonly meta: Record<string, unknown>;
  readonly length: number;
  readonly entriesAdded: number | null;
  readonly groups: number;
  readonly lastGeneratedId: string | null;
  readonly maxDeletedEntryId: string | null;
  readonly recordedFirstEntryId: string | null;
  readonly radixTreeKeys: number;
  readonly radixTreeNodes: number;
  readonly firstEntryId: string | null;
  readonly firstEntryData: Buffer | null;
  readonly lastEntryId: string | null;
  readonly lastEntryData: Buffer | null;
  readonly error: string | null;

  constructor(name: StreamName, { info, meta }: StreamDescription) {
    this.id = name.id;
    this.streamId = name.streamId;
    this.deviceId = name.deviceId;
    this.key = name.key;
    this.meta = meta ?? {};
    this.length = info?.length ?? 0;
    this.entriesAdded = info?.entriesAdded ?? null;
    this.groups = info?.groups ?? 0;
    this.lastGeneratedId = info?.lastGeneratedId ?? null;
    this.maxDeletedEntryId = info?.maxDeletedEntryId ?? null;
    this.recordedFirstEntryId = info?.recordedFirstEntryId ?? null;
    this.radixTreeKeys = info?.radixTreeKeys ?? 0;
    this.radixTreeNodes = info?.radixTreeNodes ?? 0;
    this.firstEntryId = info?.firstEntry?.id ?? null;
    this.firstEntryData = info?.firstEntry?.data ?? null;
    this.lastEntryId = info?.lastEntry?.id ?? null;
    this.lastEntryData = info?.lastEntry?.data ?? null;
    this.error = info ? null : 'no such key';
  }

  get firstEntryTime(): string | null {
    return timeOf(this.firstEntryId);
  }

  get firstEntryString(): string | null {
    return this.firstEntryData && payloadText(this.firstEntryData);
  }

  get firstEntryJson(): unknown {
    return this.firstEntryData && payloadJson(this.firstEntryData);
  }

  get lastEntryTime(): string | null {
    return timeOf(this.lastEntryId);
  }

  get lastEntryString(): string | null {
    return this.lastEntryData && payloadText(this.lastEntryData);
  }

  get lastEntryJson(): unknown {
    return this.lastEntryData && payloadJson(this.lastEntryData);
  }
}

export class DataEntryView implements DataEntryModel {
  constructor(
    readonly streamId: string,
    private readonly entry: StreamEntry,
  ) {}

  get id(): string {
    return this.entry.id;
  }

  get data(): Buffer {
    return this.entry.data;
  }

  get time(): string | null {
    return isoTimeOf(this.entry.id);
  }

  get string(): string | null {
    return payloadText(this.entry.data);
  }

  get json(): unknown {
    return payloadJson(this.entry.data);
  }
}
