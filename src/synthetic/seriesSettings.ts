/**
 * The series of a study and each one's settings: which extras it has, their numbers, UIDs and
 * descriptions, the order of their instance numbers, and the CT series attributes they write.
 */
import { phaseStartSeconds } from './acquisitionProtocol';
import type { CtSeriesAttributes } from './ctImage';
import { dicomTime } from './dicomDateTime';
import { seriesDescription, type NamingStyle, type SeriesRole } from './naming';
import type { SeededRandom } from './random';
import type { ExtrasOption, InstanceOrder, InstanceOrderOption, SeriesDescriptions, SeriesSelection, StudyPlan } from './studyPlan';

export type { ExtrasOption, InstanceOrder, InstanceOrderOption, SeriesDescriptions, SeriesSelection } from './studyPlan';
import type { ContrastPhase } from './tissues';
import { syntheticUid } from './uid';

/** Which extras the study has: none, all, or each drawn (localizer, non-contrast, 5 mm recons, delayed, dose report). */
export function drawSeriesSelection(acquisition: SeededRandom, extras: ExtrasOption): SeriesSelection {
  const want = (probability: number): boolean => extras === 'all' || (extras === 'random' && acquisition.bool(probability));
  const localizer = want(0.7);
  const nonContrast = want(0.55);
  const thick = want(0.5);
  const delayed = want(0.35);
  const doseReport = want(0.5);
  const roles: SeriesRole[] = [];
  if (localizer) roles.push('localizer');
  if (nonContrast) roles.push('non-contrast');
  roles.push('arterial');
  if (thick) roles.push('arterial-thick');
  roles.push('venous');
  if (thick) roles.push('venous-thick');
  if (delayed) roles.push('delayed');
  if (doseReport) roles.push('dose-report');
  return { roles, thick, delayed, doseReport };
}

/** Series and study descriptions, from the `naming` stream. */
export function drawDescriptions(names: SeededRandom, roles: SeriesRole[], naming: NamingStyle): SeriesDescriptions {
  const bySeries = new Map<SeriesRole, string>(roles.map((role) => [role, seriesDescription(names, role, naming)]));
  const study = naming === 'blank' ? '' : names.pick(['CT ABDOMEN PANCREAS PROTOCOL', 'CT Pancreas', 'Abdomen^Pancreas', 'CT 胰腺增强', '膵臓ダイナミックCT', 'CT Abdomen biphasisch']);
  return { bySeries, study };
}

/** Series numbers in order from 1; the dose report takes series number 999, as many scanners number it. */
export function numberSeries(roles: SeriesRole[]): Map<SeriesRole, number> {
  let seriesNumber = 1;
  const seriesNumbers = new Map<SeriesRole, number>();
  for (const role of roles) seriesNumbers.set(role, role === 'dose-report' ? 999 : seriesNumber++);
  return seriesNumbers;
}

export function seriesUid(seed: string | number, role: SeriesRole): string {
  return syntheticUid(seed, 'series', role);
}

/** How InstanceNumber follows position: as asked, or drawn (70% head first, 15% feet first, 15% shuffled). */
export function drawInstanceOrder(acquisition: SeededRandom, asked: InstanceOrderOption): InstanceOrder {
  return asked !== 'random' ? asked : (['head-first', 'feet-first', 'shuffled'] as const)[acquisition.weightedIndex([0.7, 0.15, 0.15])];
}

/** A dose-dependent figure at a randomised profile's dose factor; unchanged without one. */
const withDose = (value: number, doseFactor: number | undefined): number => (doseFactor === undefined ? value : value * doseFactor);

/**
 * The CT series attributes of a series: an axial series of the study's grid, or (role
 * 'localizer') the settings the caller then adjusts for the projection. `phase` null: no contrast
 * phase, the scan at the start of the study.
 */
export function ctSeriesAttributes(
  plan: StudyPlan,
  role: SeriesRole,
  phase: ContrastPhase | null,
  thicknessMm: number | undefined,
  spacingMm: number | undefined,
  acquisitionNumber: number,
): CtSeriesAttributes {
  const { protocol, patient } = plan;
  const start = phase === null ? patient.studyStartSeconds + 30 : phaseStartSeconds(protocol, phase);
  const spacing = plan.geometry.grid.spacing;
  return {
    seriesInstanceUID: seriesUid(plan.uidSeed, role),
    seriesNumber: plan.seriesNumbers.get(role)!,
    seriesDescription: plan.descriptions.bySeries.get(role) ?? '',
    protocolName: plan.naming === 'blank' ? '' : 'Pancreas dual phase',
    seriesDate: plan.study.studyDate,
    seriesTime: dicomTime(start),
    patientPosition: protocol.patientPosition,
    imageType: role === 'localizer' ? ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] : ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    kvp: protocol.kvp,
    tubeCurrentMa: role === 'localizer' ? 35 : Math.round(withDose(150 + (patient.weightKg - 60) * 2.5, protocol.doseFactor)),
    exposureTimeMs: role === 'localizer' ? 2000 : 500,
    convolutionKernel: protocol.convolutionKernel,
    reconstructionDiameterMm: plan.geometry.fieldOfViewMm,
    ...(thicknessMm !== undefined ? { sliceThicknessMm: thicknessMm } : {}),
    ...(spacingMm !== undefined ? { spacingBetweenSlicesMm: spacingMm } : {}),
    acquisitionNumber,
    acquisitionDate: plan.study.studyDate,
    ...(protocol.timingTagsPresent ? { acquisitionTime: dicomTime(start) } : {}),
    ...(role === 'localizer' ? {} : { ctdiVol: Math.round(withDose(8 + (patient.weightKg - 60) * 0.15, protocol.doseFactor) * 100) / 100 }),
    ...(phase !== null && phase !== 'non-contrast' ? { contrast: protocol.contrast } : {}),
    encoding: plan.encoding,
    rows: plan.columns,
    columns: plan.columns,
    pixelSpacing: [spacing, spacing],
    imageOrientation: [1, 0, 0, 0, 1, 0],
  };
}
