/**
 * The HTTP side of `tsr-node serve`: readiness (Orthanc, the model set, the job store, each
 * reported), the API app with the status page and metrics, the optional OHIF viewer, and the
 * listening server with bounded request times.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResolvedApiToken } from '../api/apiToken';
import { createApiApp } from '../api/app';
import type { NodeMetrics } from '../api/metrics';
import { checkReadiness, type ReadinessReport } from '../api/readiness';
import type { Config } from '../config/schema';
import type { StageIdentity } from '../inference/result';
import type { JobStore } from '../jobs/jobStore';
import type { Logger } from '../logging/logger';
import type { OrthancRestClient } from '../orthanc/orthancRest';
import { PACKAGE_VERSION } from '../paths';
import type { NodeWork } from './nodeWork';
import { lazyViewer, mountViewerWhenReady } from './nodeViewer';

export interface NodeHttpOptions {
  config: Config;
  token: ResolvedApiToken;
  store: JobStore;
  orthanc: OrthancRestClient;
  /** The model set, stage by stage. */
  modelList: StageIdentity[];
  work: Pick<NodeWork, 'worker' | 'intake' | 'feed'>;
  /** This node's id (dataDir/node-id): marked in the nodes list. */
  nodeId: string;
  metrics: NodeMetrics;
  /** The DICOMweb root the viewer's proxy forwards to. */
  dicomWebUrl: string;
  ohifDistDir?: string;
  logger: Logger;
}

export interface NodeHttp {
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  readiness: () => Promise<ReadinessReport>;
  /** Resolves once the OHIF viewer is mounted (or failed to be; then it resolves false). */
  viewerReady: Promise<boolean>;
  /** Stops accepting, closes idle connections, and the rest after 2 s. */
  close: () => Promise<void>;
}

/** Readiness: can the node do its work now? Each check names what it checked. */
export function nodeReadiness(store: JobStore, orthanc: OrthancRestClient, modelList: StageIdentity[]): () => Promise<ReadinessReport> {
  return () =>
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
}

function listen(app: ReturnType<typeof createApiApp>, config: Config): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = app.listen(config.api.port, config.api.host);
    server.once('listening', () => resolve(server));
    server.once('error', (err) => reject(err));
  });
}

export async function startNodeHttp(options: NodeHttpOptions): Promise<NodeHttp> {
  const { config, store, work, logger } = options;
  const readiness = nodeReadiness(store, options.orthanc, options.modelList);
  const viewer = config.api.ohifViewer ? lazyViewer() : undefined;
  const app = createApiApp({
    token: options.token.token,
    store,
    intake: work.intake,
    metrics: options.metrics,
    metricsSnapshot: async () => ({
      changeCursor: await store.getChangeCursor(),
      models: options.modelList,
      workerActive: work.worker.active,
      waitingFor: work.worker.waitingFor,
      workerConcurrency: config.worker.concurrency,
      followsFeed: work.feed?.following ?? false,
    }),
    readiness,
    version: PACKAGE_VERSION,
    nodeId: options.nodeId,
    feedMode: config.feed.mode,
    models: options.modelList,
    maxBodyBytes: config.api.maxBodyBytes,
    ...(viewer ? { viewer: viewer.router } : {}),
    ...(config.api.viewerUrlTemplate ? { viewerUrlTemplate: config.api.viewerUrlTemplate } : {}),
    trustProxy: config.api.trustProxy,
    onQueued: () => work.worker.wake(),
    logger,
  });
  const server = await listen(app, config);
  // Bounded request time: a slow client cannot hold a connection for ever.
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const viewerReady = viewer
    ? mountViewerWhenReady({ viewer, config, dicomWebUrl: options.dicomWebUrl, url, ...(options.ohifDistDir ? { ohifDistDir: options.ohifDistDir } : {}), logger })
    : Promise.resolve(false);
  return { server, url, readiness, viewerReady, close };
}
