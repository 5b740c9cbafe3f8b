/**
 * `tsr-node synth`: synthetic dual-phase pancreatic CT studies (docs/synthetic-data.md), written
 * to a folder (Part 10 files, ground-truth.json per study, labels.csv) or sent to a DICOMweb
 * server with STOW-RS, and the cohort's oracle AUCs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { createDicomWebClient, type DicomWebClientHandle } from '../../dicomweb/client';
import { createLogger } from '../../logging/logger';
import {
  balancedLabels,
  cohortStudySeed,
  generateStudy,
  LABELS_CSV_HEADER,
  labelsCsvRow,
  PIXEL_ENCODING_NAMES,
  studyBiology,
  writeStudyToFolder,
  type SyntheticStudyOptions,
} from '../../synthetic';
import { oracleScores } from '../../synthetic/oracle';
import { formatOracleReport, oracleReport } from '../../synthetic/oracleReport';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node synth (--out DIR | --stow URL | --oracle-report) [options]

Synthetic dual-phase (pancreatic + portal-venous) CT studies of pancreatic cancer with a known
tumour-stroma ratio label. Names and IDs are obviously synthetic; no real patient data is used.

Output (at least one):
  --out DIR              one folder per study (DIR/study-0001/...): Part 10 files and
                         ground-truth.json; DIR/labels.csv lists every study
  --stow URL             send each study to a DICOMweb server with STOW-RS (URL = DICOMweb root,
                         e.g. http://localhost:8042/dicom-web); credentials from
                         TSR_ORTHANC_USERNAME / TSR_ORTHANC_PASSWORD or --config FILE
  --oracle-report        print the cohort's oracle AUCs (fused, arterial-only, venous-only); alone,
                         it computes them without rendering images (fast)

Cohort:
  --seed S               first study seed (default 1); study i has seed S + i
  --count N              number of studies (default 1)
  --balance              half low, half high labels (shuffled) instead of the natural 40/60
  --label low|high       force the label of every study

Images:
  --columns N            image width = height (default 512; pixel spacing grows when smaller)
  --slices N             thin slices per phase series (default 100)
  --extras MODE          none | random | all: non-contrast, delayed, localizer, 5 mm recons,
                         dose report (default random)
  --naming MODE          random | english | blank series descriptions (default random)
  --encoding NAME        random | ${PIXEL_ENCODING_NAMES.join(' | ')} (default random)
  --timing-tags MODE     random | present | absent: ContrastBolusStartTime / AcquisitionTime
  --instance-order MODE  random | head-first | feet-first | shuffled

Other:
  --config FILE          node configuration (only for --stow credentials)
  --no-progress          no progress bar on stderr
`;

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

/** A one-line progress bar on stderr: redrawn in place on a terminal, every 10% otherwise. */
class ProgressBar {
  private readonly started = Date.now();
  private lastDecile = -1;
  constructor(
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}
  update(done: number, what: string): void {
    if (!this.enabled) return;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds / Math.max(1, done);
    const eta = Math.round(rate * (this.total - done));
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${what}  ${rate.toFixed(1)} s/study  ETA ${eta} s`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}${done === this.total ? '\n' : ''}`);
    } else {
      const decile = Math.floor((done / this.total) * 10);
      if (decile !== this.lastDecile || done === this.total) process.stderr.write(line + '\n');
      this.lastDecile = decile;
    }
  }
}

