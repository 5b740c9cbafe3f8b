#!/usr/bin/env node
'use strict';
// Entry point of the `tsr-node` command. The TypeScript sources are compiled to dist/ by `npm run build`.
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  console.error('tsr-node is not built yet: run `npm run build` in ' + path.join(__dirname, '..'));
  process.exit(2);
}
require(main)
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; });
