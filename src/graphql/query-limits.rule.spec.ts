import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { queryLimits } from './query-limits.rule';

const schema = buildSchema(`
  type Node { id: String! child: Node children: [Node!]! }
  type Query { node: Node nodes: [Node!]! }
`);

function errors(query: string, maxDepth = 3, maxFields = 10): string[] {
  return validate(schema, parse(query), [...specifiedRules, queryLimits({ maxDepth, maxFields })]).map(
    (e) => e.message,
  );
}

describe('queryLimits', () => {
  it('accepts queries within both limits', () => {
    expect(errors('{ node { child { id } } }')).toEqual([]);
  });

  it('rejects a query nested deeper than the limit', () => {
    expect(errors('{ node { child { child { id } } } }')).toEqual(['Query is nested 4 levels deep; the limit is 3']);
  });

  it('follows fragments and inline fragments when measuring depth', () => {
    const query = `{ node { ...F } } fragment F on Node { child { ... on Node { child { id } } } }`;
    expect(errors(query)).toEqual(['Query is nested 4 levels deep; the limit is 3']);
  });

  it('counts aliased fields and every use of a fragment', () => {
    expect(errors('{ a: node { id } b: node { id } c: node { id } }', 3, 5)).toEqual([
      'Query selects 6 fields; the limit is 5',
    ]);
    const query = `{ node { ...F ...F2 } } fragment F on Node { id child { id } } fragment F2 on Node { a: child { ...F } }`;
    // node + (id + child + id) + (a + id + child + id)
    expect(errors(query, 5, 7)).toEqual(['Query selects 8 fields; the limit is 7']);
  });

  it('measures a fragment bomb without expanding it', () => {
    const frags = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i} on Node { a: child { ...F${i + 1} } b: child { ...F${i + 1} } }`,
    );
    const query = `{ node { ...F0 } } ${frags.join(' ')} fragment F30 on Node { id }`;
    const started = Date.now();
    expect(errors(query, 100, 1000).some((m) => m.startsWith('Query selects'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('survives fragment cycles (reported by the standard rules)', () => {
    const query = '{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }';
    expect(errors(query).some((m) => /cycle|itself/i.test(m))).toBe(true);
  });
});
