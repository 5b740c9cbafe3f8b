/**
 * The solid organs of the upper abdomen: liver (with its portal and hepatic veins), gallbladder,
 * the lung bases above the diaphragm, spleen, and kidneys (cortex, medulla, sinus fat) with their
 * renal veins.
 */
import type { Vec3 } from '../study/geometry';
import type { Structure } from './anatomyTypes';
import { add, structure, Z_HIGH } from './anatomyHelpers';
import type { GreatVessels, PortalVeins } from './abdominalVessels';
import type { BodyWall } from './bodyWall';
import type { SeededRandom } from './random';
import type { PopulationDraw } from './randomisationTruth';
import { Ellipsoid, Intersection, Lobulated, rotation, Slab, tube, type IntervalShape } from './shapes';
import type { Spine } from './skeleton';

export interface Spleen {
  centre: Vec3;
  /** Where the splenic vessels enter it, anteromedially. */
  hilum: Vec3;
  structure: Structure;
}

export interface Kidneys {
  /** Kidney cortex, kidney medulla, renal sinus fat. */
  structures: Structure[];
  /** Right, then left renal vein; the left one crosses between the SMA and the aorta. */
  renalVeins: IntervalShape[];
}

/** Lung bases, liver, portal vein branches, hepatic veins and (when present) the gallbladder, in paint order. */
export interface LiverAndLungBases {
  structures: Structure[];
  gallbladderPresent: boolean;
}

const scaled = (vector: Vec3, factor: number): Vec3 => [vector[0] * factor, vector[1] * factor, vector[2] * factor];

/** Spleen, posterolateral in the left upper quadrant; its hilum faces anteromedially. */
export function drawSpleen(rng: SeededRandom, body: BodyWall, population?: PopulationDraw): Spleen {
  const { cavityHalfWidthMm, cavityHalfDepthMm, cavityCentreY } = body;
  const usualCentre: Vec3 = [cavityHalfWidthMm * rng.uniform(0.58, 0.68), cavityCentreY + cavityHalfDepthMm * rng.uniform(0.25, 0.45), rng.uniform(35, 60)];
  const centre = population ? add(usualCentre, population.organShiftMm.spleen) : usualCentre;
  const yaw = -rng.uniform(0.4, 0.8);
  const radii: Vec3 = [rng.uniform(17, 23), rng.uniform(48, 62), rng.uniform(42, 55)];
  const spleen = new Ellipsoid(centre, population ? scaled(radii, population.organScale.spleen) : radii, rotation(yaw + Math.PI / 2, 0.15));
  const hilum: Vec3 = [centre[0] - 24, centre[1] - 18, centre[2] - 12];
  return { centre, hilum, structure: structure('spleen', 'spleen', new Intersection([body.cavity, spleen]), true) };
}

/** Both kidneys beside the spine (the right one lower) and their veins to the IVC. */
export function drawKidneys(rng: SeededRandom, spine: Spine, great: GreatVessels, population?: PopulationDraw): Kidneys {
  const { aortaX, aortaY, aortaRadiusMm, cavaX, cavaY, smaOriginZ } = great;
  const cortex: IntervalShape[] = [];
  const medulla: IntervalShape[] = [];
  const sinus: IntervalShape[] = [];
  const renalVeins: IntervalShape[] = [];
  const zLeftKidney = rng.uniform(-45, -20);
  for (const side of [-1, 1]) {
    const zUsual = side > 0 ? zLeftKidney : zLeftKidney - rng.uniform(8, 20);
    const usualCentre: Vec3 = [side * (spine.vertebraHalfWidthMm + rng.uniform(32, 42)), spine.vertebraY + rng.uniform(2, 12), zUsual];
    const centre = population ? add(usualCentre, population.organShiftMm.kidneys) : usualCentre;
    const zKidney = centre[2];
    const orientation = rotation(side * rng.uniform(0.35, 0.6), side * 0.1, 0.12);
    const usualRadii: Vec3 = [rng.uniform(24, 29), rng.uniform(20, 25), rng.uniform(48, 58)];
    const radii = population ? scaled(usualRadii, population.organScale.kidneys) : usualRadii;
    cortex.push(new Ellipsoid(centre, radii, orientation));
    medulla.push(new Ellipsoid(centre, [radii[0] * 0.6, radii[1] * 0.58, radii[2] * 0.74], orientation));
    sinus.push(new Ellipsoid([centre[0] - side * 10, centre[1] - 4, centre[2]], [8, 8, radii[2] * 0.45], orientation));
    const hilum: Vec3 = [centre[0] - side * 22, centre[1] - 8, zKidney + 6];
    if (side > 0) {
      renalVeins.push(...tube([hilum, [aortaX + aortaRadiusMm + 6, aortaY - aortaRadiusMm - 3, smaOriginZ - 9], [aortaX, aortaY - aortaRadiusMm - 3.5, smaOriginZ - 10], [cavaX, cavaY, smaOriginZ - 8]], [5, 4.5, 3.5, 5]));
    } else {
      renalVeins.push(...tube([hilum, [cavaX - 6, cavaY + 2, zKidney + 10]], 5));
    }
  }
  return {
    structures: [structure('kidney cortex', 'kidneyCortex', cortex, true), structure('kidney medulla', 'kidneyMedulla', medulla, true), structure('renal sinus fat', 'fat', sinus, true)],
    renalVeins,
  };
}

