#!/usr/bin/env node
// Groups the objects of a V8 heap snapshot by type and constructor (count and self size), or, given
// two snapshots, what grew between them; `--retainers NAME` also prints the commonest retainer
// paths of the group NAME (as printed, e.g. 'object:Buffer') in the last snapshot.
//   node scripts/heap-diff.js a.heapsnapshot [b.heapsnapshot] [--retainers 'object:Buffer']
// Snapshots: `v8.writeHeapSnapshot()`, or `node --heapsnapshot-signal=SIGUSR2` and `kill -USR2 <pid>`.
// Large snapshots need a larger heap: `node --max-old-space-size=4096 scripts/heap-diff.js ...`.
const { readFileSync } = require('node:fs');

const args = process.argv.slice(2);
const at = args.indexOf('--retainers');
const retainersOf = at >= 0 ? args.splice(at, 2)[1] : undefined;
const mib = (b) => (b / 1048576).toFixed(2).padStart(8) + ' MiB';

function load(file) {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: nf, edge_fields: ef, node_types: nt, edge_types: et } = s.snapshot.meta;
  const snap = { s, NF: nf.length, EF: ef.length, types: nt[0], etypes: et[0] };
  Object.assign(snap, {
    iType: nf.indexOf('type'),
    iName: nf.indexOf('name'),
    iSize: nf.indexOf('self_size'),
    iEdges: nf.indexOf('edge_count'),
    eType: ef.indexOf('type'),
    eName: ef.indexOf('name_or_index'),
    eTo: ef.indexOf('to_node'),
  });
  return snap;
}

function group(snap, n) {
  const { s, NF, types, iType, iName } = snap;
  const type = types[s.nodes[n * NF + iType]];
  if (type.endsWith('string')) return 'string';
  if (type === 'number' || type === 'code') return type;
  return `${type}:${s.strings[s.nodes[n * NF + iName]].slice(0, 60)}`;
}

function groups(snap) {
  const out = new Map();
  for (let n = 0; n < snap.s.nodes.length / snap.NF; n++) {
    const g = out.get(group(snap, n)) ?? { n: 0, size: 0 };
    g.n++;
    g.size += snap.s.nodes[n * snap.NF + snap.iSize];
    out.set(group(snap, n), g);
  }
  return out;
}

/** The commonest paths of up to 5 retainers (strong edges, element indexes folded) of `name`. */
function retainers(snap, name) {
  const { s, NF, EF, etypes, iEdges, eType, eName, eTo } = snap;
  const count = s.nodes.length / NF;
  const from = Array.from({ length: count }, () => []);
  for (let n = 0, e = 0; n < count; n++) {
    for (let k = 0; k < s.nodes[n * NF + iEdges]; k++, e += EF) {
      if (etypes[s.edges[e + eType]] !== 'weak') from[s.edges[e + eTo] / NF].push([n, e]);
    }
  }
  const label = (e) => {
    const t = etypes[s.edges[e + eType]];
    const name = t === 'element' || t === 'hidden' ? '' : String(s.strings[s.edges[e + eName]]);
    return name === '' || /^\d+$/.test(name) ? '[i]' : name;
  };
  const paths = new Map();
  for (let n = 0; n < count; n++) {
    if (group(snap, n) !== name) continue;
    let path = name;
    for (let cur = n, d = 0; d < 5 && from[cur].length; d++) {
      const [owner, e] = from[cur][0];
      path += ` <-${label(e)}- ${group(snap, owner)}`;
      cur = owner;
    }
    paths.set(path, (paths.get(path) ?? 0) + 1);
  }
  return [...paths].sort((a, b) => b[1] - a[1]).slice(0, 10);
}

const snaps = args.map(load);
const [a, b] = snaps.map(groups);
const rows = [...new Set([...a.keys(), ...(b ?? new Map()).keys()])].map((k) => {
  const x = a.get(k) ?? { n: 0, size: 0 };
  const y = b ? (b.get(k) ?? { n: 0, size: 0 }) : { n: 0, size: 0 };
  return b ? { k, n: y.n - x.n, size: y.size - x.size, of: `${x.n} -> ${y.n}` } : { k, ...x, of: '' };
});
rows.sort((p, q) => q.size - p.size);
console.log(b ? 'self size grown, objects grown (before -> after), group' : 'self size, objects, group');
for (const r of rows.slice(0, 30)) console.log(`${mib(r.size)} ${String(r.n).padStart(9)} ${r.of.padEnd(20)} ${r.k}`);
if (retainersOf) for (const [path, n] of retainers(snaps[snaps.length - 1], retainersOf)) console.log(n, path);
