/**
 * The pancreas: its centre line from the uncinate process through head, neck and body to the
 * tail at the splenic hilum, the bulk of the head, the main duct (dilated upstream of a tumour
 * that obstructs it, with tail atrophy), and the tumour's paint slot.
 */
import type { Vec3 } from '../study/geometry';
import type { PancreasRegion, Structure } from './anatomyTypes';
import { jitter, structure } from './anatomyHelpers';
import type { PortalVeins } from './abdominalVessels';
import type { SeededRandom } from './random';
import type { PopulationDraw } from './randomisationTruth';
import { Ellipsoid, rotation, tube } from './shapes';

export interface PancreasCentreLine {
  /** Control points: uncinate process, head (2), neck, body (2), tail. */
  control: Vec3[];
  /** The region each control point lies in. */
  regionByControl: PancreasRegion[];
  /** Radius (mm) at each control point, before tail atrophy. */
  baseRadii: number[];
  headBulk: Ellipsoid;
}

export interface PancreasAndDuct {
  ductDilated: boolean;
  /** Pancreas, pancreatic duct, tumour: in paint order. */
  structures: Structure[];
}

/** The head in the duodenal C-loop right of the SMV, the neck in front of the portal confluence, the tail at the splenic hilum. */
export function drawPancreasCentreLine(rng: SeededRandom, portal: PortalVeins, splenicHilum: Vec3, population?: PopulationDraw): PancreasCentreLine {
  const confluence = portal.confluence;
  const usualSize = rng.uniform(0.8, 1.15);
  const size = population ? usualSize * population.pancreas.thicknessScale : usualSize;
  const usualControl: Vec3[] = [
    jitter(rng, [confluence[0] - 6, confluence[1] + 8, -40], 2),
    jitter(rng, [confluence[0] - 20, confluence[1] + 1, -24], 2),
    jitter(rng, [confluence[0] - 14, confluence[1] - 10, -7], 2),
    jitter(rng, [confluence[0] + 2, confluence[1] - 13, 2], 1.5),
    jitter(rng, [confluence[0] + 28, confluence[1] - 9, 8], 2),
    jitter(rng, [confluence[0] + 55, confluence[1] + 0, 15], 2),
    [splenicHilum[0] - 14, splenicHilum[1] - 4, splenicHilum[2] - 2],
  ];
  const control = population ? varyCourse(usualControl, population.pancreas) : usualControl;
  return {
    control,
    regionByControl: ['uncinate process', 'head', 'head', 'neck', 'body', 'body', 'tail'],
    baseRadii: [10, 15, 13, 8, 10, 9.5, 8].map((radius) => radius * size),
    headBulk: new Ellipsoid(headBulkCentre(confluence, population), [15 * size, 12 * size, 18 * size], rotation(0.3)),
  };
}

/** The bulk of the head, beside the portal confluence; it moves with the head's course. */
function headBulkCentre(confluence: Vec3, population: PopulationDraw | undefined): Vec3 {
  const usual: Vec3 = [confluence[0] - 16, confluence[1] + 1, -22];
  if (!population) return usual;
  const offset = population.pancreas.courseOffsetsMm[1];
  return [usual[0] + offset[0], usual[1] + offset[1], usual[2] + offset[2]];
}

/** Each control point moved by its offset, and the body and tail raised (or lowered) by the tail height. */
function varyCourse(control: Vec3[], pancreas: PopulationDraw['pancreas']): Vec3[] {
  const raise = [0, 0, 0, 0, 0.3, 0.6, 1];
  return control.map((point, i) => {
    const offset = pancreas.courseOffsetsMm[i];
    return [point[0] + offset[0], point[1] + offset[1], point[2] + offset[2] + raise[i] * pancreas.tailHeightMm];
  });
}

/** A tumour in the head or neck obstructs the main duct: upstream dilatation and tail atrophy. */
export function drawPancreasAndDuct(rng: SeededRandom, pancreas: PancreasCentreLine, tumourRegion: PancreasRegion): PancreasAndDuct {
  const obstructs = tumourRegion === 'head' || tumourRegion === 'neck' || tumourRegion === 'uncinate process';
  const ductDilated = obstructs && rng.bool(0.75);
  const pancreasRadii = pancreas.baseRadii.map((radius, i) => (ductDilated && i >= 4 ? radius * 0.75 : radius));
  const pancreasTube = tube(pancreas.control, pancreasRadii, 3);
  const ductControl = pancreas.control.slice(1);
  const ductRadius = ductDilated ? rng.uniform(2.5, 3.8) : 1.2;
  const duct = tube(ductControl, ductControl.map((_, i) => (i === 0 ? 1 : ductRadius)), 3);
  return {
    ductDilated,
    structures: [
      structure('pancreas', 'pancreas', [...pancreasTube, pancreas.headBulk], true),
      structure('pancreatic duct', 'water', duct, true),
      { name: 'tumour', tissue: 'tumour', shapes: [], moves: true, isTumour: true },
    ],
  };
}
