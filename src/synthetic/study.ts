/**
 * generateStudy: one synthetic dual-phase pancreatic CT study, in memory, with its ground truth.
 *
 * Order of work: biology (stroma fraction, label, noise-free enhancement) -> tissue HU table ->
 * anatomy -> acquisition plan (geometry, series, timing, names) -> series rendered slice by slice,
 * noise added, encoded and written as Part 10 -> ground truth (oracle, vessel contact, findings).
 * Every random draw comes from a named stream of the seed, so the same seed gives the same bytes.
 */
import { drawAcquisitionProtocol } from './acquisitionProtocol';
import { drawAnatomy } from './anatomy';
import { drawTumourBiology, type TsrLabel, type TumourBiology } from './biology';
import { PIXEL_ENCODING_NAMES, PIXEL_ENCODINGS, type PixelEncodingName } from './encoding';
import type { SyntheticGroundTruth } from './groundTruth';
import type { NamingStyle } from './naming';
import { drawPatient, drawPixelEncoding, studyAttributes } from './patientAndStudy';
import { planRandomisedStudy } from './profileStudy';
import { drawProfileBiology, profileOracle } from './profileBiology';
import { oracleScores, type OracleScores } from './oracle';
import { randomisedProfile, type CentreProfile } from './profiles';
import { SeededRandom } from './random';
import { drawScanGeometry } from './scanGeometry';
import { drawDescriptions, drawSeriesSelection, numberSeries, type ExtrasOption } from './seriesSettings';
import { studyGroundTruth } from './studyGroundTruth';
import type { StudyPlan, SyntheticFile } from './studyPlan';
import { writeStudySeries } from './studySeries';
import { drawTissueHu } from './tissues';

export { GENERATOR_VERSION } from './version';
export type { ExtrasOption } from './seriesSettings';

export interface SyntheticStudyOptions {
  /** Same seed => byte-identical output. A non-negative integer below 2^53. */
  seed: number;
  /** Image width = height; default 512. Pixel spacing grows for smaller images, so the field of view stays realistic. */
  columns?: number;
  /** Thin slices per phase series; default 100. */
  slices?: number;
  /** Force the class (cohort balancing); otherwise drawn from the biology (40% low / 60% high). */
  label?: TsrLabel;
  /** Non-contrast, delayed, localizer, thick 5 mm recons, dose report (SR). Default 'random'. */
  extras?: ExtrasOption;
  /** Series descriptions; default 'random' (multilingual set, including blank). */
  naming?: NamingStyle;
  /** Pixel encoding of the whole study; default 'random'. */
  encoding?: 'random' | PixelEncodingName;
  /** ContrastBolusStartTime and AcquisitionTime: written, left out, or either (default 'random', ~30% absent). */
  timingTags?: 'random' | 'present' | 'absent';
  /** InstanceNumber order: head first, feet first, shuffled, or drawn (default 'random': 70/15/15%). */
  instanceOrder?: 'random' | 'head-first' | 'feet-first' | 'shuffled';
  /**
   * Centre profile: a name from CENTRE_PROFILE_NAMES (src/synthetic/profiles/<name>.json) or a
   * profile object; default 'baseline', the generator as it always was (same bytes per seed).
   */
  profile?: string | CentreProfile;
}

export type { SyntheticFile } from './studyPlan';

export interface SyntheticStudy {
  studyInstanceUID: string;
  files: SyntheticFile[];
  groundTruth: SyntheticGroundTruth;
}

const DEFAULT_COLUMNS = 512;
const DEFAULT_SLICES = 100;

