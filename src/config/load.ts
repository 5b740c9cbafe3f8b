import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { ENVIRONMENT, type EnvKind } from './environment';
import { configSchema, type Config } from './schema';

export interface LoadConfigOptions {
  /** JSON config file; TSR_CONFIG names one when this is absent. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

function convert(variable: string, raw: string, kind: EnvKind): unknown {
  if (kind === 'string') return raw;
  if (kind === 'int') {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${variable}: expected an integer, got "${raw}"`);
    return Number(raw);
  }
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${variable}: expected true or false, got "${raw}"`);
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Reads, merges and validates the configuration; throws ConfigError with every problem listed. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.TSR_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  for (const binding of ENVIRONMENT) {
    const value = env[binding.variable];
    if (value !== undefined && value !== '') setPath(raw, binding.path, convert(binding.variable, value, binding.kind));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration${file ? ` (${file})` : ''}:\n${z.prettifyError(parsed.error)}`);
  }
  const config = parsed.data;
  // Secrets given as files are read once here, so the rest of the node sees plain values.
  if (config.orthanc.passwordFile) config.orthanc.password = readSecretFile(config.orthanc.passwordFile, 'orthanc.passwordFile');
  if (config.orthanc.bearerTokenFile) config.orthanc.bearerToken = readSecretFile(config.orthanc.bearerTokenFile, 'orthanc.bearerTokenFile');
  if (config.api.tokenFile) config.api.token = readSecretFile(config.api.tokenFile, 'api.tokenFile');
  if (config.api.token !== undefined && config.api.token.length < 16) throw new ConfigError('api token: at least 16 characters');
  config.orthanc.dicomWebUrl ??= config.orthanc.url.replace(/\/+$/, '') + '/dicom-web';
  return config;
}
