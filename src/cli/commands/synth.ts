/**
 * `tsr-node synth`: synthetic dual-phase pancreatic CT studies (docs/synthetic-data.md), written
 * to a folder (Part 10 files, ground-truth.json per study, labels.csv) or sent to a DICOMweb
 * server with STOW-RS, and the cohort's oracle AUCs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config';
import { createDicomWebClient, type DicomWebClientHandle } from '../../dicomweb/client';
import { createLogger } from '../../logging/logger';
import {
  balancedLabels,
  CENTRE_PROFILE_NAMES,
  cohortStudySeed,
  DEFAULT_CENTRE_PROFILE,
  loadCentreProfile,
  generateStudy,
  LABELS_CSV_HEADER,
  labelsCsvRow,
  PIXEL_ENCODING_NAMES,
  studyOracleCase,
  writeStudyToFolder,
  type CentreProfile,
  type SyntheticStudy,
  type SyntheticStudyOptions,
  type TsrLabel,
} from '../../synthetic';
import { formatOracleReport, oracleReport } from '../../synthetic/oracleReport';
import { previewPng } from '../../synthetic/previewImage';
import { choiceOption, integerOption, parseCommandArgs, UsageError } from '../arguments';
import type { Command } from '../command';
import { createProgressBar } from '../../common/progressBar';

/** Studies a --preview picture holds at most (one column each). */
const MAX_PREVIEW_STUDIES = 8;

const USAGE = `Usage: tsr-node synth (--out DIR | --stow URL | --preview FILE | --oracle-report) [options]

Synthetic dual-phase (pancreatic + portal-venous) CT studies of pancreatic cancer with a known
tumour-stroma ratio label. Names and IDs are obviously synthetic; no real patient data is used.

Output (at least one):
  --out DIR              one folder per study (DIR/study-0001/...): Part 10 files and
                         ground-truth.json; DIR/labels.csv lists every study
  --stow URL             send each study to a DICOMweb server with STOW-RS (URL = DICOMweb root,
                         e.g. http://localhost:8042/dicom-web); credentials from
                         TSR_ORTHANC_USERNAME / TSR_ORTHANC_PASSWORD or --config FILE
  --preview FILE         a PNG of the cohort's studies side by side (at most ${MAX_PREVIEW_STUDIES}): the slice of each
                         phase through the tumour, its centre circled, the drawn values as captions
  --oracle-report        print the cohort's oracle AUCs (fused, arterial-only, venous-only); alone,
                         it computes them without rendering images (fast)

Cohort:
  --seed S               first study seed (default 1); study i has seed S + i
  --count N              number of studies (default 1)
  --balance              half low, half high labels (shuffled) instead of the natural 40/60
  --label low|high       force the label of every study

Centre:
  --profile NAME         centre profile (src/synthetic/profiles/NAME.json; docs/synthetic-data.md):
                         ${CENTRE_PROFILE_NAMES.join(', ')}
                         (default baseline: the generator as it always was); the others randomise
                         anatomy, scanner, contrast, tumour and misregistration; heldout-* profiles
                         are for evaluation only

Images:
  --columns N            image width = height (default 512, or the profile's matrix; pixel spacing
                         grows when smaller)
  --slices N             thin slices per phase series (default 100, or the profile's coverage)
  --extras MODE          none | random | all: non-contrast, delayed, localizer, 5 mm recons,
                         dose report (default random)
  --naming MODE          random | english | blank series descriptions (default random, or the
                         profile's)
  --encoding NAME        random | ${PIXEL_ENCODING_NAMES.join(' | ')} (default random)
  --timing-tags MODE     random | present | absent: ContrastBolusStartTime / AcquisitionTime
                         (random: as the profile draws them)
  --instance-order MODE  random | head-first | feet-first | shuffled

Other:
  --config FILE          node configuration (only for --stow credentials)
  --no-progress          no progress bar on stderr
`;

