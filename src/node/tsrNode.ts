/**
 * The composition root of `tsr-node serve`: one process with the listener (change feed and/or
 * webhook), the worker and the HTTP API, wired from one validated configuration.
 *
 *   config -> API token -> job store -> models (loaded and verified once) -> DICOMweb + Orthanc clients
 *          -> pipeline + job handler -> worker -> intake -> change feed (+ prepare-ahead) -> HTTP API (+ OHIF viewer)
 *
 * Start-up refuses, with a ConfigError naming the problem, when the configuration is invalid, a
 * model does not match its manifest, or the API would be exposed without a token.
 *
 * `stop()` is the graceful shutdown of SIGTERM/SIGINT: the HTTP server stops accepting, the feed
 * stops (a page in progress commits or not at all), a preparation ahead of StableStudy is aborted, running jobs get worker.stopTimeoutMs to
 * finish and then go back to the queue, and the store closes last.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import { resolveApiToken } from '../api/apiToken';
import { createApiApp } from '../api/app';
import { NodeMetrics } from '../api/metrics';
import { checkReadiness, type ReadinessReport } from '../api/readiness';
import type { Config } from '../config/schema';
import { createDicomWebClient, type DicomWebClientHandle } from '../dicomweb/client';
import { releaseModels } from '../inference/models';
import { loadModelSet, modelSetIdentities, modelSetLoadMs, type ModelSet } from '../inference/modelSet';
import type { JobStore } from '../jobs/jobStore';
import { createJobStore } from '../jobs/createJobStore';
import { Worker, type AttemptResult } from '../jobs/worker';
import { createLogger, type Logger } from '../logging/logger';
import { ChangeFeed } from '../orthanc/changeFeed';
import { StudyIntake } from '../orthanc/intake';
import { OrthancRestClient } from '../orthanc/orthancRest';
import { PACKAGE_VERSION } from '../paths';
import type { StudyPipeline } from '../pipeline/analyseStudy';
import { PrepareAhead } from '../pipeline/prepareAhead';
import { PreparedResultCache } from '../pipeline/preparedResults';
import { createStudyJobHandler } from '../pipeline/studyJobHandler';
import { nodeDevice } from '../results/device';
import { VolumeBufferPool } from '../study/volumeBuffers';
import { ensureOhifDist } from '../viewer/ohifDist';
import { createViewerRouter } from '../viewer/viewerRouter';

export interface StartNodeOptions {
  config: Config;
  logger?: Logger;
  /** OHIF's dist folder; default: fetched with ensureOhifDist when api.ohifViewer is on. */
  ohifDistDir?: string;
  /** Called after each job attempt (tests, benchmarks). */
  onAttemptEnd?: (jobId: number, result: AttemptResult, durationMs: number) => void;
  /** Worker poll interval when idle, in ms (default 1000). */
  workerPollIntervalMs?: number;
}

