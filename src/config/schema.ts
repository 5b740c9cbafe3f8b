/**
 * The node's one configuration schema. Every field has a default (or is optional) and is
 * documented in docs/configuration.md; keep the two in step.
 *
 * Values come from a JSON file (`--config FILE` or TSR_CONFIG) and then from TSR_* environment
 * variables (see environment.ts), and are validated here at start-up.
 */
import { z } from 'zod';
import { selectionRulesSchema } from '../study/selectionRules';

const positiveInt = z.number().int().positive();

export const orthancSchema = z
  .object({
    /** Orthanc's REST root: /changes, /system and /studies live here. */
    url: z.url().default('http://127.0.0.1:8042'),
    /** DICOMweb root (QIDO-RS, WADO-RS, STOW-RS). Defaults to `${url}/dicom-web`. */
    dicomWebUrl: z.url().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Read the password from this file instead (e.g. a Docker or Kubernetes secret). */
    passwordFile: z.string().optional(),
    /** Bearer token instead of basic auth (e.g. behind an authorising proxy). */
    bearerToken: z.string().optional(),
    bearerTokenFile: z.string().optional(),
    /** PEM file with extra CA certificates for https:// URLs. */
    caFile: z.string().optional(),
    /** Longest silence from the PACS (no answer, or no next piece of a response), in ms; not a cap on a whole download. */
    requestTimeoutMs: positiveInt.default(60_000),
    /** Parallel WADO-RS requests per job. */
    retrieveConcurrency: positiveInt.default(2),
    /** Attempts per HTTP request on 5xx and connection errors (1 = no retry). */
    requestAttempts: positiveInt.default(3),
    /** First backoff between HTTP attempts, in ms; doubles each time. */
    requestBackoffMs: positiveInt.default(250),
  })
  .strict();

export const prepareAheadSchema = z
  .object({
    /**
     * Analyse a study while Orthanc still waits for it to be stable (needs the change feed:
     * feed.mode poll or both), and only store the results at StableStudy.
     */
    enabled: z.boolean().default(true),
    /** Seconds without a new instance before a study is prepared; keep it well below Orthanc's StableAge. */
    quietSeconds: z.number().positive().max(3600).default(10),
  })
  .strict();

export const feedSchema = z
  .object({
    /** `poll`: follow Orthanc's /changes; `webhook`: only the Lua script's POSTs; `both`. */
    mode: z.enum(['poll', 'webhook', 'both']).default('poll'),
    /** node-cron schedule of the /changes poll (six fields: seconds first). */
    pollSchedule: z.string().default('*/3 * * * * *'),
    /** Changes asked for per /changes page. */
    pageSize: positiveInt.max(1000).default(200),
    /**
     * Several nodes on one job store: one follows /changes, holding a lease of this many ms in the
     * store, renewed every third of it; when it dies another node takes over within about
     * leaseMs + leaseMs / 3.
     */
    leaseMs: positiveInt.min(3000).max(600_000).default(15_000),
    prepareAhead: prepareAheadSchema.prefault({}),
  })
  .strict();

export const workerSchema = z
  .object({
    /** Jobs analysed at once. 1 suits a 2-core machine; the model itself uses several threads. */
    concurrency: positiveInt.default(1),
    /** Attempts of a job before it is dead-lettered (state `failed`). */
    maxAttempts: positiveInt.default(5),
    /** First retry delay of a job, in ms; doubles per attempt up to retryMaxDelayMs. */
    retryBaseDelayMs: positiveInt.default(10_000),
    retryMaxDelayMs: positiveInt.default(15 * 60_000),
    /**
     * How long a claimed job stays claimed without a heartbeat, in ms (renewed every third of it).
     * A node that restarts frees its earlier life's jobs at once; another node takes over a dead
     * node's jobs when their leases run out.
     */
    leaseMs: positiveInt.min(3000).default(30_000),
    /**
     * While the PACS does not answer, the node asks it again after 2 s, then twice as long each
     * time, up to this pause (ms); jobs wait meanwhile without spending attempts.
     */
    pacsProbeMaxIntervalMs: positiveInt.min(100).default(30_000),
    /** On SIGTERM/SIGINT, how long running jobs may take to finish before they go back to the queue, in ms. */
    stopTimeoutMs: positiveInt.default(30_000),
  })
  .strict();

