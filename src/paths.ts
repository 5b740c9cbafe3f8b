import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's root folder (where package.json is), found by walking up from this file, so it
 * is the same whether the code runs from src/ (tests, through tsx) or from dist/src/ (built).
 */
export const PROJECT_ROOT: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = parent;
  }
})();

export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
