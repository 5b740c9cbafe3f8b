/**
 * The gastrointestinal tract: stomach (wall, contents, an air level) and antrum, duodenum (the
 * C-loop around the pancreatic head), colon, and the jejunal and ileal loops of the small bowel.
 */
import type { Vec3 } from '../study/geometry';
import type { Structure } from './anatomyTypes';
import { add, jitter, structure } from './anatomyHelpers';
import type { GreatVessels, PortalVeins } from './abdominalVessels';
import type { BodyWall } from './bodyWall';
import type { SeededRandom } from './random';
import type { PopulationDraw } from './randomisationTruth';
import { Ellipsoid, Intersection, rotation, Slab, tube, type IntervalShape } from './shapes';
import type { Spine } from './skeleton';

export interface StomachAndDuodenum {
  /** Stomach wall, contents and air. */
  stomach: Structure[];
  /** Duodenal wall and contents (painted after the mesenteric vessels). */
  duodenum: Structure[];
}

/** The stomach in the left upper quadrant, its antrum to the pylorus, and the duodenal C-loop to the duodenojejunal flexure. */
export function drawStomachAndDuodenum(rng: SeededRandom, body: BodyWall, great: GreatVessels, portal: PortalVeins, population?: PopulationDraw): StomachAndDuodenum {
  const { cavity, cavityHalfWidthMm: halfWidth, cavityHalfDepthMm: halfDepth, cavityCentreY: centreY } = body;
  const { aortaX, aortaY, aortaRadiusMm } = great;
  const confluence = portal.confluence;
  const usualCentre: Vec3 = [halfWidth * rng.uniform(0.3, 0.45), centreY - halfDepth * rng.uniform(0.35, 0.5), rng.uniform(38, 65)];
  const stomachCentre = population ? add(usualCentre, population.organShiftMm.stomach) : usualCentre;
  const usualRadii: Vec3 = [rng.uniform(38, 50), rng.uniform(26, 36), rng.uniform(45, 60)];
  // Filling: an empty stomach is collapsed (about 0.65 of the usual radii), a full one distended (1.2).
  const filling = population ? 0.65 + 0.55 * population.stomachFilling : 1;
  const stomachRadii: Vec3 = population ? [usualRadii[0] * filling, usualRadii[1] * filling, usualRadii[2] * filling] : usualRadii;
  const stomachOrientation = rotation(-rng.uniform(0.2, 0.5), 0.3, 0);
  const stomachOuter = new Intersection([cavity, new Ellipsoid(stomachCentre, stomachRadii, stomachOrientation)]);
  const stomachInner = new Intersection([cavity, new Ellipsoid(stomachCentre, [stomachRadii[0] - 4, stomachRadii[1] - 4, stomachRadii[2] - 4], stomachOrientation)]);
  const airLevel = stomachCentre[1] - stomachRadii[1] * rng.uniform(0.2, 0.9);
  const stomachAir = new Intersection([stomachInner, new Slab(-1e4, airLevel)]);
  const pylorus: Vec3 = [confluence[0] + rng.uniform(-5, 10), centreY - halfDepth * 0.62, rng.uniform(8, 20)];
  const antrum: Vec3[] = [stomachCentre, [(stomachCentre[0] + pylorus[0]) / 2, pylorus[1] - 5, (stomachCentre[2] + pylorus[2]) / 2 - 5], pylorus];
  const duodenum: Vec3[] = [
    pylorus,
    [confluence[0] - 30, pylorus[1] + 12, pylorus[2]],
    [confluence[0] - 42, confluence[1] - 2, -8],
    [confluence[0] - 44, confluence[1] + 4, -42],
    [confluence[0] - 20, great.aortaFrontY - 6, -62],
    [aortaX, aortaY - aortaRadiusMm - 7, -66],
    [aortaX + 25, aortaY - aortaRadiusMm - 12, -52],
    [aortaX + 32, aortaY - aortaRadiusMm - 20, -35],
  ];
  const duodenumRadii = [12, 11, 11, 11, 10, 7, 10, 10];
  return {
    stomach: [
      structure('stomach wall', 'bowelWall', [stomachOuter, ...tube(antrum, [22, 16, 11])], true),
      structure('stomach contents', 'water', [stomachInner, ...tube(antrum, [18, 12, 7.5])], true),
      structure('stomach air', 'air', stomachAir, true),
    ],
    duodenum: [
      structure('duodenal wall', 'bowelWall', tube(duodenum, duodenumRadii, 4), true),
      structure('duodenal contents', 'water', tube(duodenum, duodenumRadii.map((radius) => radius - 2.5), 4), true),
    ],
  };
}

