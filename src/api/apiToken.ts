/**
 * The API's bearer token. From the configuration (api.token, api.tokenFile or TSR_API_TOKEN)
 * when given. Without one, the API must not be reachable from the network: on a non-loopback
 * host the node refuses to start; on loopback it generates a token once and keeps it in
 * `dataDir/api-token` (mode 0600, readable only by the node's user), so that it survives restarts
 * and an administrator on the machine can read it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../errors';

export const API_TOKEN_FILE = 'api-token';

/** Whether a bind address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

export interface ResolvedApiToken {
  token: string;
  /** Where the token was written or read, when it was not configured. */
  file?: string;
  source: 'config' | 'generated' | 'token-file';
}

export function resolveApiToken(options: { token?: string; host: string; dataDir: string }): ResolvedApiToken {
  if (options.token) return { token: options.token, source: 'config' };
  if (!isLoopbackHost(options.host)) {
    throw new ConfigError(
      `api.host is "${options.host}", which is reachable from the network, and no API token is configured. ` +
        'Set api.token (or api.tokenFile, or TSR_API_TOKEN) to a random string of at least 16 characters, e.g. `openssl rand -hex 32`.',
    );
  }
  const file = path.resolve(options.dataDir, API_TOKEN_FILE);
  const readExisting = (): ResolvedApiToken => {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new ConfigError(`${file}: the API token in it is shorter than 16 characters; delete the file to get a new one`);
    chmodSync(file, 0o600);
    return { token, file, source: 'token-file' };
  };
  if (existsSync(file)) return readExisting();
  mkdirSync(path.dirname(file), { recursive: true });
  const token = randomBytes(32).toString('hex');
  try {
    // 'wx': never overwrite a file another process wrote meanwhile.
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readExisting();
    throw new ConfigError(`cannot write the generated API token to ${file}: ${(err as Error).message}`);
  }
  chmodSync(file, 0o600);
  return { token, file, source: 'generated' };
}
