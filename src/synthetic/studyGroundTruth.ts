/**
 * The ground truth of a generated study (ground-truth.json): its series, the tumour in each phase
 * in patient coordinates, the tumour's biology and oracle, vessel contact, findings text, tissue
 * HU, landmarks for HU checks, acquisition and patient.
 */
import type { Vec3 } from '../study/geometry';
import { LABEL_DEFINITION } from './biology';
import { findingsText, type FindingsInput } from './findings';
import { GROUND_TRUTH_SCHEMA, type LandmarkTruth, type PhaseTruth, type SeriesTruth, type SyntheticGroundTruth } from './groundTruth';
import { findLandmark, LANDMARK_STRUCTURES } from './landmarks';
import { oracleScores } from './oracle';
import { profileOracle } from './profileBiology';
import type { StudyRandomisation } from './randomisationTruth';
import type { SeededRandom } from './random';
import { seriesUid } from './seriesSettings';
import type { StudyPlan } from './studyPlan';
import { tumourBounds, tumourLevel } from './tumourShape';
import { GENERATOR_VERSION } from './version';
import { measureVesselContact } from './vesselContact';

/** `findings` draws the findings text. */
export function studyGroundTruth(plan: StudyPlan, series: SeriesTruth[], findings: SeededRandom): SyntheticGroundTruth {
  const { anatomy, biology, geometry, patient } = plan;
  const vesselContact = measureVesselContact(anatomy.vessels, anatomy.tumour.shape, anatomy.tumour.centreLocal);
  const randomised = plan.randomisation;
  // A randomised profile's oracle divides the acquisition's enhancement scale out of the contrast.
  const oracle = randomised ? profileOracle(biology.enhancement.tpcHu, randomised.record.contrast.enhancementScale, randomised.profile) : oracleScores(biology.enhancement);
  const text = findingsText(findings, {
    region: anatomy.tumour.region,
    diameterMm: anatomy.tumour.diameterMm,
    enhancement: biology.enhancement,
    vesselContact,
    ductDilated: anatomy.ductDilated,
    ...(randomised ? profileFindings(randomised.record) : {}),
  });
  return {
    schema: GROUND_TRUTH_SCHEMA,
    seed: plan.seed,
    generatorVersion: GENERATOR_VERSION,
    studyInstanceUID: plan.study.studyInstanceUID,
    frameOfReferenceUID: plan.study.frameOfReferenceUID,
    series,
    phases: { arterial: phaseTruth(plan, 'arterial'), venous: phaseTruth(plan, 'venous') },
    tumour: {
      region: anatomy.tumour.region,
      diameterMm: round(anatomy.tumour.diameterMm, 2),
      shape: anatomy.tumour.shape,
      stromaFraction: round(biology.stromaFraction, 4),
      label: biology.label,
      labelDefinition: LABEL_DEFINITION,
      enhancement: biology.enhancement,
      oracle,
      vesselContact,
      ductDilated: anatomy.ductDilated,
    },
    findingsText: text,
    tissueHu: { arterial: plan.tissueHu.arterial, venous: plan.tissueHu.venous },
    landmarks: landmarkTruths(plan),
    acquisition: {
      columns: plan.columns,
      rows: plan.columns,
      pixelSpacingMm: geometry.grid.spacing,
      slices: plan.slices,
      sliceThicknessMm: geometry.thinSliceMm,
      spacingBetweenSlicesMm: geometry.thinIntervalMm,
      encoding: plan.encodingName,
      noiseSdHu: round(geometry.noiseSdHu, 2),
    },
    patient: { sex: patient.sex, ageYears: patient.ageYears, weightKg: round(patient.weightKg, 1), heightM: round(patient.heightM, 2) },
    ...(randomised ? { profile: randomised.profile.name, randomisation: randomised.record } : {}),
  };
}

/** The duct and the other secondary signs for the findings text of a randomised profile's study. */
function profileFindings(record: StudyRandomisation): Pick<FindingsInput, 'ductDiameterMm' | 'secondarySigns'> {
  const tumour = record.tumour;
  return {
    ductDiameterMm: tumour.ductDiameterMm,
    secondarySigns: { parenchymalAtrophy: tumour.parenchymalAtrophy, bileDuctDilated: tumour.bileDuctDilated, bileDuctDiameterMm: tumour.bileDuctDiameterMm },
  };
}

function toPatient(plan: StudyPlan, local: Vec3): Vec3 {
  const translation = plan.geometry.translation;
  return [local[0] + translation[0], local[1] + translation[1], local[2] + translation[2]];
}

/** The tumour in one phase: centre and bounding box in patient coordinates, breathing shift, delay. */
function phaseTruth(plan: StudyPlan, phase: 'arterial' | 'venous'): PhaseTruth {
  const shift = plan.geometry.breathingShifts[phase];
  const localCentre = plan.anatomy.tumour.centreLocal;
  const centre = toPatient(plan, [localCentre[0] + shift[0], localCentre[1] + shift[1], localCentre[2] + shift[2]]);
  const box = tumourBounds(plan.anatomy.tumour.shape, centre);
  const round3 = (vector: Vec3): Vec3 => [round(vector[0], 3), round(vector[1], 3), round(vector[2], 3)];
  const thickRole = phase === 'arterial' ? 'arterial-thick' : 'venous-thick';
  return {
    seriesInstanceUID: seriesUid(plan.uidSeed, phase),
    ...(plan.series.thick ? { thickSeriesInstanceUID: seriesUid(plan.uidSeed, thickRole) } : {}),
    tumourCentre: round3(centre),
    boundingBox: { min: round3(box.min), max: round3(box.max) },
    breathingShiftMm: round3(shift),
    delaySeconds: plan.protocol.delaySeconds[phase],
  };
}

/** A point of each landmark structure inside the thin slices' range, in both phases (patient coordinates). */
function landmarkTruths(plan: StudyPlan): LandmarkTruth[] {
  const { anatomy, geometry } = plan;
  const shifts = geometry.breathingShifts;
  const scanLow = geometry.thinZ[geometry.thinZ.length - 1] + 4;
  const scanHigh = geometry.thinZ[0] + -4;
  const landmarks: LandmarkTruth[] = [];
  for (const name of LANDMARK_STRUCTURES) {
    const structure = anatomy.structures.find((candidate) => candidate.name === name)!;
    const found = findLandmark(anatomy, name, scanLow, scanHigh, [shifts.arterial, shifts.venous], (point) => tumourLevel(anatomy.tumour.shape, anatomy.tumour.centreLocal, point) <= 1.1);
    if (!found) continue;
    const at = (phase: 'arterial' | 'venous'): Vec3 => {
      const shift = structure.moves ? shifts[phase] : ([0, 0, 0] as Vec3);
      const point = toPatient(plan, [found.point[0] + shift[0], found.point[1] + shift[1], found.point[2] + shift[2]]);
      return [round(point[0], 2), round(point[1], 2), round(point[2], 2)];
    };
    landmarks.push({ structure: name, tissue: structure.tissue, clearanceMm: found.clearanceMm, arterial: at('arterial'), venous: at('venous') });
  }
  return landmarks;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
