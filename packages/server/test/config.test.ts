/**
 * Settings from flags and environment variables: precedence, forms, defaults.
 * (Refusing bad values end to end is in cli.test.ts.)
 */

import { ConfigError, DEFAULT_CONFIG, parseCommandLine } from '../src/index';

describe('parseCommandLine', () => {
  it('uses the documented defaults', () => {
    const { help, config } = parseCommandLine([], {});
    expect(help).toBe(false);
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({
      port: 7171,
      host: '0.0.0.0',
      maxKeys: 5_000_000,
      maxBytes: 1_610_612_736,
      maxKeyBytes: 1024,
      maxValueBytes: 1_048_576,
      logLevel: 'info',
      logRequests: false,
      shutdownTimeoutMs: 5000,
    });
  });

  it('reads environment variables, and flags win over them', () => {
    const env = { PORT: '9000', MAX_KEYS: '1_000', LOG_LEVEL: 'WARN', HOST: '127.0.0.1' };
    expect(parseCommandLine([], env).config).toMatchObject({ port: 9000, maxKeys: 1000, logLevel: 'warn', host: '127.0.0.1' });
    const { config } = parseCommandLine(['--port', '9100', '--max-keys=2000'], env);
    expect(config).toMatchObject({ port: 9100, maxKeys: 2000, logLevel: 'warn' });
  });

  it('takes a bare --log-requests as true, and an explicit value otherwise', () => {
    expect(parseCommandLine(['--log-requests'], {}).config.logRequests).toBe(true);
    expect(parseCommandLine(['--log-requests', '--port', '1'], {}).config).toMatchObject({ logRequests: true, port: 1 });
    expect(parseCommandLine(['--log-requests=false'], {}).config.logRequests).toBe(false);
    expect(parseCommandLine([], { LOG_REQUESTS: 'yes' }).config.logRequests).toBe(true);
  });

  it('recognises --help and -h', () => {
    expect(parseCommandLine(['--help'], {}).help).toBe(true);
    expect(parseCommandLine(['-h'], {}).help).toBe(true);
  });

  it('names the setting and its source in errors', () => {
    expect(() => parseCommandLine(['--port'], {})).toThrow(new ConfigError('--port needs a value'));
    expect(() => parseCommandLine([], { PORT: '1.5' })).toThrow(/invalid PORT="1.5": must be an integer from 0 to 65535/);
    expect(() => parseCommandLine([], { MAX_KEY_BYTES: '0' })).toThrow(/invalid MAX_KEY_BYTES="0"/);
    expect(() => parseCommandLine([], { HOST: '' })).toThrow(/invalid HOST=""/);
    expect(() => parseCommandLine([], { LOG_REQUESTS: 'maybe' })).toThrow(/must be true or false/);
  });
});
