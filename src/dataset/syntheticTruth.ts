/**
 * What the dataset builder and the evaluation take from the synthetic generator (src/synthetic):
 * the study itself (Part-10 bytes in memory) and, from its ground-truth sidecar, the label, the
 * tumour centre per phase, the findings text, the oracle probabilities and the tumour mask.
 * The one place that knows the sidecar's shape (src/synthetic/groundTruth.ts).
 */
import { generateStudy, GENERATOR_VERSION, rasterisePancreasMask, rasteriseTumourMask, type SyntheticStudy, type SyntheticStudyOptions } from '../synthetic';
import { LABEL_DEFINITION as SYNTHETIC_LABEL_DEFINITION } from '../synthetic/biology';
import { GROUND_TRUTH_SCHEMA, type SyntheticGroundTruth } from '../synthetic/groundTruth';
import type { Phase } from '../inference/manifest';
import type { Geometry, Vec3 } from '../study/geometry';
import type { TsrLabel } from './labels';

/** The label definition of the synthetic cohort (the default of a dataset's labelDefinition). */
export const LABEL_DEFINITION: string = SYNTHETIC_LABEL_DEFINITION;

export const GENERATOR_DESCRIPTION = `generator ${GENERATOR_VERSION}`;

export interface TruthFacts {
  studyInstanceUID: string;
  seed: number;
  label: TsrLabel;
  findingsText?: string;
  oracle?: { fused: number; arterial: number; venous: number };
  phases: Record<Phase, { seriesInstanceUID: string; centreMm: Vec3 }>;
  /** The tumour's nominal greatest diameter (mm) and where in the pancreas it lies. */
  tumour: { diameterMm: number; region: string };
}

/** Checks that a parsed sidecar is a synthetic ground truth of the known schema. */
export function asGroundTruth(value: unknown): SyntheticGroundTruth {
  const truth = value as Partial<SyntheticGroundTruth> | null;
  if (truth === null || typeof truth !== 'object' || truth.schema !== GROUND_TRUTH_SCHEMA) {
    throw new Error(`not a synthetic ground truth (schema ${String(truth?.schema)}, expected ${GROUND_TRUTH_SCHEMA})`);
  }
  return truth as SyntheticGroundTruth;
}

export function truthFacts(value: unknown): TruthFacts {
  const truth = asGroundTruth(value);
  const phase = (p: Phase): { seriesInstanceUID: string; centreMm: Vec3 } => ({
    seriesInstanceUID: truth.phases[p].seriesInstanceUID,
    centreMm: [...truth.phases[p].tumourCentre] as Vec3,
  });
  const facts: TruthFacts = {
    studyInstanceUID: truth.studyInstanceUID,
    seed: truth.seed,
    label: truth.tumour.label,
    phases: { arterial: phase('arterial'), venous: phase('venous') },
    tumour: { diameterMm: truth.tumour.diameterMm, region: truth.tumour.region },
  };
  if (truth.findingsText) facts.findingsText = truth.findingsText;
  const o = truth.tumour.oracle;
  if (o) facts.oracle = { fused: o.fused, arterial: o.arterial, venous: o.venous };
  return facts;
}

/** The tumour mask of one phase on any grid in patient space. */
export function truthMask(value: unknown, phase: Phase, grid: Geometry): Uint8Array {
  return rasteriseTumourMask(asGroundTruth(value), phase, grid);
}

/**
 * The pancreas mask (tumour included) of a phase on any grid, for the study that
 * `generateStudy(options)` makes (re-planned from the options; the sidecar does not hold it).
 */
export function truthPancreasMask(options: SyntheticStudyOptions, phase: Phase, grid: Geometry): Uint8Array {
  return rasterisePancreasMask(options, phase, grid);
}

/** The generator options of `generateSyntheticStudy(seed, size)`: what `truthPancreasMask` needs. */
export function syntheticStudyOptions(seed: number, size: { columns?: number; slices?: number; profile?: string; label?: TsrLabel }): SyntheticStudyOptions {
  const options: SyntheticStudyOptions = { seed, extras: 'none' };
  if (size.columns !== undefined) options.columns = size.columns;
  if (size.slices !== undefined) options.slices = size.slices;
  if (size.profile !== undefined) options.profile = size.profile;
  if (size.label !== undefined) options.label = size.label;
  return options;
}

/**
 * One synthetic study in memory, without the extra series (non-contrast, delayed, localizer,
 * thick recons): the phase series' pixels do not depend on them, and leaving them out saves
 * generation time. Naming, pixel encodings, timing tags and instance order stay random, so the
 * volumes come through every decoding path the node has.
 */
export function generateSyntheticStudy(seed: number, size: { columns?: number; slices?: number; profile?: string; label?: TsrLabel }): SyntheticStudy {
  return generateStudy(syntheticStudyOptions(seed, size));
}
