import { GraphQLError, Kind, SelectionSetNode, ValidationContext, ValidationRule } from 'graphql';

export interface QueryLimits {
  /** Deepest nesting of selections (fragments expanded). */
  maxDepth: number;
  /** Most field selections in one operation (fragments counted each time they are spread). */
  maxFields: number;
}

interface Measure {
  depth: number;
  fields: number;
}

/**
 * Rejects operations that nest deeper than `maxDepth` or select more than `maxFields` fields,
 * before anything runs: a bound on the work (and the Redis calls) one request can cause, whatever
 * aliases and fragments it uses. Fragments are measured once each, so a fragment bomb costs
 * nothing to measure, and a fragment cycle (reported by the standard rules) ends the walk.
 */
export function queryLimits({ maxDepth, maxFields }: QueryLimits): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, Measure>();
    const measuring = new Set<string>();

    const measure = (set: SelectionSetNode | undefined): Measure => {
      const total: Measure = { depth: 0, fields: 0 };
      for (const sel of set?.selections ?? []) {
        let inner: Measure;
        if (sel.kind === Kind.FIELD) {
          const sub = measure(sel.selectionSet);
          inner = { depth: sub.depth + 1, fields: sub.fields + 1 };
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(sel.selectionSet);
        } else {
          inner = fragment(sel.name.value);
        }
        total.depth = Math.max(total.depth, inner.depth);
        total.fields += inner.fields;
      }
      return total;
    };

    const fragment = (name: string): Measure => {
      const known = fragments.get(name);
      if (known) return known;
      if (measuring.has(name)) return { depth: 0, fields: 0 };
      measuring.add(name);
      const result = measure(context.getFragment(name)?.selectionSet);
      measuring.delete(name);
      fragments.set(name, result);
      return result;
    };

    return {
      OperationDefinition(node) {
        const { depth, fields } = measure(node.selectionSet);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Query is nested ${depth} levels deep; the limit is ${maxDepth}`, { nodes: [node] }),
          );
        }
        if (fields > maxFields) {
          context.reportError(
            new GraphQLError(`Query selects ${fields} fields; the limit is ${maxFields}`, { nodes: [node] }),
          );
        }
      },
    };
  };
}
