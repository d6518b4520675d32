import { text } from '../args';
import type { Command } from '../command';
import { table } from '../output';

export const ls: Command = {
  name: 'ls',
  usage: '',
  summary: "list a device's streams with their length and last entry",
  optionHelp: '  --match GLOB       only streams whose id matches (`*` = any run of characters)',
  options: { match: { type: 'string' } },
  args: { min: 0, max: 0 },
  run: async (ctx) => {
    const streams = await ctx.client().streams({ deviceId: ctx.deviceId, match: text(ctx.values, 'match') });
    if (ctx.json) return ctx.out(JSON.stringify(streams));
    const rows = streams.map((s) => [s.streamId, s.length, s.lastEntryTime ?? '-', s.lastEntryId ?? s.error ?? '-']);
    ctx.out(table(['STREAM', 'LENGTH', 'LAST ENTRY TIME', 'LAST ID'], rows));
  },
};

/** A value of `info` as one short line. */
function shown(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export const info: Command = {
  name: 'info',
  usage: '<stream_id>',
  summary: 'describe one stream: XINFO fields, first and last entry, metadata',
  args: { min: 1, max: 1 },
  run: async (ctx) => {
    const description = await ctx.client().info(ctx.positionals[0], { deviceId: ctx.deviceId });
    if (ctx.json) return ctx.out(JSON.stringify(description));
    const rows = Object.entries(description).map(([k, v]) => [k, shown(v)]);
    ctx.out(table(['FIELD', 'VALUE'], rows));
  },
};

export const devices: Command = {
  name: 'devices',
  usage: '',
  summary: 'list connected devices (--all: every device ever seen) and their streams',
  optionHelp: '  --all              every device ever seen, not only connected ones',
  options: { all: { type: 'boolean' } },
  args: { min: 0, max: 0 },
  run: async (ctx) => {
    const list = await ctx.client().devices({ includeAll: ctx.values.all === true });
    if (ctx.json) return ctx.out(JSON.stringify(list));
    const rows = list.map((d) => [d.id, d.connected ? 'yes' : 'no', d.streamIds.length, d.streamIds.join(' ')]);
    ctx.out(table(['DEVICE', 'CONNECTED', 'STREAMS', 'STREAM IDS'], rows));
  },
};
