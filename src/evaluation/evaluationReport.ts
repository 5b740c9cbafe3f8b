/**
 * The report of `tsr-node evaluate` (DIR/evaluation.json) from the per-study cases. Pure.
 *
 * A run evaluates one cohort per centre profile (the same held-out seeds, generated with each
 * profile). The report's top-level figures are those of all studies together (with one profile,
 * exactly that profile's figures: the shape readers of one cohort know); `profiles` holds the
 * same figures per profile, with whether the profile is held out. How each figure is computed:
 * cohortFigures.ts.
 */
import type { ModelIdentity } from '../inference/result';
import type { EvaluationCase, ModelRole } from './evaluationCase';
import { cohortFigures, type CohortCurves, type CohortFigures, type FailedStudy } from './cohortFigures';

export { GOALS } from './cohortFigures';

/** @2: `profiles` (figures per centre profile), localiser refusals, wrong place and small tumours. */
export const EVALUATION_SCHEMA = 'tsr-node/evaluation@2';

/** One profile's cohort: what it is, and its figures. */
export interface ProfileEvaluation extends CohortFigures {
  profile: string;
  /** Held-out profile: a centre no training run saw. False: a training profile, evaluated on held-out seeds. */
  heldOut: boolean;
}

export interface EvaluationReport extends CohortFigures {
  schema: typeof EVALUATION_SCHEMA;
  createdAt: string;
  /** The seeds of each profile's cohort. */
  seeds: { from: number; to: number };
  /** The image size asked of the generator (a randomised profile draws its own: see each profile's imageSizes). */
  imageSize: { columns: number; slices: number };
  /** The generator that made the studies (SoftwareVersions of every synthetic object). */
  generator: string;
  /** What the top-level figures cover: one profile's name, or the pooled profiles. */
  cohort: string;
  /** The models; `pancreas` only with a two-stage localiser. */
  models: Record<ModelRole | 'localizer', ModelIdentity> & { pancreas?: ModelIdentity };
  /** Operating threshold of the fused model (its manifest). */
  threshold: number;
  bootstrap: { replicates: number; seed: number };
  profiles: ProfileEvaluation[];
}

/** One profile's cases as `tsr-node evaluate` collected them. */
export interface ProfileCohort {
  profile: string;
  heldOut: boolean;
  cases: EvaluationCase[];
  failed: FailedStudy[];
  /** Wall time of the profile's cohort. */
  seconds: number;
}

export interface ReportInput {
  cohorts: ProfileCohort[];
  seeds: { from: number; to: number };
  imageSize: { columns: number; slices: number };
  generator: string;
  models: Record<ModelRole | 'localizer', ModelIdentity> & { pancreas?: ModelIdentity };
  thresholds: Record<ModelRole, number>;
  bootstrap?: { replicates: number; seed: number };
  /** Wall time of the whole run. */
  seconds: number;
  createdAt: string;
}

export interface EvaluationCurves {
  /** All studies together. */
  all: CohortCurves;
  byProfile: Record<string, CohortCurves>;
}

export function buildEvaluationReport(input: ReportInput): { report: EvaluationReport; curves: EvaluationCurves } {
  if (input.cohorts.length === 0) throw new Error('no profile was evaluated');
  const names = input.cohorts.map((c) => c.profile);
  if (new Set(names).size !== names.length) throw new Error(`a profile is listed twice: ${names.join(', ')}`);
  const bootstrap = input.bootstrap ?? { replicates: 2000, seed: 20240601 };
  const profiles: ProfileEvaluation[] = [];
  const byProfile: Record<string, CohortCurves> = {};
  for (const cohort of input.cohorts) {
    let result;
    try {
      result = cohortFigures({ cases: cohort.cases, failed: cohort.failed, thresholds: input.thresholds, bootstrap, seconds: cohort.seconds });
    } catch (err) {
      throw new Error(`profile ${cohort.profile}: ${(err as Error).message}`);
    }
    profiles.push({ profile: cohort.profile, heldOut: cohort.heldOut, ...result.figures });
    byProfile[cohort.profile] = result.curves;
  }
  const single = input.cohorts.length === 1;
  const pooled = single
    ? { figures: { ...stripProfile(profiles[0]), timing: { ...profiles[0].timing, seconds: input.seconds } }, curves: byProfile[names[0]] }
    : cohortFigures({
        cases: input.cohorts.flatMap((c) => c.cases),
        failed: input.cohorts.flatMap((c) => c.failed),
        thresholds: input.thresholds,
        bootstrap,
        seconds: input.seconds,
      });
  const report: EvaluationReport = {
    schema: EVALUATION_SCHEMA,
    createdAt: input.createdAt,
    seeds: input.seeds,
    imageSize: input.imageSize,
    generator: input.generator,
    cohort: single ? names[0] : `all studies of the profiles ${names.join(', ')} together`,
    models: input.models,
    threshold: input.thresholds.fused,
    bootstrap,
    ...pooled.figures,
    profiles,
  };
  return { report, curves: { all: pooled.curves, byProfile } };
}

function stripProfile(p: ProfileEvaluation): CohortFigures {
  const { profile: _profile, heldOut: _heldOut, ...figures } = p;
  return figures;
}
