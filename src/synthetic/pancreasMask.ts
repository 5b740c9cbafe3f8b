/**
 * The pancreas mask of a synthetic study on any grid in patient space: the gland (its tube and
 * head) and the tumour, which lies in it, where the study shows them in one phase (breathing
 * moves the gland between phases). Re-plans the study from its options (no pixels are rendered),
 * so it needs the options `generateStudy` was given, not the ground-truth sidecar.
 *
 * The stage-1 (pancreas) training target and the evaluation's pancreas Dice come from here.
 */
import { indexToPatient, type Geometry, type Vec3 } from '../study/geometry';
import type { IntervalShape } from './shapes';
import { planStudy, type SyntheticStudyOptions } from './study';
import type { StudyPlan } from './studyPlan';
import { tumourBounds, tumourLevel } from './tumourShape';

type Phase = 'arterial' | 'venous';

/** The structure names whose voxels count as pancreas (the duct lies inside the gland). */
const PANCREAS_STRUCTURES = new Set(['pancreas']);

interface LocalFrame {
  /** Patient point -> the anatomy's local frame for organs that move with breathing. */
  offset: Vec3;
}

function frameOf(plan: StudyPlan, phase: Phase): LocalFrame {
  const t = plan.geometry.translation;
  const s = plan.geometry.breathingShifts[phase];
  return { offset: [t[0] + s[0], t[1] + s[1], t[2] + s[2]] };
}

function insideShape(shape: IntervalShape, q: Vec3, scratch: Float64Array): boolean {
  const b = shape.bounds;
  if (q[0] < b.min[0] || q[0] > b.max[0] || q[1] < b.min[1] || q[1] > b.max[1] || q[2] < b.min[2] || q[2] > b.max[2]) return false;
  return shape.interval(q[1], q[2], scratch) && q[0] >= scratch[0] && q[0] <= scratch[1];
}

/** 1 where the voxel centre lies in the pancreas (tumour included) in that phase, else 0; index k*rows*cols + j*cols + i. */
export function rasterisePancreasMaskOfPlan(plan: StudyPlan, phase: Phase, geometry: Geometry): Uint8Array {
  const shapes = plan.anatomy.structures.filter((s) => PANCREAS_STRUCTURES.has(s.name)).flatMap((s) => s.shapes);
  const tumour = plan.anatomy.tumour;
  const tumourBox = tumourBounds(tumour.shape, tumour.centreLocal);
  const inTumourBox = (q: Vec3): boolean => q.every((v, a) => v >= tumourBox.min[a] && v <= tumourBox.max[a]);
  const { offset } = frameOf(plan, phase);
  const [nx, ny, nz] = geometry.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const scratch = new Float64Array(2);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = indexToPatient(geometry, i, j, k);
        const q: Vec3 = [p[0] - offset[0], p[1] - offset[1], p[2] - offset[2]];
        let inside = false;
        for (const shape of shapes) {
          if (insideShape(shape, q, scratch)) {
            inside = true;
            break;
          }
        }
        if (!inside && inTumourBox(q)) inside = tumourLevel(tumour.shape, tumour.centreLocal, q) <= 1;
        if (inside) mask[(k * ny + j) * nx + i] = 1;
      }
    }
  }
  return mask;
}

/** The pancreas mask of the study `generateStudy(options)` makes, in one phase, on `geometry`. */
export function rasterisePancreasMask(options: SyntheticStudyOptions, phase: Phase, geometry: Geometry): Uint8Array {
  return rasterisePancreasMaskOfPlan(planStudy(options), phase, geometry);
}