export const jobsSchema = z
  .object({
    /**
     * The job store. Absent: SQLite (`jobs.sqlite` in dataDir). `sqlite:PATH`: a SQLite file
     * elsewhere. `postgres://USER@HOST:PORT/DATABASE`: PostgreSQL, for several nodes on one
     * database. Stores plug in by URL scheme (src/jobs/createJobStore.ts).
     */
    databaseUrl: z.string().min(1).optional(),
    /** A file holding the database password, for a `postgres:` URL without one (else PGPASSWORD). */
    databasePasswordFile: z.string().min(1).optional(),
  })
  .strict();

export const modelsSchema = z
  .object({
    /** Folder holding the ONNX files and their manifests. */
    dir: z.string().default('models'),
    /** Manifest names (without .json). */
    classifier: z.string().default('tsr-clip-fusion'),
    localizer: z.string().default('tsr-localizer'),
    /**
     * The cascade's first stage (pancreas model), loaded only when the localiser's manifest
     * names one (preprocessing.localizer.roi); it must be the model named there.
     */
    pancreas: z.string().default('tsr-pancreas'),
    /** onnxruntime intra-op threads. */
    intraOpThreads: positiveInt.default(2),
    /** onnxruntime execution provider. */
    executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
  })
  .strict();

export const resultsSchema = z
  .object({
    /** Write the SR and SC back to the PACS. false = analyse and record only. */
    store: z.boolean().default(true),
    /** Shown in the viewer's series list. */
    srSeriesDescription: z.string().max(64).default('TSR AI report (research use)'),
    scSeriesDescription: z.string().max(64).default('TSR AI overlay (research use)'),
    /** Station name / device observer name written into the results. */
    deviceName: z.string().max(16).default('TSR-NODE'),
    institutionName: z.string().max(64).optional(),
    /**
     * The node's earlier results of a study, once new results supersede them (new input or a new
     * model): `keep` them in the PACS and record them superseded, or `delete` them from Orthanc.
     */
    superseded: z.enum(['keep', 'delete']).default('keep'),
  })
  .strict();

export const apiSchema = z
  .object({
    /** Interface the HTTP API binds to. Anything but loopback exposes it to the network. */
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Bearer token required by every route but /healthz. */
    token: z.string().min(16).optional(),
    tokenFile: z.string().optional(),
    /** Largest accepted request body. */
    maxBodyBytes: positiveInt.default(64 * 1024),
    /** Viewer link for a study; `{StudyInstanceUID}` is replaced. Empty = the node's own OHIF viewer when it is on, else no links. */
    viewerUrlTemplate: z.string().default(''),
    /** Serve the OHIF viewer (fetched once with npm into node_modules/.cache) and its read-only DICOMweb proxy. */
    ohifViewer: z.boolean().default(true),
    /** Behind a reverse proxy on this machine or the local network: trust its X-Forwarded-For/-Proto headers. */
    trustProxy: z.boolean().default(false),
  })
  .strict();

export const configSchema = z
  .object({
    /** Job store, cursor and working files. */
    dataDir: z.string().default('data'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    orthanc: orthancSchema.prefault({}),
    feed: feedSchema.prefault({}),
    worker: workerSchema.prefault({}),
    jobs: jobsSchema.prefault({}),
    selection: selectionRulesSchema.prefault({}),
    models: modelsSchema.prefault({}),
    results: resultsSchema.prefault({}),
    api: apiSchema.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type OrthancConfig = z.infer<typeof orthancSchema>;
