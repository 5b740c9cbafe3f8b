#!/usr/bin/env node
'use strict';
/**
 * Makes sure the Debian packages that the tests and the demo need are installed.
 * As root it installs what is missing with apt-get; otherwise it prints the exact command and fails.
 * Usage: node scripts/ensure-system-deps.js [--demo]   (--demo: only what `tsr-node demo` needs)
 */
const { existsSync, readdirSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

const demoOnly = process.argv.includes('--demo');
const checks = [
  { pkg: 'orthanc', ok: () => existsSync('/usr/sbin/Orthanc') },
  { pkg: 'orthanc-dicomweb', ok: () => existsSync('/usr/share/orthanc/plugins/libOrthancDicomWeb.so') },
  { pkg: 'fonts-dejavu-core', ok: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') },
];
if (!demoOnly) {
  checks.push(
    { pkg: 'dicom3tools', ok: () => existsSync('/usr/bin/dciodvfy') },
    { pkg: 'chromium', ok: () => existsSync('/usr/bin/chromium') },
    { pkg: 'python3-torch', ok: () => pyImports('torch') },
    { pkg: 'python3-onnx', ok: () => pyImports('onnx') },
    { pkg: 'python3-pydicom', ok: () => pyImports('pydicom') },
    // Debian's torch uses the system BLAS; OpenBLAS makes training ~10x faster than netlib.
    { pkg: 'libopenblas0-pthread', ok: () => existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3') },
    { pkg: 'fonts-noto-cjk', ok: () => existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc') },
    // The PostgreSQL job store's tests start their own cluster (test/harness/postgres.ts); no service is enabled.
    { pkg: 'postgresql', ok: () => postgresInstalled() },
  );
}

function postgresInstalled() {
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((version) => existsSync(`${root}/${version}/bin/initdb`));
}

function pyImports(mod) {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
}

const missing = checks.filter((c) => !c.ok()).map((c) => c.pkg);
if (missing.length === 0) process.exit(0);
const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
if (typeof process.getuid === 'function' && process.getuid() === 0) {
  console.error(`Installing missing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const r = spawnSync('sh', ['-c', command], { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get failed (exit ${r.status}). Run by hand: ${command}`);
    process.exit(1);
  }
  process.exit(0);
}
console.error(`Missing Debian packages: ${missing.join(' ')}\nInstall them as root with:\n  ${command}`);
process.exit(1);
