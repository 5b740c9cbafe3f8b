/**
 * The composition root of `tsr-node serve`: one process with the listener (change feed and/or
 * webhook), the worker and the HTTP API, wired from one validated configuration.
 *
 *   config -> API token -> job store -> model set (loaded and verified once) -> DICOMweb + Orthanc clients
 *          -> pipeline + job handler -> worker -> intake -> change feed (+ prepare-ahead)   (nodeWork.ts)
 *          -> readiness, HTTP API (+ OHIF viewer)                                          (nodeHttp.ts, nodeViewer.ts)
 *
 * Start-up refuses, with a ConfigError naming the problem, when the configuration is invalid, a
 * model does not match its manifest, or the API would be exposed without a token.
 *
 * `stop()` is the graceful shutdown of SIGTERM/SIGINT: the HTTP server stops accepting, the feed
 * stops (a page in progress commits or not at all), a preparation ahead of StableStudy is aborted, running jobs get worker.stopTimeoutMs to
 * finish and then go back to the queue, and the store closes last.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolveApiToken } from '../api/apiToken';
import { NodeMetrics } from '../api/metrics';
import type { ReadinessReport } from '../api/readiness';
import type { Config } from '../config/schema';
import { createDicomWebClient, type DicomWebClientHandle } from '../dicomweb/client';
import { releaseModels } from '../inference/models';
import { loadModelSet, modelSetIdentities, modelSetLoadMs, type ModelSet } from '../inference/modelSet';
import { createJobStore } from '../jobs/createJobStore';
import type { JobStore } from '../jobs/jobStore';
import type { AttemptResult, Worker } from '../jobs/worker';
import { createLogger, type Logger } from '../logging/logger';
import type { ChangeFeed } from '../orthanc/changeFeed';
import type { StudyIntake } from '../orthanc/intake';
import { OrthancRestClient } from '../orthanc/orthancRest';
import { PACKAGE_VERSION } from '../paths';
import type { PrepareAhead } from '../pipeline/prepareAhead';
import { startNodeHttp } from './nodeHttp';
import { startNodeLife, type NodeIdentity } from './nodeIdentity';
import { registerNode } from './nodeRegistry';
import { createNodeWork } from './nodeWork';

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
  /** Who this node is (node id, boot id, lease owner). */
  identity: NodeIdentity;
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

/** What runs when stop() is called, newest first; each step's failure does not stop the others. */
class Cleanups {
  private readonly steps: Array<() => Promise<void> | void> = [];

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  remove(step: () => Promise<void> | void): void {
    const index = this.steps.indexOf(step);
    if (index >= 0) this.steps.splice(index, 1);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  }
}

/** The job store and the model set, opened and verified before anything listens. */
async function openStoreAndModels(config: Config, logger: Logger, cleanups: Cleanups): Promise<{ store: JobStore; models: ModelSet }> {
  const store = await createJobStore({ dataDir: config.dataDir, ...config.jobs });
  cleanups.push(() => store.close());
  const models = await loadModelSet({ ...config.models });
  cleanups.push(() => releaseModels(models));
  logger.info('models loaded and verified', {
    models: modelSetIdentities(models).map((model) => `${model.role}: ${model.name}@${model.version} sha256:${model.sha256.slice(0, 12)}`),
    loadMs: Math.round(modelSetLoadMs(models)),
  });
  return { store, models };
}

/** The DICOMweb and Orthanc REST clients, with the DICOMweb root filled in. */
function openPacsClients(config: Config, logger: Logger, cleanups: Cleanups): { dicomWeb: DicomWebClientHandle; orthanc: OrthancRestClient; dicomWebUrl: string } {
  const connection = { ...config.orthanc, dicomWebUrl: config.orthanc.dicomWebUrl ?? `${config.orthanc.url.replace(/\/+$/, '')}/dicom-web` };
  const dicomWeb = createDicomWebClient(connection, { logger });
  cleanups.push(() => dicomWeb.close());
  const orthanc = new OrthancRestClient(connection, { logger });
  cleanups.push(() => orthanc.close());
  return { dicomWeb, orthanc, dicomWebUrl: connection.dicomWebUrl };
}

