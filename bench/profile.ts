/**
 * `node dist-bench/bench/profile.js <file.cpuprofile> [top=25]`: self time of a V8 CPU profile
 * (written by `npm run bench -- <part> --profile`) by function and by package/file, counting only
 * the measured windows recorded beside it (`<file>.windows.json`) when that file exists.
 */
import { existsSync, readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `file:///…/node_modules/ws/lib/sender.js` → `ws/lib/sender.js`; dist paths → their src name. */
function shortUrl(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) return `src/${path.slice(dist + '/dist/'.length)}`;
  return path;
}

/** What a frame belongs to: an npm package, a service file, node's internals, or V8 itself. */
function owner(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const short = shortUrl(url);
  if (short.startsWith('node:')) return short.split('/').slice(0, 2).join('/');
  if (short.startsWith('src/')) return short;
  const parts = short.split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Self time by function and by owner; with `windows` (monotonic µs), only samples inside them. */
export function summarise(profile: CpuProfile, top = 25, windows?: [number, number][]): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let total = 0;
  let t = profile.startTime;
  const inside = (at: number): boolean => !windows?.length || windows.some(([a, b]) => at >= a && at <= b);
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i];
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (!inside(t)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  });
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? ` ${shortUrl(url)}:${lineNumber + 1}` : '';
    const fn = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byOwner.set(owner(node), (byOwner.get(owner(node)) ?? 0) + us);
  }
  const busy = total - (byOwner.get('(idle)') ?? 0);
  const rows = (m: Map<string, number>): string[] =>
    [...m]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`,
      );
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle (percentages are of that)`,
    '',
    'self time by package / file:',
    ...rows(byOwner),
    '',
    'self time by function:',
    ...rows(byFunction),
  ].join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist-bench/bench/profile.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const windows = existsSync(`${file}.windows.json`)
    ? JSON.parse(readFileSync(`${file}.windows.json`, 'utf8'))
    : undefined;
  console.log(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top) || 25, windows));
}
