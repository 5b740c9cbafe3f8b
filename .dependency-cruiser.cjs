/**
 * dependency-cruiser config for `npm run lint`: the import graph of src/ has no circle and its
 * arrows only go down the floors below. Rooms are the folders under src/ (and the file
 * src/paths.ts); a room may import from itself and from the rooms listed for it, nothing else.
 * bench/ and test/ may import anything in src/, so they are not cruised.
 */

/** Rooms at the bottom: pure helpers and definitions that import nothing above them. */
const FOUNDATION = ['paths', 'errors', 'logging', 'common', 'statistics', 'dicom'];

/** For each room, the other rooms it may import from. */
const MAY_IMPORT = {
  // The foundation rooms import only from each other.
  paths: FOUNDATION,
  errors: FOUNDATION,
  logging: FOUNDATION,
  common: FOUNDATION,
  statistics: FOUNDATION,
  dicom: FOUNDATION,
  // The DICOMweb client and the job queue stand on the foundation alone.
  dicomweb: FOUNDATION,
  jobs: FOUNDATION,
  // Reading a study (series choice, volumes) fetches over DICOMweb.
  study: [...FOUNDATION, 'dicomweb'],
  // The models run on a study's volumes.
  inference: [...FOUNDATION, 'dicomweb', 'study'],
  // Synthetic studies are built as the study room reads them.
  synthetic: [...FOUNDATION, 'study'],
  // Orthanc's side: DICOMweb calls and jobs.
  orthanc: [...FOUNDATION, 'dicomweb', 'jobs'],
  // The SR and Secondary Capture written from an analysis.
  results: [...FOUNDATION, 'dicomweb', 'study', 'inference'],
  // Training datasets from real or synthetic studies.
  dataset: [...FOUNDATION, 'dicomweb', 'study', 'inference', 'synthetic'],
  // Evaluation on synthetic cohorts, through the dataset's extraction.
  evaluation: [...FOUNDATION, 'dicomweb', 'study', 'inference', 'synthetic', 'dataset'],
  // One study's job: fetch, analyse, store the results back.
  pipeline: [...FOUNDATION, 'dicomweb', 'jobs', 'study', 'inference', 'orthanc', 'results'],
  // The configuration schema names study-selection settings.
  config: [...FOUNDATION, 'study'],
  // The HTTP API and the viewer show jobs and talk to Orthanc.
  api: [...FOUNDATION, 'jobs', 'orthanc'],
  viewer: [...FOUNDATION, 'jobs', 'orthanc'],
  // The node wires every room together, but never reaches into the CLI.
  node: [
    ...FOUNDATION, 'dicomweb', 'jobs', 'study', 'inference', 'synthetic', 'orthanc', 'results',
    'dataset', 'evaluation', 'pipeline', 'config', 'api', 'viewer',
  ],
  // The CLI sits on top and may import every room.
  cli: [
    ...FOUNDATION, 'dicomweb', 'jobs', 'study', 'inference', 'synthetic', 'orthanc', 'results',
    'dataset', 'evaluation', 'pipeline', 'config', 'api', 'viewer', 'node',
  ],
};

/** A regular expression matching the files of the given rooms (a folder, or paths.ts). */
function roomsPattern(rooms) {
  return `^src/(${rooms.join('|')})(/|\\.ts$)`;
}

/** One rule per room: an import from it into any room of src/ not in its list is an error. */
const layerRules = Object.entries(MAY_IMPORT).map(([room, allowed]) => ({
  name: `layer-${room}`,
  comment: `src/${room} may import only from itself and from: ${allowed.join(', ')}`,
  severity: 'error',
  from: { path: roomsPattern([room]) },
  to: { path: '^src/', pathNot: roomsPattern([room, ...allowed]) },
}));

module.exports = {
  forbidden: [
    {
      // A circle between files, type-only imports included, makes load order and layering fragile.
      name: 'no-circular',
      comment: 'no circular dependency between files of src/',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      // A file in a new folder must first be given its place in MAY_IMPORT above.
      name: 'room-not-in-layer-table',
      comment: 'a file of src/ that is in no room of the layer table imports from src/',
      severity: 'error',
      from: { path: '^src/', pathNot: roomsPattern(Object.keys(MAY_IMPORT)) },
      to: { path: '^src/' },
    },
    {
      // Production code never depends on the benchmarks or the tests.
      name: 'src-not-to-bench-or-test',
      comment: 'src/ must not import from bench/ or test/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(bench|test)/' },
    },
    ...layerRules,
  ],
  options: {
    // Our code is all we check; packages are leaves.
    doNotFollow: { path: 'node_modules' },
    // Count `import type` too: a type-only arrow up is still an arrow up.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