/** The options of `tsr-node synth`, read and checked. */
interface SynthArguments {
  out?: string;
  stow?: string;
  preview?: string;
  oracleReport: boolean;
  config?: string;
  progress: boolean;
  /** First study seed; study i has seed cohortStudySeed(seed, i). */
  seed: number;
  count: number;
  studyOptions: Omit<SyntheticStudyOptions, 'seed'>;
  /** The label study i is forced to have (--balance or --label), if any. */
  labelOf: (index: number) => TsrLabel | undefined;
}

type OracleCase = { label: TsrLabel; oracle: { fused: number; arterial: number; venous: number } };

function parseSynthArguments(argv: string[]): SynthArguments {
  const { values } = parseCommandArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      stow: { type: 'string' },
      preview: { type: 'string' },
      'oracle-report': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      count: { type: 'string', default: '1' },
      balance: { type: 'boolean', default: false },
      label: { type: 'string' },
      columns: { type: 'string' },
      slices: { type: 'string' },
      extras: { type: 'string' },
      naming: { type: 'string' },
      encoding: { type: 'string' },
      'timing-tags': { type: 'string' },
      'instance-order': { type: 'string' },
      profile: { type: 'string' },
      config: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
    },
  });
  const seed = integerOption('seed', values.seed, 0, 1);
  const count = integerOption('count', values.count, 1, 1);
  const columns = integerOption('columns', values.columns, 32);
  const slices = integerOption('slices', values.slices, 8);
  const label = choiceOption('label', values.label, ['low', 'high'] as const);
  const extras = choiceOption('extras', values.extras, ['none', 'random', 'all'] as const);
  const naming = choiceOption('naming', values.naming, ['random', 'english', 'blank'] as const);
  const encoding = choiceOption('encoding', values.encoding, ['random', ...PIXEL_ENCODING_NAMES] as const);
  const timingTags = choiceOption('timing-tags', values['timing-tags'], ['random', 'present', 'absent'] as const);
  const instanceOrder = choiceOption('instance-order', values['instance-order'], ['random', 'head-first', 'feet-first', 'shuffled'] as const);
  const profile = choiceOption('profile', values.profile, CENTRE_PROFILE_NAMES);
  if (label && values.balance) throw new UsageError('--label and --balance exclude each other');
  const studyOptions: Omit<SyntheticStudyOptions, 'seed'> = {
    ...(columns !== undefined ? { columns } : {}),
    ...(slices !== undefined ? { slices } : {}),
    ...(label ? { label } : {}),
    ...(extras ? { extras } : {}),
    ...(naming ? { naming } : {}),
    ...(encoding ? { encoding } : {}),
    ...(timingTags ? { timingTags } : {}),
    ...(instanceOrder ? { instanceOrder } : {}),
    ...(profile ? { profile } : {}),
  };
  if (!values.out && !values.stow && !values.preview && !values['oracle-report']) throw new UsageError('give --out DIR, --stow URL or --oracle-report (or --preview FILE)');
  if (values.preview && count > MAX_PREVIEW_STUDIES) throw new UsageError(`--preview shows at most ${MAX_PREVIEW_STUDIES} studies; got --count ${count}`);
  const balanced = values.balance ? balancedLabels(seed, count) : undefined;
  return {
    ...(values.out ? { out: values.out } : {}),
    ...(values.stow ? { stow: values.stow } : {}),
    ...(values.preview ? { preview: values.preview } : {}),
    oracleReport: values['oracle-report'],
    ...(values.config ? { config: values.config } : {}),
    progress: !values['no-progress'],
    seed,
    count,
    studyOptions,
    labelOf: (index) => (balanced ? balanced[index] : studyOptions.label),
  };
}

/** Oracle only: the biology of each study, no images. */
function printBiologyOracleReport(args: SynthArguments): void {
  const cases: OracleCase[] = Array.from({ length: args.count }, (_, i) => studyOracleCase(cohortStudySeed(args.seed, i), args.studyOptions.profile, args.labelOf(i)));
  console.log(formatOracleReport(oracleReport(cases), args.seed, profileOf(args)));
}

