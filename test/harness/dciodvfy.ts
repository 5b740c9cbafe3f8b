/**
 * Runs dciodvfy (Debian's dicom3tools) on a Part-10 file and splits its report into errors and
 * warnings, for conformance tests of every object the project writes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface DciodvfyReport {
  errors: string[];
  warnings: string[];
  /** The IOD dciodvfy recognised (e.g. "CTImage"), when it printed one. */
  iod?: string;
  raw: string;
}

export function dciodvfy(fileOrBuffer: string | Uint8Array): DciodvfyReport {
  if (!existsSync('/usr/bin/dciodvfy')) {
    throw new Error('dciodvfy is missing: apt-get update && apt-get install -y dicom3tools');
  }
  let file: string;
  let tmp: string | undefined;
  if (typeof fileOrBuffer === 'string') {
    file = fileOrBuffer;
  } else {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tsr-dciodvfy-'));
    file = path.join(tmp, 'object.dcm');
    writeFileSync(file, fileOrBuffer);
  }
  try {
    const run = spawnSync('/usr/bin/dciodvfy', ['-new', file], { encoding: 'utf8' });
    const raw = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
    const iod = lines.find((l) => /^[A-Za-z0-9]+$/.test(l));
    return {
      errors: lines.filter((l) => l.startsWith('Error')),
      warnings: lines.filter((l) => l.startsWith('Warning')),
      ...(iod ? { iod } : {}),
      raw,
    };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