/** Liver (right and left lobes), lung bases, gallbladder (absent in 10%), portal branches and hepatic veins. */
export function drawLiverAndLungBases(rng: SeededRandom, body: BodyWall, portal: PortalVeins, great: GreatVessels, population?: PopulationDraw): LiverAndLungBases {
  const { cavity, cavityHalfWidthMm: halfWidth, cavityHalfDepthMm: halfDepth, cavityCentreY: centreY } = body;
  const shift: Vec3 = population ? population.organShiftMm.liver : [0, 0, 0];
  const size = population ? population.organScale.liver : 1;
  const zUsual = rng.uniform(45, 70);
  const zLiver = population ? zUsual + shift[2] : zUsual;
  const rightCentre: Vec3 = [-halfWidth * 0.42, centreY - halfDepth * 0.04, zLiver];
  const rightRadii: Vec3 = [halfWidth * rng.uniform(0.5, 0.6), halfDepth * 0.82, rng.uniform(82, 100)];
  const liverRight = new Lobulated(
    new Intersection([cavity, new Ellipsoid(population ? add(rightCentre, [shift[0], shift[1], 0]) : rightCentre, population ? scaled(rightRadii, size) : rightRadii, rotation(0.1))]),
    2.5,
    [rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6)],
  );
  const leftCentre: Vec3 = [halfWidth * rng.uniform(0.0, 0.12), centreY - halfDepth * 0.55, zLiver + rng.uniform(12, 28)];
  const leftRadii: Vec3 = [halfWidth * rng.uniform(0.42, 0.55), halfDepth * 0.34, 48];
  const liverLeft = new Intersection([
    cavity,
    new Ellipsoid(population ? add(leftCentre, [shift[0], shift[1], 0]) : leftCentre, population ? scaled(leftRadii, size) : leftRadii, rotation(-0.25)),
  ]);
  const lungBase = rng.uniform(55, 95);
  const lungs = new Intersection([cavity, new Slab(-1e4, 1e4, lungBase, Z_HIGH)]);
  const gallbladderPresent = rng.bool(0.9);
  const gallbladder = new Ellipsoid([-halfWidth * rng.uniform(0.25, 0.35), centreY - halfDepth * 0.5, rng.uniform(-5, 20)], [rng.uniform(11, 16), rng.uniform(12, 18), rng.uniform(28, 40)], rotation(0.3, 0, 0.5));
  const hilum = portal.liverHilum;
  const portalBranches = [
    ...tube([hilum, [-halfWidth * 0.5, hilum[1] + 8, hilum[2] + 8], [-halfWidth * 0.75, hilum[1] + 15, hilum[2] + 20]], [4.5, 3.5, 2]),
    ...tube([hilum, [hilum[0] + 25, hilum[1] - 12, hilum[2] + 12], [halfWidth * 0.05, centreY - halfDepth * 0.55, zLiver + 20]], [4, 3, 2]),
  ];
  const hepaticVeins: IntervalShape[] = [];
  const cavaTop: Vec3 = [great.cavaX - 2, great.cavaY - 20, zLiver + 70];
  for (const target of [[-halfWidth * 0.75, centreY, zLiver + 10], [-halfWidth * 0.25, centreY - halfDepth * 0.55, zLiver + 15], [halfWidth * 0.15, centreY - halfDepth * 0.5, zLiver + 40]] as Vec3[]) {
    hepaticVeins.push(...tube([cavaTop, [(cavaTop[0] + target[0]) / 2, (cavaTop[1] + target[1]) / 2, (cavaTop[2] + target[2]) / 2 + 8], target], [5.5, 4, 2]));
  }
  const structures = [
    structure('lung bases', 'lung', lungs, true),
    structure('liver', 'liver', [liverRight, liverLeft], true),
    structure('portal vein branches', 'portalVein', portalBranches, true),
    structure('hepatic veins', 'hepaticVein', hepaticVeins, true),
  ];
  if (gallbladderPresent) structures.push(structure('gallbladder', 'bile', new Intersection([cavity, gallbladder]), true));
  return { structures, gallbladderPresent };
}
