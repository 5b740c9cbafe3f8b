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
import { choiceOption, integerOption, parseCommandArgs, UsageError } from '../arguments';
import type { Command } from '../command';
import { createProgressBar } from '../../common/progressBar';

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

export const command: Command = {
  summary: 'make synthetic dual-phase pancreatic CT studies (folder or STOW-RS) and their oracle AUCs',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs({
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
    };
    if (!values.out && !values.stow && !values['oracle-report']) throw new UsageError('give --out DIR, --stow URL or --oracle-report');
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
    const progress = values['no-progress'] ? undefined : createProgressBar({ total: count, label: 'synth' });
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
        progress?.tick();
      }
      progress?.done();
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
