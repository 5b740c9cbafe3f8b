export { loadConfig, type LoadConfigOptions } from './load';
export { configSchema, type Config, type OrthancConfig } from './schema';
export { ENVIRONMENT } from './environment';