/** The profile the cohort is made with (baseline by default). */
function profileOf(args: SynthArguments): CentreProfile {
  return loadCentreProfile(typeof args.studyOptions.profile === 'string' ? args.studyOptions.profile : DEFAULT_CENTRE_PROFILE);
}

/** Sends a study with STOW-RS; the number of instances the server refused. */
async function stowStudy(client: DicomWebClientHandle, study: SyntheticStudy): Promise<number> {
  // One STOW-RS request per series keeps each request body to tens of megabytes.
  const bySeries = new Map<string, Uint8Array[]>();
  for (const file of study.files) {
    const list = bySeries.get(file.seriesInstanceUID) ?? [];
    list.push(file.bytes);
    bySeries.set(file.seriesInstanceUID, list);
  }
  let failedInstances = 0;
  for (const objects of bySeries.values()) {
    const result = await client.store(objects, study.studyInstanceUID);
    failedInstances += result.failed.length;
    for (const failed of result.failed) {
      console.error(`tsr-node synth: STOW-RS refused ${failed.sopInstanceUID ?? '(unknown instance)'} (FailureReason ${failed.failureReason ?? '?'})`);
    }
  }
  return failedInstances;
}

/** Generates the cohort study by study, writes it to --out and/or sends it to --stow; the exit code. */
async function makeCohort(args: SynthArguments): Promise<number> {
  let client: DicomWebClientHandle | undefined;
  if (args.stow) {
    const config = loadConfig(args.config ? { file: args.config } : {});
    client = createDicomWebClient({ ...config.orthanc, dicomWebUrl: args.stow }, { logger: createLogger({ level: config.logLevel }) });
  }
  const progress = args.progress ? createProgressBar({ total: args.count, label: 'synth' }) : undefined;
  const labels: string[] = [LABELS_CSV_HEADER];
  const cases: OracleCase[] = [];
  const previewed: SyntheticStudy[] = [];
  let failedInstances = 0;
  try {
    if (args.out) mkdirSync(args.out, { recursive: true });
    for (let i = 0; i < args.count; i++) {
      const label = args.labelOf(i);
      const study = generateStudy({ ...args.studyOptions, seed: cohortStudySeed(args.seed, i), ...(label ? { label } : {}) });
      if (args.out) writeStudyToFolder(study, path.join(args.out, `study-${String(i + 1).padStart(4, '0')}`));
      if (client) failedInstances += await stowStudy(client, study);
      if (args.preview) previewed.push(study);
      labels.push(labelsCsvRow(study.groundTruth));
      cases.push({ label: study.groundTruth.tumour.label, oracle: study.groundTruth.tumour.oracle });
      progress?.tick();
    }
    progress?.done();
    if (args.out) writeFileSync(path.join(args.out, 'labels.csv'), labels.join('\n') + '\n');
    if (args.preview) writeFileSync(args.preview, await previewPng(previewed));
  } catch (err) {
    console.error(`tsr-node synth: ${(err as Error).message}`);
    return 1;
  } finally {
    client?.close();
  }
  if (args.oracleReport) console.log(formatOracleReport(oracleReport(cases), args.seed, profileOf(args)));
  const studies = `${args.count} ${args.count === 1 ? 'study' : 'studies'}`;
  if (args.out) console.error(`tsr-node synth: ${studies} written to ${args.out}`);
  if (args.preview) console.error(`tsr-node synth: preview of ${studies} written to ${args.preview}`);
  if (args.stow) console.error(`tsr-node synth: ${studies} sent to ${args.stow}${failedInstances ? `, ${failedInstances} instances refused` : ''}`);
  return failedInstances > 0 ? 1 : 0;
}

export const command: Command = {
  summary: 'make synthetic dual-phase pancreatic CT studies (folder or STOW-RS) and their oracle AUCs',
  usage: USAGE,
  async run(argv) {
    const args = parseSynthArguments(argv);
    if (!args.out && !args.stow && !args.preview) {
      printBiologyOracleReport(args);
      return 0;
    }
    return makeCohort(args);
  },
};
