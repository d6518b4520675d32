import { NoSchemaIntrospectionCustomRule, ValidationRule } from 'graphql';
import { AppConfig } from '../config/app-config';
import { queryLimits } from './query-limits.rule';

/**
 * Deepest query and most fields one operation may have. The schema itself is at most 3 levels
 * deep (devices → streams → field); introspection queries, which go deeper, must fit too.
 */
export const QUERY_LIMITS = { maxDepth: 15, maxFields: 500 };

/** GRAPHQL_INTROSPECTION, by default on outside production. */
export function graphqlIntrospection(config: AppConfig): boolean {
  return config.get('GRAPHQL_INTROSPECTION') ?? config.get('NODE_ENV') !== 'production';
}

/** Rules Apollo adds to GraphQL's own over HTTP (it adds the introspection rule itself). */
export function httpValidationRules(): ValidationRule[] {
  return [queryLimits(QUERY_LIMITS)];
}

/** The same rules for operations over WebSocket, which graphql-ws validates without Apollo. */
export function wsValidationRules(introspection: boolean): ValidationRule[] {
  return introspection ? httpValidationRules() : [...httpValidationRules(), NoSchemaIntrospectionCustomRule];
}
