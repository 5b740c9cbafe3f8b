/**
 * The OHIF viewer, prebuilt: the `dist/` folder of the npm package @ohif/app, pinned to one version
 * and its registry integrity hash. The package cannot be an npm dependency (its manifest names
 * workspace packages that are not published), so it is fetched once with `npm pack` (the ordinary
 * npm client, the project's registry and cache), checked against the pinned sha512, and unpacked
 * into a cache folder. Later calls find it there.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PermanentError, TransientError } from '../errors';
import { silentLogger, type Logger } from '../logging/logger';
import { PROJECT_ROOT } from '../paths';

const run = promisify(execFile);

export const OHIF_PACKAGE = '@ohif/app';
export const OHIF_VERSION = '3.13.2';
/** `npm view @ohif/app@3.13.2 dist.integrity` */
export const OHIF_INTEGRITY = 'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==';

/** node_modules/.cache/tsr-node: gone with `npm ci`, like every other dependency. */
export function defaultOhifCacheDir(): string {
  return path.join(PROJECT_ROOT, 'node_modules', '.cache', 'tsr-node');
}

/** Where the dist folder of the pinned version lives inside `cacheDir`. */
export function ohifDistDir(cacheDir: string = defaultOhifCacheDir()): string {
  return path.join(cacheDir, `ohif-app-${OHIF_VERSION}`, 'dist');
}

export function isOhifDist(dir: string): boolean {
  return existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'app-config.js'));
}

/** The dist folder, fetched and unpacked first if it is not in the cache yet. */
export async function ensureOhifDist(options: { cacheDir?: string; logger?: Logger } = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? defaultOhifCacheDir();
  const logger = options.logger ?? silentLogger;
  const target = ohifDistDir(cacheDir);
  if (isOhifDist(target)) return target;

  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(path.join(cacheDir, 'ohif-download-'));
  try {
    logger.info('fetching the OHIF viewer', { package: `${OHIF_PACKAGE}@${OHIF_VERSION}` });
    try {
      await run('npm', ['pack', `${OHIF_PACKAGE}@${OHIF_VERSION}`, '--pack-destination', work, '--silent'], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      throw new TransientError(`npm pack ${OHIF_PACKAGE}@${OHIF_VERSION} failed: ${(err as Error).message}`, err);
    }
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new PermanentError(`npm pack ${OHIF_PACKAGE}@${OHIF_VERSION} wrote no tarball`);
    const integrity = 'sha512-' + createHash('sha512').update(readFileSync(path.join(work, tarball))).digest('base64');
    if (integrity !== OHIF_INTEGRITY) {
      throw new PermanentError(`${OHIF_PACKAGE}@${OHIF_VERSION}: integrity ${integrity} is not the pinned ${OHIF_INTEGRITY}`);
    }
    await run('tar', ['-xzf', path.join(work, tarball), '-C', work, 'package/dist']);
    const unpacked = path.join(work, 'package');
    if (!isOhifDist(path.join(unpacked, 'dist'))) throw new PermanentError(`${OHIF_PACKAGE}@${OHIF_VERSION}: the tarball has no dist/index.html`);
    try {
      renameSync(unpacked, path.dirname(target));
    } catch (err) {
      // Another process unpacked it at the same time: theirs is as good as ours.
      if (!isOhifDist(target)) throw err;
    }
    logger.info('OHIF viewer ready', { dir: target });
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
