#!/usr/bin/env node
'use strict';
// Writes docs/images/synthetic-profiles.png, the figure of docs/synthetic-data.md ("Centre
// profiles"): one study of the baseline and of each randomised centre profile side by side, the
// pancreatic and the portal-venous slice through the tumour (src/synthetic/previewImage.ts, the
// same drawing as `tsr-node synth --preview`). Each study at its profile's own matrix; the
// randomised ones with 9 slices around the tumour (the drawn thickness and interval) to keep it quick. Runs from the
// sources through tsx (a dev dependency).
const path = require('node:path');
const fs = require('node:fs');
require('tsx/cjs');
const { generateStudy } = require('../src/synthetic/index.ts');
const { previewPng } = require('../src/synthetic/previewImage.ts');

const FIGURE = path.join(__dirname, '..', 'docs', 'images', 'synthetic-profiles.png');
const STUDIES = [
  ['baseline', 1000003],
  ['training', 1000001],
  ['training', 1000002],
  ['training-synthseg', 1000004],
  ['heldout-thin-lowdose', 1000005],
  ['heldout-thick-older', 1000006],
  ['heldout-384', 1000007],
];

async function main() {
  // The baseline keeps its 100 slices (fewer would be thicker); the profiles keep their thickness.
  const studies = STUDIES.map(([profile, seed]) => generateStudy({ seed, profile, extras: 'none', encoding: 'int16', ...(profile === 'baseline' ? {} : { slices: 9 }) }));
  fs.writeFileSync(FIGURE, await previewPng(studies));
  console.error(`wrote ${path.relative(process.cwd(), FIGURE)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