export interface RunningNode {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8787 */
  url: string;
  token: string;
  /** Where the generated token was written, when none was configured. */
  tokenFile?: string;
  config: Config;
  store: JobStore;
  worker: Worker;
  intake: StudyIntake;
  feed?: ChangeFeed;
  /** Present when feed.prepareAhead is on and the change feed runs. */
  prepareAhead?: PrepareAhead;
  metrics: NodeMetrics;
  models: ModelSet;
  dicomWeb: DicomWebClientHandle;
  orthanc: OrthancRestClient;
  server: Server;
  readiness(): Promise<ReadinessReport>;
  /** Resolves once the OHIF viewer is mounted (or failed to be; then it resolves false). */
  viewerReady: Promise<boolean>;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

function orthancAuthorization(c: Config['orthanc']): string | undefined {
  if (c.bearerToken) return `Bearer ${c.bearerToken}`;
  if (c.username !== undefined) return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
  return undefined;
}

/**
 * A router that answers 503 until the viewer is ready (the first start downloads OHIF, about
 * 50 MB, with npm), then serves it.
 */
function lazyViewer(): { router: Router; set(r: Router): void; fail(reason: string): void } {
  let viewer: Router | undefined;
  let failure: string | undefined;
  const router = express.Router();
  router.use((req, res, next) => {
    if (viewer) {
      viewer(req, res, next);
      return;
    }
    if (req.method === 'GET' && (req.path === '/viewer' || req.path.startsWith('/dicom-web'))) {
      res.status(503).type('text/plain').send(failure ? `The viewer is not available: ${failure}\n` : 'The viewer is being prepared (first start); try again in a minute.\n');
      return;
    }
    next();
  });
  return { router, set: (r) => (viewer = r), fail: (reason) => (failure = reason) };
}

export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const cleanups: Array<() => Promise<void> | void> = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  };

  try {
    // 1. The API token first: refuse to start before anything heavy if the API would be open.
    mkdirSync(config.dataDir, { recursive: true });
    const token = resolveApiToken({ token: config.api.token, host: config.api.host, dataDir: config.dataDir });
    if (token.source === 'generated') logger.warn('no API token configured: generated one', { tokenFile: token.file });

    // 2. The job store.
    const store = await createJobStore({ dataDir: config.dataDir, ...(config.jobs.databaseUrl ? { databaseUrl: config.jobs.databaseUrl } : {}) });
    cleanups.push(() => store.close());

    // 3. Models, loaded and verified once.
    const models = await loadModelSet({ ...config.models });
    cleanups.push(() => releaseModels(models));
    const modelList = modelSetIdentities(models);
    logger.info('models loaded and verified', {
      models: modelList.map((model) => `${model.role}: ${model.name}@${model.version} sha256:${model.sha256.slice(0, 12)}`),
      loadMs: Math.round(modelSetLoadMs(models)),
    });

    // 4. PACS clients.
    const connection = { ...config.orthanc, dicomWebUrl: config.orthanc.dicomWebUrl ?? `${config.orthanc.url.replace(/\/+$/, '')}/dicom-web` };
    const dicomWeb = createDicomWebClient(connection, { logger });
    cleanups.push(() => dicomWeb.close());
    const orthanc = new OrthancRestClient(connection, { logger });
    cleanups.push(() => orthanc.close());

    // 5. Pipeline, worker, intake, feed.
    const metrics = new NodeMetrics(PACKAGE_VERSION);
    // Two volumes per study in flight: reusing their memory spares the page faults of fresh memory.
    const volumeBuffers = new VolumeBufferPool({ maxKept: 2 * config.worker.concurrency });
    cleanups.push(() => volumeBuffers.release());
    const pipeline: StudyPipeline = {
      dicomWeb,
      models,
      rules: config.selection,
      results: {
        store: config.results.store,
        srSeriesDescription: config.results.srSeriesDescription,
        scSeriesDescription: config.results.scSeriesDescription,
        device: nodeDevice(config.results.deviceName, config.results.institutionName),
      },
      logger,
      volumeBuffers,
    };
    // Prepare-ahead needs the change feed: only /changes tells of instances still arriving.
    const feedRuns = config.feed.mode !== 'webhook';
    const prepareAhead: PrepareAhead | undefined =
      config.feed.prepareAhead.enabled && feedRuns
        ? new PrepareAhead({
            pipeline,
            orthanc,
            store,
            cache: new PreparedResultCache(),
            quietMs: config.feed.prepareAhead.quietSeconds * 1000,
            // Called from timers only, once the worker below exists.
            isIdle: async (): Promise<boolean> => worker.active === 0 && (await store.countByState()).queued === 0,
            logger,
            onOutcome: (outcome) => metrics.preparedAheadEnded(outcome),
          })
        : undefined;
    if (config.feed.prepareAhead.enabled && !feedRuns) logger.info('prepare-ahead is off: it needs the change feed (feed.mode poll or both)');
    cleanups.push(() => prepareAhead?.stop());
    const worker: Worker = new Worker({
      store,
      handler: createStudyJobHandler({
        pipeline,
        store,
        observer: { stage: (s, ms) => metrics.stage(s, ms), bytesRetrieved: (b) => metrics.addBytesRetrieved(b) },
        ...(prepareAhead ? { prepareAhead } : {}),
      }),
      concurrency: config.worker.concurrency,
      leaseMs: config.worker.leaseMs,
      maxAttempts: config.worker.maxAttempts,
      retryBaseDelayMs: config.worker.retryBaseDelayMs,
      retryMaxDelayMs: config.worker.retryMaxDelayMs,
      logger,
      ...(options.workerPollIntervalMs ? { pollIntervalMs: options.workerPollIntervalMs } : {}),
      onAttemptEnd: (job, result, ms) => {
        metrics.attemptEnded(result, ms);
        options.onAttemptEnd?.(job.id, result, ms);
        prepareAhead?.wake();
      },
    });
    const intake = new StudyIntake({
      store,
      orthanc,
      dicomWeb,
      logger,
      onEnqueued: (job) => {
        if (job.orthancStudyId) prepareAhead?.studyStable(job.orthancStudyId);
        worker.wake();
      },
    });
    const feed = feedRuns
      ? new ChangeFeed({
          store,
          orthanc,
          intake,
          pollSchedule: config.feed.pollSchedule,
          pageSize: config.feed.pageSize,
          logger,
          onEnqueued: () => worker.wake(),
          ...(prepareAhead ? { activity: prepareAhead } : {}),
        })
      : undefined;

    // 6. The HTTP API, with the viewer mounted lazily.
    const readiness = (): Promise<ReadinessReport> =>
      checkReadiness({
        orthanc: async () => {
          const system = await orthanc.system();
          return `Orthanc ${system.Version} at ${orthanc.baseUrl}`;
        },
        models: () => Promise.resolve(modelList.map((model) => `${model.name} ${model.version} (sha256 verified)`).join(', ')),
        store: async () => {
          await (store.checkWritable ? store.checkWritable() : store.getChangeCursor());
          return store.description;
        },
      });
    const viewer = config.api.ohifViewer ? lazyViewer() : undefined;
    const app = createApiApp({
      token: token.token,
      store,
      intake,
      metrics,
      metricsSnapshot: async () => ({
        changeCursor: await store.getChangeCursor(),
        models: modelList,
        workerActive: worker.active,
        workerConcurrency: config.worker.concurrency,
      }),
      readiness,
      version: PACKAGE_VERSION,
      feedMode: config.feed.mode,
      models: modelList,
      maxBodyBytes: config.api.maxBodyBytes,
      ...(viewer ? { viewer: viewer.router } : {}),
      ...(config.api.viewerUrlTemplate ? { viewerUrlTemplate: config.api.viewerUrlTemplate } : {}),
      trustProxy: config.api.trustProxy,
      onQueued: () => worker.wake(),
      logger,
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.api.port, config.api.host);
      s.once('listening', () => resolve(s));
      s.once('error', (err) => reject(err));
    });
    // Bounded request time: a slow client cannot hold a connection for ever.
    server.requestTimeout = 120_000;
    server.headersTimeout = 30_000;
    const closeServer = (): Promise<void> =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    cleanups.push(closeServer);
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;

    let viewerReady: Promise<boolean> = Promise.resolve(false);
    if (viewer) {
      viewerReady = (options.ohifDistDir ? Promise.resolve(options.ohifDistDir) : ensureOhifDist({ logger })).then(
        (dist) => {
          const ca = config.orthanc.caFile ? readFileSync(config.orthanc.caFile, 'utf8') : undefined;
          const authorization = orthancAuthorization(config.orthanc);
          viewer.set(
            createViewerRouter({ ohifDistDir: dist, dicomWebUrl: connection.dicomWebUrl, ...(authorization ? { authorization } : {}), ...(ca ? { ca } : {}), logger }),
          );
          logger.info('OHIF viewer ready', { url: `${url}/viewer` });
          return true;
        },
        (err: unknown) => {
          viewer.fail((err as Error).message);
          logger.warn('the OHIF viewer is not available; the node runs without it', { err });
          return false;
        },
      );
    }

    // 7. Go.
    worker.start();
    feed?.start();
    logger.info('tsr-node serving', {
      url,
      feedMode: config.feed.mode,
      prepareAhead: prepareAhead ? { quietSeconds: config.feed.prepareAhead.quietSeconds } : false,
      concurrency: config.worker.concurrency,
      orthanc: orthanc.baseUrl,
      ...(token.file ? { tokenFile: token.file } : {}),
    });

    let stopping: Promise<void> | undefined;
    const stop = (stopOptions: { timeoutMs?: number } = {}): Promise<void> => {
      stopping ??= (async () => {
        logger.info('stopping: no new work; running jobs may finish', { timeoutMs: stopOptions.timeoutMs ?? config.worker.stopTimeoutMs });
        const serverClosed = closeServer();
        await feed?.stop();
        await prepareAhead?.stop();
        await worker.stop({ timeoutMs: stopOptions.timeoutMs ?? config.worker.stopTimeoutMs });
        await serverClosed;
        cleanups.splice(cleanups.indexOf(closeServer), 1);
        await cleanup();
        logger.info('stopped');
      })();
      return stopping;
    };

    return {
      url,
      token: token.token,
      ...(token.file ? { tokenFile: token.file } : {}),
      config,
      store,
      worker,
      intake,
      ...(feed ? { feed } : {}),
      ...(prepareAhead ? { prepareAhead } : {}),
      metrics,
      models,
      dicomWeb,
      orthanc,
      server,
      readiness,
      viewerReady,
      stop,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
