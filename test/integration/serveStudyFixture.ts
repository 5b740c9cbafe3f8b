/**
 * Small dual-phase studies for the serve, API and log tests: two axial CT series (pancreatic and
 * portal-venous, by description) on one frame of reference, soft tissue with one bright sphere
 * that the tiny fixture localiser lights up (test/fixtures/tiny-models). 96 x 96 x 24 voxels of
 * 1.5 x 1.5 x 2.5 mm: large enough for the localiser's grid, small enough to be quick.
 *
 * Each study carries a patient name, ID and birth date of its own, so that the log test can look
 * for them.
 */
import path from 'node:path';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../harness/simpleCtSeries';
import type { OrthancInstance } from '../harness/orthanc';

export const TINY_MODELS_DIR = path.resolve(__dirname, '../fixtures/tiny-models');

export interface SphereStudy {
  studyInstanceUID: string;
  arterial: SimpleCtSeries;
  venous: SimpleCtSeries;
  patient: { name: string; id: string; birthDate: string };
}

export interface SphereStudyOptions {
  seed: string;
  /** Which phases to make; default both (one phase gives a `single-phase` study). */
  phases?: Array<'arterial' | 'venous'>;
  patient?: { name: string; id: string; birthDate: string };
}

const COLUMNS = 96;
const SLICES = 24;
const SPACING = 1.5;
const THICKNESS = 2.5;

export function makeSphereStudy(options: SphereStudyOptions): SphereStudy {
  const patient = options.patient ?? { name: `Testperson^${options.seed}`, id: `PID-${options.seed}`, birthDate: '19610203' };
  const extra = { PatientName: patient.name, PatientID: patient.id, PatientBirthDate: patient.birthDate, ContrastBolusAgent: 'Iohexol' };
  // Sphere of radius 10 mm around column 58, row 44, slice 12 (patient coordinates follow the harness's geometry).
  const sphere = (hu: number) => (i: number, j: number, k: number): number => {
    const d2 = ((i - 58) * SPACING) ** 2 + ((j - 44) * SPACING) ** 2 + ((k - 12) * THICKNESS) ** 2;
    return d2 <= 100 ? hu : 40;
  };
  const common = { seed: options.seed, rows: COLUMNS, columns: COLUMNS, slices: SLICES, sliceThickness: THICKNESS, pixelSpacing: [SPACING, SPACING] as [number, number], extra };
  const arterial = makeSimpleCtSeries({ ...common, seriesNumber: 2, seriesDescription: 'Pancreatic phase 2.5 mm', pixel: sphere(260) });
  const venous = makeSimpleCtSeries({ ...common, seriesNumber: 3, seriesDescription: 'Portal venous phase 2.5 mm', studyInstanceUID: arterial.studyInstanceUID, pixel: sphere(200) });
  return { studyInstanceUID: arterial.studyInstanceUID, arterial, venous, patient };
}

/** Sends the study's instances to Orthanc (REST, one POST per instance). */
export async function uploadSphereStudy(orthanc: OrthancInstance, study: SphereStudy, phases: Array<'arterial' | 'venous'> = ['arterial', 'venous']): Promise<void> {
  for (const phase of phases) {
    for (const instance of study[phase].instances) await orthanc.rest('POST', '/instances', instance.part10);
  }
}
