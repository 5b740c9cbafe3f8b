/**
 * `tsr-node dataset build`: a training dataset for the kit in models/training/, cut by the node's
 * own volume assembly and preprocessing (docs/dataset-builder.md).
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../config';
import { createDicomWebClient } from '../../dicomweb/client';
import { buildDataset, type BuildDatasetOptions, type DatasetSource } from '../../dataset/buildDataset';
import { parseLabelsCsv } from '../../dataset/labels';
import { loadStudyVolumes } from '../../inference/studyRetrieval';
import { createLogger } from '../../logging/logger';
import { parseSeedRange } from '../../common/seedRanges';
import { integerOption, parseCommandArgs } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node dataset build --out DATASET SOURCE [options]

Writes DATASET/manifest.json, DATASET/crops/*.npy (the classifier's inputs) and, when the tumour
mask is known (synthetic studies), DATASET/localizer/*.npy (the localiser's inputs and targets),
all cut by the node's own volume assembly and preprocessing.

SOURCE, one of:
  --synthetic-seeds A..B        generate studies A..B in memory (training seeds: below 1000000)
      [--columns N] [--slices N]  image size (default 512 x 512, 100 slices per phase, or the profile's)
      [--profile NAME]            centre profile (default baseline; training, training-synthseg;
                                  held-out profiles are refused)
  --from-folder DIR             one sub-folder per study, Part-10 files (tsr-node synth --out DIR)
      [--ground-truth]            use each study's ground-truth.json: centres, findings text, masks
      [--labels labels.csv]       StudyInstanceUID,label[,centreX,centreY,centreZ] (required without --ground-truth)
  --from-dicomweb URL           studies listed in --labels, from a DICOMweb server
      --labels labels.csv         (credentials: TSR_ORTHANC_USERNAME / _PASSWORD or --config FILE)

Options:
  --workers N                   worker threads (default: number of CPUs)
  --config FILE                 node configuration (models for studies without a centre; credentials)
  --no-progress                 no progress bar on stderr
`;

/** Input problems (bad arguments, labels file, seed range, configuration, output folder): exit 2 with the message. */
const INPUT_ERRORS = new Set(['UsageError', 'DatasetBuildError', 'SeedRangeError', 'LabelsFileError', 'ConfigError', 'CentreProfileError']);


export const command: Command = {
  summary: 'build a training dataset with the node’s own preprocessing (dataset build …)',
  usage: USAGE,
  async run(argv) {
    try {
      return await build(argv);
    } catch (err) {
      const e = err as Error;
      console.error(`tsr-node dataset build: ${e.message}`);
      return INPUT_ERRORS.has(e.name) || (e as NodeJS.ErrnoException).code === 'ENOENT' ? 2 : 1;
    }
  },
};

async function build(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'build') {
    console.error(`tsr-node dataset: unknown sub-command "${sub ?? ''}"\n\n${USAGE}`);
    return 2;
  }
  const { values } = parseCommandArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      'synthetic-seeds': { type: 'string' },
      columns: { type: 'string' },
      slices: { type: 'string' },
      profile: { type: 'string' },
      'from-folder': { type: 'string' },
      'ground-truth': { type: 'boolean', default: false },
      labels: { type: 'string' },
      'from-dicomweb': { type: 'string' },
      workers: { type: 'string' },
      config: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
    },
  });
  const sources = ['synthetic-seeds', 'from-folder', 'from-dicomweb'].filter((k) => values[k as keyof typeof values] !== undefined);
  if (!values.out || sources.length !== 1) {
    console.error(`tsr-node dataset build: give --out and exactly one source\n\n${USAGE}`);
    return 2;
  }
  if (values.profile !== undefined && values['synthetic-seeds'] === undefined) {
    console.error('tsr-node dataset build: --profile goes with --synthetic-seeds');
    return 2;
  }
  const int = (name: string, text: string | undefined): number | undefined => integerOption(name, text, 1);
  const config = loadConfig(values.config ? { file: values.config } : {});
  const logger = createLogger({ level: config.logLevel });
  const labels = values.labels ? parseLabelsCsv(readFileSync(values.labels, 'utf8'), values.labels) : undefined;
  let source: DatasetSource;
  let close = (): void => undefined;
  if (values['synthetic-seeds'] !== undefined) {
    const { from, to } = parseSeedRange(values['synthetic-seeds']);
    source = { kind: 'synthetic-seeds', from, to, columns: int('columns', values.columns), slices: int('slices', values.slices), ...(values.profile !== undefined ? { profile: values.profile } : {}) };
  } else if (values['from-folder'] !== undefined) {
    source = { kind: 'folder', dir: values['from-folder'], labels, useGroundTruth: values['ground-truth'] };
  } else {
    if (!labels) {
      console.error('tsr-node dataset build: --from-dicomweb needs --labels');
      return 2;
    }
    const url = values['from-dicomweb'] as string;
    const client = createDicomWebClient({ ...config.orthanc, dicomWebUrl: url }, { logger });
    close = () => client.close();
    source = {
      kind: 'studies',
      description: `DICOMweb ${url}`,
      labels,
      load: (uid) => loadStudyVolumes(client, uid, { rules: config.selection, logger }).then((s) => s.volumes),
    };
  }
  const options: BuildDatasetOptions = { source, outDir: values.out, progress: !values['no-progress'], logger, models: config.models };
  const workers = int('workers', values.workers);
  if (workers !== undefined) options.workers = workers;
  try {
    const result = await buildDataset(options);
    const { items, skipped = [] } = result.manifest;
    const rate = items.length / Math.max(result.seconds, 1e-9);
    console.error(`tsr-node dataset build: ${items.length} studies written, ${skipped.length} skipped, ${result.seconds.toFixed(1)} s (${rate.toFixed(2)} studies/s)`);
    console.log(result.manifestPath);
    return 0;
  } finally {
    close();
  }
}
