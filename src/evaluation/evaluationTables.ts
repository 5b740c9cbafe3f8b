/**
 * The markdown of `tsr-node evaluate` (DIR/evaluation.md): one summary row per centre profile,
 * then per profile the model card's table, the localiser, calibration and the goals. Pure.
 */
import { MODEL_ROLES } from './evaluationCase';
import type { CohortFigures } from './cohortFigures';
import type { EvaluationReport, ProfileEvaluation } from './evaluationReport';

export const f3 = (x: number): string => x.toFixed(3);
export const percent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;
export const interval = (c: [number, number]): string => `${f3(c[0])}-${f3(c[1])}`;
const span = (r: [number, number], unit = ''): string => (r[0] === r[1] ? `${r[0]}${unit}` : `${r[0]}-${r[1]}${unit}`);

/** Held out, or a training profile on held-out seeds. */
export function profileRole(p: Pick<ProfileEvaluation, 'heldOut'>): string {
  return p.heldOut ? 'held out' : 'training profile, held-out seeds';
}

/** "n = 400 (372 analysed, refused: tumour-not-found 28); 62% high TSR." */
export function cohortCounts(r: CohortFigures): string {
  const refused = Object.entries(r.refused);
  const failed = r.failed.length ? `, failed ${r.failed.length}` : '';
  return `n = ${r.n} (${r.nAnalysed} analysed${refused.length ? `, refused: ${refused.map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}${failed}); ${percent(r.prevalenceHigh, 0)} high TSR`;
}

/** The images: what was asked of the generator, or the range the profile drew. */
export function imageDescription(report: Pick<EvaluationReport, 'imageSize'>, figures: CohortFigures): string {
  const s = figures.imageSizes;
  if (!s) return `${report.imageSize.columns} x ${report.imageSize.columns} px, ${report.imageSize.slices} slices per phase`;
  return `${span(s.columns)} px square, ${span(s.slices)} slices of ${span(s.sliceSpacingMm, ' mm')} per phase`;
}

/** The per-model table of one cohort (the model card's table). */
export function modelTable(r: CohortFigures): string[] {
  const rows = MODEL_ROLES.map((role) => {
    const name = role === 'fused' ? 'fused (both phases)' : `${role} only`;
    const op = r.operatingPoints[role];
    return `| ${name} | ${f3(r.auc[role])} (${interval(r.auc95ci[role])}) | ${f3(r.oracleAuc[role])} | ${f3(r.aucAtTrueCentre[role])} | ${f3(r.eceByModel[role])} | ${f3(op.sensitivity)} / ${f3(op.specificity)} at ${f3(op.threshold)} |`;
  });
  return ['| model | AUC (95% CI) | oracle AUC | AUC at true centre | ECE | sensitivity / specificity |', '| --- | --- | --- | --- | --- | --- |', ...rows];
}

export function localiserLine(r: CohortFigures): string {
  const l = r.localiser;
  const bySize = Object.entries(l.hitRateBySize).map(([band, b]) => `${band} ${percent(b.hitRate, 0)} of ${b.n}`).join(', ');
  return (
    `Localiser: centre inside the tumour in ${percent(l.hitRate)} of studies (arterial ${percent(l.arterialHitRate)}); ` +
    `refused ${l.refused.n} (${percent(l.refused.rate)}); confident about the wrong place in ${l.wrongPlace.n} (${percent(l.wrongPlace.rate)}); ` +
    `median error ${l.medianVenousErrorMm.toFixed(1)} mm venous, ${l.medianArterialErrorMm.toFixed(1)} mm arterial. By tumour size: ${bySize}.`
  );
}

/** The cascade's line (two-stage localiser only): Dice of each stage, the candidates and the localisation confidence's ECE. */
export function cascadeLine(r: CohortFigures): string | undefined {
  const c = r.localiser.cascade;
  if (!c) return undefined;
  const dice = (s: { n: number; mean: number; median: number }): string => (s.n ? `mean ${f3(s.mean)}, median ${f3(s.median)} (n = ${s.n})` : 'none');
  const inside = c.candidateInsideRate === null ? 'none' : `${percent(c.candidateInsideRate)} in the tumour`;
  const ece = c.confidenceEce === null ? 'none' : f3(c.confidenceEce);
  return `Two stages: pancreas Dice ${dice(c.pancreasDice)}; tumour Dice ${dice(c.tumourDice)}; a candidate in ${c.candidates} studies (${inside}); ECE of the localisation confidence ${ece}.`;
}

export function calibrationLine(r: CohortFigures): string {
  return `ECE of the fused model ${f3(r.ece)}; a perfectly calibrated model would show ${f3(r.eceSamplingFloor.mean)} on these ${r.nAnalysed} studies from sampling alone (95th percentile ${f3(r.eceSamplingFloor.p95)}).`;
}

/** A goal's value: a count as it is, a rate or difference to three decimals. */
export const goalValue = (value: number): string => (Number.isInteger(value) ? String(value) : f3(value));

/** One cohort: its description, the model table, localiser, calibration and goals. */
function cohortSection(heading: string, r: CohortFigures): string[] {
  return [
    `${heading}; ${cohortCounts(r)}.`,
    '',
    ...modelTable(r),
    '',
    localiserLine(r),
    '',
    ...(cascadeLine(r) ? [cascadeLine(r)!, ''] : []),
    calibrationLine(r),
    '',
    ...Object.entries(r.goals).map(([name, g]) => `- ${g.met ? 'met' : 'NOT met'}: ${name} (${g.target}): ${goalValue(g.value)}`),
    '',
  ];
}

/** The table of the top-level cohort of a report (one profile, or all together). */
export function evaluationTable(r: EvaluationReport): string {
  const heading = `Held-out synthetic cohort (${r.cohort}): seeds ${r.seeds.from}..${r.seeds.to}, ${imageDescription(r, r)}`;
  return cohortSection(heading, r).join('\n');
}

/** One row per profile: the figures issue 19 asks for, side by side. */
export function profileSummaryTable(r: Pick<EvaluationReport, 'profiles'>): string[] {
  const smallTumours = (p: ProfileEvaluation): string => (p.localiser.smallTumourHitRate === null ? 'none' : `${percent(p.localiser.smallTumourHitRate, 0)} of ${p.localiser.smallTumours}`);
  const rows = r.profiles.map(
    (p) =>
      `| ${p.profile} | ${profileRole(p)} | ${p.n} | ${p.nAnalysed} | ${f3(p.auc.fused)} (${interval(p.auc95ci.fused)}) | ${f3(p.auc.arterial)} (${interval(p.auc95ci.arterial)}) | ` +
      `${f3(p.auc.venous)} (${interval(p.auc95ci.venous)}) | ${f3(p.oracleAucAll.fused)} | ${f3(p.ece)} | ${percent(p.localiser.hitRate)} | ${smallTumours(p)} | ` +
      `${percent(p.localiser.refused.rate)} | ${percent(p.localiser.wrongPlace.rate)} |`,
  );
  return [
    '| profile | cohort | n | analysed | fused AUC (95% CI) | arterial AUC (95% CI) | venous AUC (95% CI) | oracle AUC (fused, all n) | ECE (fused) | centre inside tumour | under 20 mm | refused | wrong place |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ];
}

/** DIR/evaluation.md: the summary per profile, then each profile's section with its ROC plot. */
export function evaluationMarkdown(r: EvaluationReport, rocFileOf: (profile: string) => string): string {
  const models = Object.values(r.models).map((m) => `${m.name} ${m.version}`).join(', ');
  const lines = [
    '# Evaluation through the node',
    '',
    `Models: ${models}. Seeds ${r.seeds.from}..${r.seeds.to} for each profile (held out: never used in training); ${r.generator}. ${r.createdAt}.`,
    '',
    ...profileSummaryTable(r),
    '',
    'Oracle AUC: the generator\'s ideal observer on the same studies. Localiser rates are over all studies (each holds one tumour); wrong place: a result whose centre lies outside the tumour.',
    '',
  ];
  for (const p of r.profiles) {
    const heading = `Profile ${p.profile} (${profileRole(p)}): ${imageDescription(r, p)}`;
    lines.push(`## ${p.profile}`, '', ...cohortSection(heading, p), `![ROC curves, profile ${p.profile}](${rocFileOf(p.profile)})`, '');
  }
  if (r.profiles.length > 1) lines.push('## All profiles together', '', evaluationTable(r));
  return lines.join('\n');
}
