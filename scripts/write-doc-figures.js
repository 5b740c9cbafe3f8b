#!/usr/bin/env node
'use strict';
// Writes the evaluation figures of README.md and docs/model-card.md from the reports committed
// under docs/evaluation/<report>/evaluation.json (src/evaluation/docFigures.ts: the markers and
// what they hold). `--check` writes nothing and exits 1 when a document disagrees with the
// reports. Runs from the sources through tsx (a dev dependency).
const path = require('node:path');
const fs = require('node:fs');
require('tsx/cjs');
const { FIGURE_DOCUMENTS, loadDocReports, writeDocumentFigures, writeFigures } = require('../src/evaluation/docFigures.ts');

const root = path.join(__dirname, '..');
const reports = loadDocReports();
if (process.argv.includes('--check')) {
  const stale = FIGURE_DOCUMENTS.filter((doc) => {
    const text = fs.readFileSync(path.join(root, doc), 'utf8');
    return writeFigures(text, reports) !== text;
  });
  if (stale.length) {
    console.error(`figures differ from docs/evaluation/: ${stale.join(', ')} (run node scripts/write-doc-figures.js)`);
    process.exit(1);
  }
  console.error(`figures agree with docs/evaluation/ (${Object.keys(reports).join(', ')})`);
} else {
  const changed = writeDocumentFigures(root, reports);
  console.error(changed.length ? `wrote figures into ${changed.join(', ')}` : 'figures already up to date');
}
