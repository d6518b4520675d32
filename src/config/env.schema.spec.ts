import { validateEnv } from './env.schema';

describe('validateEnv', () => {
  it('applies the documented defaults', () => {
    const env = validateEnv({});
    expect(env).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      STREAM_MAXLEN: 1000,
      WS_MAX_PAYLOAD: 64 * 1024 * 1024,
      PUSH_MAX_IN_FLIGHT: 4 * 1024 * 1024,
      DEVICE_PREFIXING: true,
      JWT_EXPIRES_IN: '12h',
      LOG_LEVEL: 'log',
    });
    expect(env.REDIS_URL).toBeUndefined();
  });

  it('converts numbers and booleans', () => {
    const env = validateEnv({ PORT: '9001', DEVICE_PREFIXING: 'false', STREAM_MAXLEN: '0', METRICS_PUBLIC: '1' });
    expect(env.PORT).toBe(9001);
    expect(env.DEVICE_PREFIXING).toBe(false);
    expect(env.STREAM_MAXLEN).toBe(0);
    expect(env.METRICS_PUBLIC).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['STREAM_MAXLEN', '-1'],
    ['WS_MAX_PAYLOAD', '12'],
    ['PUSH_MAX_IN_FLIGHT', '100'],
    ['PUSH_MAX_IN_FLIGHT', 'lots'],
    ['DEVICE_PREFIXING', 'maybe'],
    ['REDIS_URL', 'localhost:6379'],
    ['JWT_SECRET', 'short'],
    ['JWT_EXPIRES_IN', 'forever'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
  ])('refuses a bad %s and names it', (name, value) => {
    expect(() => validateEnv({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:[\\s\\S]*\\b${name}:`));
  });

  it('lists every bad variable at once', () => {
    expect(() => validateEnv({ PORT: 'x', LOG_LEVEL: 'y' })).toThrow(/PORT:[\s\S]*LOG_LEVEL:|LOG_LEVEL:[\s\S]*PORT:/);
  });

  it('refuses production without JWT_SECRET or with AUTH_DEV_MODE=true', () => {
    expect(() => validateEnv({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required/);
    expect(() => validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), AUTH_DEV_MODE: 'true' })).toThrow(
      /AUTH_DEV_MODE/,
    );
  });

  it('turns development mode on by default only for a loopback service without a users file', () => {
    expect(validateEnv({}).AUTH_DEV_MODE).toBe(true);
    expect(validateEnv({ HOST: '0.0.0.0' }).AUTH_DEV_MODE).toBe(false);
    expect(validateEnv({ AUTH_USERS_FILE: 'users.json' }).AUTH_DEV_MODE).toBe(false);
    expect(validateEnv({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).AUTH_DEV_MODE).toBe(false);
    expect(validateEnv({ HOST: '0.0.0.0', AUTH_DEV_MODE: 'true' }).AUTH_DEV_MODE).toBe(true);
    expect(validateEnv({ AUTH_DEV_MODE: 'false' }).AUTH_DEV_MODE).toBe(false);
  });
});
