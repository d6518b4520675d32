import { StreamError } from '../streams/stream-error';

/** A JSON argument that must be an object (metadata): BAD_USER_INPUT otherwise. */
export function jsonObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StreamError('BAD_REQUEST', `${name} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}
