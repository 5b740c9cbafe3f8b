'use strict';
/**
 * Preloaded (node --require) by scripts/test-node-versions.js: makes `require('better-sqlite3')`
 * load the copy in $TSR_BETTER_SQLITE3_COPY, compiled for the Node that runs the tests, instead of
 * node_modules/better-sqlite3, which stays compiled for the Node that ran `npm ci`.
 */
const Module = require('node:module');

const copy = process.env.TSR_BETTER_SQLITE3_COPY;
if (copy) {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function resolveToCopy(request, ...rest) {
    return resolve.call(this, request === 'better-sqlite3' ? copy : request, ...rest);
  };
}