/** Jobs an earlier life of this node held when it died run again at once, not after their leases. */
async function freeEarlierLives(store: JobStore, identity: NodeIdentity, logger: Logger): Promise<void> {
  const freed = await store.releaseEarlierLives(identity.ownerPrefix, identity.owner, {
    code: 'node-restarted',
    message: 'the node stopped while this attempt ran (crash, kill or power loss); it was started again and runs the job again',
  });
  if (freed.length > 0) logger.warn('jobs held by an earlier life of this node go back to the queue', { jobIds: freed.map((job) => job.id), nodeId: identity.nodeId });
  // The change feed too, when an earlier life followed it: this life asks for it at once.
  const feedLease = await store.getFeedLease();
  if (feedLease && feedLease.owner.startsWith(identity.ownerPrefix) && feedLease.owner !== identity.owner) {
    await store.releaseFeedLease(feedLease.owner);
    logger.warn('the change feed lease held by an earlier life of this node is released', { nodeId: identity.nodeId });
  }
}

export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const cleanups = new Cleanups();
  try {
    // 1. The API token first: refuse to start before anything heavy if the API would be open.
    mkdirSync(config.dataDir, { recursive: true });
    const token = resolveApiToken({ token: config.api.token, host: config.api.host, dataDir: config.dataDir });
    if (token.source === 'generated') logger.warn('no API token configured: generated one', { tokenFile: token.file });

    // 2-3. Who this node is; the job store; the model set, loaded and verified once.
    const identity = startNodeLife(config.dataDir, logger);
    const { store, models } = await openStoreAndModels(config, logger, cleanups);
    const modelList = modelSetIdentities(models);
    const registered = await registerNode({ store, identity, version: PACKAGE_VERSION, ttlMs: config.worker.leaseMs, logger });
    cleanups.push(() => registered.stop());

    // 4. PACS clients.
    const { dicomWeb, orthanc, dicomWebUrl } = openPacsClients(config, logger, cleanups);

    // 5. Pipeline, worker, intake, feed.
    const metrics = new NodeMetrics(PACKAGE_VERSION, identity.nodeId);
    const work = createNodeWork({
      config,
      store,
      models,
      dicomWeb,
      orthanc,
      metrics,
      logger,
      owner: identity.owner,
      ...(options.onAttemptEnd ? { onAttemptEnd: options.onAttemptEnd } : {}),
      ...(options.workerPollIntervalMs ? { workerPollIntervalMs: options.workerPollIntervalMs } : {}),
    });
    cleanups.push(() => work.release());

    // 6. The HTTP API, with the viewer mounted lazily.
    const http = await startNodeHttp({ config, token, store, orthanc, modelList, work, metrics, dicomWebUrl, nodeId: identity.nodeId, ...(options.ohifDistDir ? { ohifDistDir: options.ohifDistDir } : {}), logger });
    cleanups.push(http.close);

    // 7. Go: first take back what an earlier life of this node held when it died.
    if (identity.mayFreeEarlierLives) await freeEarlierLives(store, identity, logger);
    work.worker.start();
    work.feed?.start();
    logger.info('tsr-node serving', {
      url: http.url,
      feedMode: config.feed.mode,
      prepareAhead: work.prepareAhead ? { quietSeconds: config.feed.prepareAhead.quietSeconds } : false,
      nodeId: identity.nodeId,
      owner: identity.owner,
      concurrency: config.worker.concurrency,
      orthanc: orthanc.baseUrl,
      ...(token.file ? { tokenFile: token.file } : {}),
    });

    let stopping: Promise<void> | undefined;
    const stop = (stopOptions: { timeoutMs?: number } = {}): Promise<void> => {
      const timeoutMs = stopOptions.timeoutMs ?? config.worker.stopTimeoutMs;
      stopping ??= (async () => {
        logger.info('stopping: no new work; running jobs may finish', { timeoutMs });
        const serverClosed = http.close();
        await work.feed?.stop();
        await work.prepareAhead?.stop();
        await work.worker.stop({ timeoutMs });
        await serverClosed;
        cleanups.remove(http.close);
        await cleanups.run();
        logger.info('stopped');
      })();
      return stopping;
    };

    return {
      url: http.url,
      token: token.token,
      ...(token.file ? { tokenFile: token.file } : {}),
      config,
      identity,
      store,
      worker: work.worker,
      intake: work.intake,
      ...(work.feed ? { feed: work.feed } : {}),
      ...(work.prepareAhead ? { prepareAhead: work.prepareAhead } : {}),
      metrics,
      models,
      dicomWeb,
      orthanc,
      server: http.server,
      readiness: http.readiness,
      viewerReady: http.viewerReady,
      stop,
    };
  } catch (err) {
    await cleanups.run();
    throw err;
  }
}