function validate(options: SyntheticStudyOptions): { columns: number; slices: number } {
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${options.seed}`);
  const columns = options.columns ?? DEFAULT_COLUMNS;
  const slices = options.slices ?? DEFAULT_SLICES;
  if (!Number.isInteger(columns) || columns < 32 || columns > 1024) throw new RangeError(`columns must be an integer in 32..1024, got ${columns}`);
  if (!Number.isInteger(slices) || slices < 8 || slices > 2000) throw new RangeError(`slices must be an integer in 8..2000, got ${slices}`);
  if (options.label !== undefined && options.label !== 'low' && options.label !== 'high') throw new RangeError(`label must be 'low' or 'high', got ${String(options.label)}`);
  if (options.encoding !== undefined && options.encoding !== 'random' && !(options.encoding in PIXEL_ENCODINGS)) {
    throw new RangeError(`encoding must be 'random' or one of ${PIXEL_ENCODING_NAMES.join(', ')}, got ${options.encoding}`);
  }
  return { columns, slices };
}

/**
 * The tumour biology of the study `generateStudy({ seed, label })` makes, without rendering it:
 * what the oracle report of a cohort needs.
 */
export function studyBiology(seed: number, label?: TsrLabel): TumourBiology {
  return drawTumourBiology(new SeededRandom(seed, 'stroma'), new SeededRandom(seed, 'biology'), label);
}

/**
 * The label and oracle of the study `generateStudy({ seed, label, profile })` makes, without
 * rendering it: what the oracle report of a cohort needs. For a randomised profile the oracle is
 * computed at 120 kV and usual enhancement (the acquisition's scale divides out), with the
 * profile's share of iso-attenuating tumours.
 */
export function studyOracleCase(seed: number, profile?: string | CentreProfile, label?: TsrLabel): { label: TsrLabel; oracle: OracleScores } {
  const resolved = randomisedProfile(profile);
  if (!resolved) {
    const biology = studyBiology(seed, label);
    return { label: biology.label, oracle: oracleScores(biology.enhancement) };
  }
  const { biology } = drawProfileBiology(seed, resolved, label);
  return { label: biology.label, oracle: profileOracle(biology.enhancement.tpcHu, { arterial: 1, venous: 1 }, resolved) };
}

export function generateStudy(options: SyntheticStudyOptions): SyntheticStudy {
  return writeStudy(planStudy(options), options.seed);
}

/**
 * Everything `generateStudy(options)` draws before rendering: biology, tissues, anatomy,
 * geometry, series, names, patient, protocol. Cheap (no pixels); what the pancreas mask of a
 * study is computed from (pancreasMask.ts). Writing the plan goes on drawing from its
 * `acquisition` stream, so a plan is written at most once.
 */
export function planStudy(options: SyntheticStudyOptions): StudyPlan {
  const { columns, slices } = validate(options);
  const profile = randomisedProfile(options.profile);
  if (profile) {
    // A randomised profile draws its own matrix and slices unless the caller asks for a size.
    const size = { ...(options.columns !== undefined ? { columns } : {}), ...(options.slices !== undefined ? { slices } : {}) };
    return planRandomisedStudy(options, profile, size);
  }
  const seed = options.seed;
  const stream = (name: string): SeededRandom => new SeededRandom(seed, name);

  // Biology first: the label acts on the image only through `enhancement`.
  const biology = studyBiology(seed, options.label);
  const tissues = drawTissueHu(stream('tissues'), biology.enhancement);
  const anatomy = drawAnatomy(stream('anatomy'), { tpcArterialHu: biology.enhancement.tpcHu.arterial });
  // The acquisition stream draws the geometry, then which series, then the protocol; the series
  // writer goes on drawing from it (see StudyPlan.acquisition).
  const acquisition = stream('acquisition');
  const geometry = drawScanGeometry(acquisition, anatomy, columns, slices);
  const series = drawSeriesSelection(acquisition, options.extras ?? 'random');
  const naming = options.naming ?? 'random';
  const descriptions = drawDescriptions(stream('naming'), series.roles, naming);
  const metadata = stream('metadata');
  const encodingName = drawPixelEncoding(metadata, options.encoding);
  const patient = drawPatient(metadata, anatomy.bodyHalfWidthMm);
  const protocol = drawAcquisitionProtocol(acquisition, patient.studyStartSeconds, patient.weightKg, options.timingTags ?? 'random');
  const plan: StudyPlan = {
    seed,
    uidSeed: seed,
    columns,
    slices,
    biology,
    tissueHu: tissues.phases,
    anatomy,
    geometry,
    series,
    seriesNumbers: numberSeries(series.roles),
    naming,
    descriptions,
    encodingName,
    encoding: PIXEL_ENCODINGS[encodingName],
    patient,
    study: studyAttributes(seed, patient, descriptions),
    protocol,
    instanceOrder: options.instanceOrder ?? 'random',
    acquisition,
  };
  return plan;
}

/** Writes the planned study's series and its ground truth (`findings` stream: the findings text). */
function writeStudy(plan: StudyPlan, seed: number): SyntheticStudy {
  const written = writeStudySeries(plan);
  const groundTruth = studyGroundTruth(plan, written.series, new SeededRandom(seed, 'findings'));
  return { studyInstanceUID: plan.study.studyInstanceUID, files: written.files, groundTruth };
}
