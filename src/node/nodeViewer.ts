/**
 * The OHIF viewer of `tsr-node serve`, mounted lazily: its router answers 503 until the viewer is
 * ready (the first start downloads OHIF, about 50 MB, with npm), then serves it with the read-only
 * DICOMweb proxy to Orthanc. A viewer that cannot be had leaves the node running without it.
 */
import { readFileSync } from 'node:fs';
import express, { type Router } from 'express';
import type { Config } from '../config/schema';
import type { Logger } from '../logging/logger';
import { ensureOhifDist } from '../viewer/ohifDist';
import { createViewerRouter } from '../viewer/viewerRouter';

export interface LazyViewer {
  /** Mount this on the API app at once; it serves the viewer once ready. */
  router: Router;
  set(viewer: Router): void;
  fail(reason: string): void;
}

/** The Authorization header the viewer's proxy sends to Orthanc, from the node's credentials. */
export function orthancAuthorization(orthanc: Config['orthanc']): string | undefined {
  if (orthanc.bearerToken) return `Bearer ${orthanc.bearerToken}`;
  if (orthanc.username !== undefined) return 'Basic ' + Buffer.from(`${orthanc.username}:${orthanc.password ?? ''}`).toString('base64');
  return undefined;
}

/**
 * A router that answers 503 until the viewer is ready (the first start downloads OHIF, about
 * 50 MB, with npm), then serves it.
 */
export function lazyViewer(): LazyViewer {
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

export interface MountViewerOptions {
  viewer: LazyViewer;
  config: Config;
  /** The DICOMweb root the proxy forwards to. */
  dicomWebUrl: string;
  /** The node's own URL, for the log line. */
  url: string;
  /** OHIF's dist folder; default: fetched with ensureOhifDist. */
  ohifDistDir?: string;
  logger: Logger;
}

/** Fetches OHIF when needed and mounts it; resolves true once mounted, false when it cannot be. */
export function mountViewerWhenReady(options: MountViewerOptions): Promise<boolean> {
  const { viewer, config, logger } = options;
  return (options.ohifDistDir ? Promise.resolve(options.ohifDistDir) : ensureOhifDist({ logger })).then(
    (dist) => {
      const ca = config.orthanc.caFile ? readFileSync(config.orthanc.caFile, 'utf8') : undefined;
      const authorization = orthancAuthorization(config.orthanc);
      viewer.set(createViewerRouter({ ohifDistDir: dist, dicomWebUrl: options.dicomWebUrl, ...(authorization ? { authorization } : {}), ...(ca ? { ca } : {}), logger }));
      logger.info('OHIF viewer ready', { url: `${options.url}/viewer` });
      return true;
    },
    (err: unknown) => {
      viewer.fail((err as Error).message);
      logger.warn('the OHIF viewer is not available; the node runs without it', { err });
      return false;
    },
  );
}
