/**
 * Synthetic dual-phase pancreatic CT: the public API. See docs/synthetic-data.md.
 *
 *   generateStudy(options)         one study in memory (Part 10 bytes + ground truth)
 *   writeStudyToFolder(study, dir) the files and ground-truth.json beside them
 *   generateCohort(options)        N studies from one seed, optionally class-balanced
 *   rasteriseTumourMask(...)       the tumour mask on any grid
 *   rasterisePancreasMask(...)     the pancreas mask (tumour included) on any grid, from the study's options
 *   oracleScores(...)              P(high TSR | noise-free enhancement parameters)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TsrLabel } from './biology';
import { GROUND_TRUTH_FILE, type SyntheticGroundTruth } from './groundTruth';
import { SeededRandom } from './random';
import { generateStudy, type SyntheticStudy, type SyntheticStudyOptions } from './study';

export { generateStudy, studyBiology, studyOracleCase, GENERATOR_VERSION } from './study';
export type { SyntheticStudyOptions, SyntheticFile, SyntheticStudy, ExtrasOption } from './study';
export type { SyntheticGroundTruth, SeriesTruth, PhaseTruth, LandmarkTruth } from './groundTruth';
export { GROUND_TRUTH_SCHEMA, GROUND_TRUTH_FILE } from './groundTruth';
export { rasteriseTumourMask } from './tumourMask';
export { rasterisePancreasMask } from './pancreasMask';
export { tumourLevel, tumourBounds, type TumourShape } from './tumourShape';
export { oracleScores, oracleFromTpc, type OracleScores } from './oracle';
export { LABEL_DEFINITION, STROMA_THRESHOLD, type TsrLabel, type EnhancementParameters } from './biology';
export { PIXEL_ENCODINGS, PIXEL_ENCODING_NAMES, type PixelEncodingName } from './encoding';
export type { SeriesRole, NamingStyle } from './naming';
export type { ContrastPhase } from './tissues';
export {
  CENTRE_PROFILE_NAMES,
  DEFAULT_CENTRE_PROFILE,
  loadCentreProfile,
  checkTrainingProfile,
  parseCentreProfile,
  CentreProfileError,
  type CentreProfile,
} from './profiles';
export type { StudyRandomisation } from './randomisationTruth';

/** Writes the study's Part 10 files under `dir` (by their relativePath) and ground-truth.json beside them. */
export function writeStudyToFolder(study: SyntheticStudy, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const folders = new Set<string>();
  for (const f of study.files) {
    const file = path.join(dir, f.relativePath);
    const folder = path.dirname(file);
    if (!folders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      folders.add(folder);
    }
    writeFileSync(file, f.bytes);
  }
  writeFileSync(path.join(dir, GROUND_TRUTH_FILE), JSON.stringify(study.groundTruth, null, 2) + '\n');
}

export interface CohortOptions extends Omit<SyntheticStudyOptions, 'seed'> {
  seed: number;
  count: number;
  /** Half low, half high labels (shuffled) instead of drawing them from the biology (40/60). */
  balance?: boolean;
}

/**
 * The seed of study `index` of a cohort: cohort seed + index, so `synth --seed 1000 --count 500`
 * makes the same studies as `generateStudy({ seed: 1000 })` ... `generateStudy({ seed: 1499 })`
 * (and as `dataset build --synthetic-seeds 1000..1499`).
 */
export function cohortStudySeed(cohortSeed: number, index: number): number {
  return cohortSeed + index;
}

/**
 * The labels a balanced cohort forces: half low, half high (the odd one high), in an order
 * shuffled from the cohort seed, so that nothing else about a study (its seed, PatientID,
 * AccessionNumber, position in the cohort) tells its label.
 */
export function balancedLabels(cohortSeed: number, count: number): TsrLabel[] {
  const labels: TsrLabel[] = Array.from({ length: count }, (_, i) => (i < Math.floor(count / 2) ? 'low' : 'high'));
  return new SeededRandom(cohortSeed, 'cohort/balance').shuffle(labels);
}

/** N studies from one seed, generated lazily (one at a time in memory). */
export function* generateCohort(options: CohortOptions): Generator<SyntheticStudy> {
  const { seed, count, balance, ...rest } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  const balanced = balance ? balancedLabels(seed, count) : undefined;
  for (let i = 0; i < count; i++) {
    const studySeed = cohortStudySeed(seed, i);
    const label = balanced ? balanced[i] : rest.label;
    yield generateStudy({ ...rest, seed: studySeed, ...(label ? { label } : {}) });
  }
}

/** One line of labels.csv: the dataset builder reads it (venous-phase tumour centre, mm). */
export function labelsCsvRow(truth: SyntheticGroundTruth): string {
  const c = truth.phases.venous.tumourCentre;
  return `${truth.studyInstanceUID},${truth.tumour.label},${c[0].toFixed(2)},${c[1].toFixed(2)},${c[2].toFixed(2)}`;
}

export const LABELS_CSV_HEADER = 'StudyInstanceUID,label,centreX,centreY,centreZ';