export const command: Command = {
  summary: 'make synthetic dual-phase pancreatic CT studies (folder or STOW-RS) and their oracle AUCs',
  usage: USAGE,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          out: { type: 'string' },
          stow: { type: 'string' },
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
          config: { type: 'string' },
          'no-progress': { type: 'boolean', default: false },
        },
        strict: true,
      }));
    } catch (err) {
      console.error(`tsr-node synth: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    let seed: number;
    let count: number;
    let studyOptions: Omit<SyntheticStudyOptions, 'seed'>;
    try {
      seed = integer('seed', values.seed, 0) ?? 1;
      count = integer('count', values.count, 1) ?? 1;
      const columns = integer('columns', values.columns, 32);
      const slices = integer('slices', values.slices, 8);
      const label = oneOf('label', values.label, ['low', 'high'] as const);
      const extras = oneOf('extras', values.extras, ['none', 'random', 'all'] as const);
      const naming = oneOf('naming', values.naming, ['random', 'english', 'blank'] as const);
      const encoding = oneOf('encoding', values.encoding, ['random', ...PIXEL_ENCODING_NAMES] as const);
      const timingTags = oneOf('timing-tags', values['timing-tags'], ['random', 'present', 'absent'] as const);
      const instanceOrder = oneOf('instance-order', values['instance-order'], ['random', 'head-first', 'feet-first', 'shuffled'] as const);
      if (label && values.balance) throw new Error('--label and --balance exclude each other');
      studyOptions = {
        ...(columns !== undefined ? { columns } : {}),
        ...(slices !== undefined ? { slices } : {}),
        ...(label ? { label } : {}),
        ...(extras ? { extras } : {}),
        ...(naming ? { naming } : {}),
        ...(encoding ? { encoding } : {}),
        ...(timingTags ? { timingTags } : {}),
        ...(instanceOrder ? { instanceOrder } : {}),
      };
      if (!values.out && !values.stow && !values['oracle-report']) throw new Error('give --out DIR, --stow URL or --oracle-report');
    } catch (err) {
      console.error(`tsr-node synth: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    const balanced = values.balance ? balancedLabels(seed, count) : undefined;
    const labelOf = (i: number): 'low' | 'high' | undefined => (balanced ? balanced[i] : studyOptions.label);

    // Oracle only: the biology of each study, no images.
    if (!values.out && !values.stow) {
      const cases = Array.from({ length: count }, (_, i) => {
        const biology = studyBiology(cohortStudySeed(seed, i), labelOf(i));
        return { label: biology.label, oracle: oracleScores(biology.enhancement) };
      });
      console.log(formatOracleReport(oracleReport(cases), seed));
      return 0;
    }

    let client: DicomWebClientHandle | undefined;
    if (values.stow) {
      const config = loadConfig(values.config ? { file: values.config } : {});
      client = createDicomWebClient({ ...config.orthanc, dicomWebUrl: values.stow }, { logger: createLogger({ level: config.logLevel }) });
    }
    const progress = new ProgressBar(count, !values['no-progress']);
    const labels: string[] = [LABELS_CSV_HEADER];
    const cases: Array<{ label: 'low' | 'high'; oracle: { fused: number; arterial: number; venous: number } }> = [];
    let failedInstances = 0;
    try {
      if (values.out) mkdirSync(values.out, { recursive: true });
      for (let i = 0; i < count; i++) {
        const label = labelOf(i);
        const study = generateStudy({ ...studyOptions, seed: cohortStudySeed(seed, i), ...(label ? { label } : {}) });
        if (values.out) writeStudyToFolder(study, path.join(values.out, `study-${String(i + 1).padStart(4, '0')}`));
        if (client) {
          // One STOW-RS request per series keeps each request body to tens of megabytes.
          const bySeries = new Map<string, Uint8Array[]>();
          for (const f of study.files) {
            const list = bySeries.get(f.seriesInstanceUID) ?? [];
            list.push(f.bytes);
            bySeries.set(f.seriesInstanceUID, list);
          }
          for (const objects of bySeries.values()) {
            const result = await client.store(objects, study.studyInstanceUID);
            failedInstances += result.failed.length;
            for (const failed of result.failed) {
              console.error(`tsr-node synth: STOW-RS refused ${failed.sopInstanceUID ?? '(unknown instance)'} (FailureReason ${failed.failureReason ?? '?'})`);
            }
          }
        }
        labels.push(labelsCsvRow(study.groundTruth));
        cases.push({ label: study.groundTruth.tumour.label, oracle: study.groundTruth.tumour.oracle });
        progress.update(i + 1, 'studies');
      }
      if (values.out) writeFileSync(path.join(values.out, 'labels.csv'), labels.join('\n') + '\n');
    } catch (err) {
      console.error(`tsr-node synth: ${(err as Error).message}`);
      return 1;
    } finally {
      client?.close();
    }
    if (values['oracle-report']) console.log(formatOracleReport(oracleReport(cases), seed));
    if (values.out) console.error(`tsr-node synth: ${count} ${count === 1 ? 'study' : 'studies'} written to ${values.out}`);
    if (values.stow) console.error(`tsr-node synth: ${count} ${count === 1 ? 'study' : 'studies'} sent to ${values.stow}${failedInstances ? `, ${failedInstances} instances refused` : ''}`);
    return failedInstances > 0 ? 1 : 0;
  },
};
