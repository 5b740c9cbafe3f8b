/**
 * TSR_* environment variables and the config fields they override. One table, so that the
 * documentation (docs/configuration.md) and the code cannot drift apart silently: a test checks
 * every variable here is documented.
 */
export type EnvKind = 'string' | 'int' | 'bool';

export interface EnvBinding {
  variable: string;
  path: string[];
  kind: EnvKind;
}

export const ENVIRONMENT: EnvBinding[] = [
  { variable: 'TSR_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { variable: 'TSR_LOG_LEVEL', path: ['logLevel'], kind: 'string' },
  { variable: 'TSR_ORTHANC_URL', path: ['orthanc', 'url'], kind: 'string' },
  { variable: 'TSR_DICOMWEB_URL', path: ['orthanc', 'dicomWebUrl'], kind: 'string' },
  { variable: 'TSR_ORTHANC_USERNAME', path: ['orthanc', 'username'], kind: 'string' },
  { variable: 'TSR_ORTHANC_PASSWORD', path: ['orthanc', 'password'], kind: 'string' },
  { variable: 'TSR_ORTHANC_PASSWORD_FILE', path: ['orthanc', 'passwordFile'], kind: 'string' },
  { variable: 'TSR_ORTHANC_BEARER_TOKEN', path: ['orthanc', 'bearerToken'], kind: 'string' },
  { variable: 'TSR_ORTHANC_BEARER_TOKEN_FILE', path: ['orthanc', 'bearerTokenFile'], kind: 'string' },
  { variable: 'TSR_ORTHANC_CA_FILE', path: ['orthanc', 'caFile'], kind: 'string' },
  { variable: 'TSR_FEED_MODE', path: ['feed', 'mode'], kind: 'string' },
  { variable: 'TSR_FEED_POLL_SCHEDULE', path: ['feed', 'pollSchedule'], kind: 'string' },
  { variable: 'TSR_FEED_PREPARE_AHEAD', path: ['feed', 'prepareAhead', 'enabled'], kind: 'bool' },
  { variable: 'TSR_WORKER_CONCURRENCY', path: ['worker', 'concurrency'], kind: 'int' },
  { variable: 'TSR_DATABASE_URL', path: ['jobs', 'databaseUrl'], kind: 'string' },
  { variable: 'TSR_DATABASE_PASSWORD_FILE', path: ['jobs', 'databasePasswordFile'], kind: 'string' },
  { variable: 'TSR_MODELS_DIR', path: ['models', 'dir'], kind: 'string' },
  { variable: 'TSR_MODELS_THREADS', path: ['models', 'intraOpThreads'], kind: 'int' },
  { variable: 'TSR_MODELS_EXECUTION_PROVIDER', path: ['models', 'executionProvider'], kind: 'string' },
  { variable: 'TSR_RESULTS_STORE', path: ['results', 'store'], kind: 'bool' },
  { variable: 'TSR_API_HOST', path: ['api', 'host'], kind: 'string' },
  { variable: 'TSR_API_PORT', path: ['api', 'port'], kind: 'int' },
  { variable: 'TSR_API_TOKEN', path: ['api', 'token'], kind: 'string' },
  { variable: 'TSR_API_TOKEN_FILE', path: ['api', 'tokenFile'], kind: 'string' },
  { variable: 'TSR_VIEWER_URL_TEMPLATE', path: ['api', 'viewerUrlTemplate'], kind: 'string' },
  { variable: 'TSR_API_OHIF_VIEWER', path: ['api', 'ohifViewer'], kind: 'bool' },
];