/** The colon: ascending, transverse (below the spleen's level on the left) and descending; wall and contents. */
export function drawColon(rng: SeededRandom, body: BodyWall, spleenCentreZ: number): Structure[] {
  const { cavityHalfWidthMm: halfWidth, cavityHalfDepthMm: halfDepth, cavityCentreY: centreY } = body;
  const colon = [
    [-halfWidth * 0.65, centreY + 5, -200],
    [-halfWidth * 0.66, centreY - halfDepth * 0.1, -90],
    [-halfWidth * 0.6, centreY - halfDepth * 0.35, -45],
    [-halfWidth * 0.2, centreY - halfDepth * 0.72, -60],
    [halfWidth * 0.3, centreY - halfDepth * 0.68, -45],
    [halfWidth * 0.64, centreY - halfDepth * 0.1, spleenCentreZ - 40],
    [halfWidth * 0.7, centreY + halfDepth * 0.2, -100],
    [halfWidth * 0.68, centreY + halfDepth * 0.15, -200],
  ].map((point) => jitter(rng, point as Vec3, 4));
  const colonRadius = rng.uniform(18, 25);
  return [structure('colon wall', 'bowelWall', tube(colon, colonRadius, 6), true), structure('colon contents', 'stool', tube(colon, colonRadius - 2.5, 6), true)];
}

/**
 * Jejunal and ileal loops fill the mesentery below the transverse mesocolon; they stay below
 * the pancreas (lower on the right, where the head and duodenum are) and in front of the spine.
 */
export function drawSmallBowel(rng: SeededRandom, body: BodyWall, spine: Spine, population?: PopulationDraw): Structure[] {
  const { cavityHalfWidthMm: halfWidth, cavityHalfDepthMm: halfDepth, cavityCentreY: centreY } = body;
  const wall: IntervalShape[] = [];
  const lumen: IntervalShape[] = [];
  const usualLoops = rng.int(9, 14);
  const loops = population ? population.bowelLoops : usualLoops;
  const yBowelMax = Math.min(centreY + 0.1 * halfDepth, spine.vertebraY - spine.vertebraHalfDepthMm - 25);
  const clampPoint = (point: Vec3): Vec3 => {
    const x = Math.max(-0.5 * halfWidth, Math.min(0.65 * halfWidth, point[0]));
    const y = Math.max(centreY - 0.72 * halfDepth, Math.min(yBowelMax, point[1]));
    // Anterior jejunal loops on the left reach up beside the stomach.
    const zTop = x > 0 ? (y < centreY - 0.2 * halfDepth ? 20 : -30) : -60;
    return [x, y, Math.max(-260, Math.min(zTop, point[2]))];
  };
  for (let loop = 0; loop < loops; loop++) {
    let point: Vec3 = clampPoint([rng.uniform(-0.4, 0.6) * halfWidth, centreY + rng.uniform(-0.65, 0.05) * halfDepth, rng.uniform(-220, -30)]);
    const control: Vec3[] = [point];
    for (let step = 0; step < 5; step++) {
      point = clampPoint(add(point, [rng.gaussian(0, 22), rng.gaussian(0, 12), rng.gaussian(0, 16)]));
      control.push(point);
    }
    const usualRadius = rng.uniform(8, 13);
    const radius = population ? usualRadius * population.bowelCalibreScale : usualRadius;
    wall.push(...tube(control, radius, 5));
    lumen.push(...tube(control, radius - 2.2, 5));
  }
  return [structure('small bowel wall', 'bowelWall', wall, true), structure('small bowel contents', 'water', lumen, true)];
}
