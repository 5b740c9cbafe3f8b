/**
 * One patient's upper abdomen as a list of shapes in paint order (later paints over earlier),
 * in the phantom's local frame: mm, x to the patient's left, y posterior, z superior (LPS axes),
 * origin at the body's centre line and z = 0 at the level of the portal confluence.
 * Patient coordinates are local + `translation` (the table position).
 *
 * Layout follows standard cross-sectional anatomy: the pancreas lies anterior to the splenic
 * vein, its head in the duodenal C-loop right of the SMV, its neck in front of the portal
 * confluence, its body in front of the SMA and aorta and its tail at the splenic hilum; the SMV
 * runs right of the SMA; the left renal vein crosses between SMA and aorta. Sizes are typical
 * adult values, varied per patient; they are assumptions, not measurements.
 */
import type { Vec3 } from '../study/geometry';
import type { SeededRandom } from './random';
import {
  Ellipsoid,
  Intersection,
  Lobulated,
  ProfiledCylinder,
  Slab,
  rotation,
  splinePoints,
  tube,
  type IntervalShape,
  type ProfileKnot,
} from './shapes';
import type { Tissue } from './tissues';
import type { TumourLobe, TumourShape } from './tumourShape';

export interface Structure {
  name: string;
  tissue: Tissue;
  shapes: IntervalShape[];
  /** Moves with breathing between phases (abdominal organs); the body wall and spine do not. */
  moves: boolean;
  /** The tumour is painted voxel by voxel from its TumourShape instead of intervals. */
  isTumour?: boolean;
}

export type PancreasRegion = 'uncinate process' | 'head' | 'neck' | 'body' | 'tail';

export type VesselName =
  | 'superior mesenteric vein'
  | 'portal vein'
  | 'splenic vein'
  | 'superior mesenteric artery'
  | 'coeliac trunk'
  | 'common hepatic artery'
  | 'splenic artery'
  | 'aorta'
  | 'inferior vena cava';

export interface VesselCentreline {
  name: VesselName;
  /** Points about 1 mm apart (local frame) and the radius at each. */
  points: Vec3[];
  radii: number[];
  moves: boolean;
}

export interface TumourPlacement {
  centreLocal: Vec3;
  shape: TumourShape;
  diameterMm: number;
  region: PancreasRegion;
}

export interface Anatomy {
  structures: Structure[];
  tumour: TumourPlacement;
  vessels: VesselCentreline[];
  /** Body half-width and half-depth (mm) at the level of the pancreas. */
  bodyHalfWidthMm: number;
  bodyHalfDepthMm: number;
  /** z range (local mm) spanned by the pancreas. */
  pancreasZ: [number, number];
  /** Posterior edge of the body outline (local y), where the table starts. */
  bodyPosteriorY: number;
  /** Whether the main pancreatic duct is dilated upstream of the tumour. */
  ductDilated: boolean;
  gallbladder: boolean;
}

const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];

function jitter(rng: SeededRandom, p: Vec3, sd: number): Vec3 {
  return [p[0] + rng.gaussian(0, sd), p[1] + rng.gaussian(0, sd), p[2] + rng.gaussian(0, sd)];
}

/** Vertical solid with a constant cross-section between z0 and z1. */
function column(x: number, y: number, rx: number, ry: number, z0: number, z1: number, exponent = 2): ProfiledCylinder {
  return new ProfiledCylinder(
    [
      { z: z0, x, y, rx, ry },
      { z: z1, x, y, rx, ry },
    ],
    exponent,
  );
}

function centrelineOf(name: VesselName, control: Vec3[], radius: number | number[], moves: boolean): VesselCentreline {
  const points = splinePoints(control, 1);
  const radii = points.map((_, i) => {
    if (typeof radius === 'number') return radius;
    const x = (i / Math.max(1, points.length - 1)) * (radius.length - 1);
    const k = Math.min(radius.length - 2, Math.floor(x));
    return radius[k] * (1 - (x - k)) + radius[k + 1] * (x - k);
  });
  return { name, points, radii, moves };
}

export interface AnatomyOptions {
  /** Arterial-phase tumour-to-pancreas contrast; iso-attenuating tumours are drawn smaller (PHANTOM.md). */
  tpcArterialHu: number;
}

export function drawAnatomy(rng: SeededRandom, options: AnatomyOptions): Anatomy {
  const S: Structure[] = [];
  const put = (name: string, tissue: Tissue, shapes: IntervalShape | IntervalShape[], moves: boolean): void => {
    S.push({ name, tissue, shapes: Array.isArray(shapes) ? shapes : [shapes], moves });
  };
  const Z_LOW = -340;
  const Z_HIGH = 280;

  // --- Body habitus -------------------------------------------------------------------------
  const bx = rng.uniform(135, 185);
  const by = bx * rng.uniform(0.62, 0.78);
  const fatT = Math.max(6, 8 + ((bx - 135) / 50) * 22 + rng.uniform(-5, 6));
  const fatPost = fatT * rng.uniform(0.5, 0.8);
  const muscleT = rng.uniform(7, 13);
  const phase1 = rng.uniform(0, 6.28);
  const phase2 = rng.uniform(0, 6.28);
  const bodyKnots: ProfileKnot[] = [];
  for (let z = Z_LOW; z <= Z_HIGH; z += 40) {
    bodyKnots.push({ z, x: 0, y: 0, rx: bx * (1 + 0.035 * Math.sin(z / 90 + phase1)), ry: by * (1 + 0.03 * Math.sin(z / 75 + phase2)) });
  }
  const shrink = (knots: ProfileKnot[], lat: number, ant: number, post: number): ProfileKnot[] =>
    knots.map((k) => ({ z: k.z, x: k.x, y: k.y + (ant - post) / 2, rx: k.rx - lat, ry: k.ry - (ant + post) / 2 }));
  const body = new ProfiledCylinder(bodyKnots, 2, 2.6);
  const skinInner = new ProfiledCylinder(shrink(bodyKnots, 2, 2, 2), 2, 2.6);
  const wallKnots = shrink(bodyKnots, fatT, fatT, fatPost);
  const wall = new ProfiledCylinder(wallKnots, 2, 2.6);
  const cavityKnots = shrink(bodyKnots, fatT + muscleT, fatT + muscleT, fatPost + muscleT);
  const cavity = new ProfiledCylinder(cavityKnots, 2, 2.4);
  const rxC = bx - fatT - muscleT;
  const ryC = by - (fatT + fatPost) / 2 - muscleT;
  const cyC = (fatT - fatPost) / 2;
  const bodyPosteriorY = by;

  // Table: a carbon-fibre band under the patient.
  const tableY = by + rng.uniform(3, 12) + 5;
  put('table', 'table', column(0, tableY, 230, 5, Z_LOW, Z_HIGH, 6), false);
  put('skin', 'skin', body, false);
  put('subcutaneous fat', 'fat', skinInner, false);
  put('abdominal wall muscle', 'muscle', wall, false);
  put('visceral fat', 'fat', cavity, false);

  // --- Spine and back muscles -----------------------------------------------------------------
  const rxV = rng.uniform(19, 24);
  const ryV = rng.uniform(15, 18);
  const ys = by - fatPost - rng.uniform(62, 72) - ryV;
  const canalR = rng.uniform(7.5, 9);
  const yCanal = ys + ryV + canalR + 2;
  put('paraspinal muscles', 'muscle', [column(-30, yCanal + 28, 27, 24, Z_LOW, Z_HIGH, 2.3), column(30, yCanal + 28, 27, 24, Z_LOW, Z_HIGH, 2.3)], false);
  const psoasKnots = (side: number): ProfileKnot[] => [
    { z: -5, x: side * (rxV + 6), y: ys - 2, rx: 3, ry: 3 },
    { z: -60, x: side * (rxV + 14), y: ys - 4, rx: 13, ry: 11 },
    { z: -150, x: side * (rxV + 22), y: ys - 8, rx: 22, ry: 18 },
    { z: Z_LOW, x: side * (rxV + 30), y: ys - 12, rx: 26, ry: 20 },
  ].reverse();
  put('psoas muscles', 'muscle', [new ProfiledCylinder(psoasKnots(-1)), new ProfiledCylinder(psoasKnots(1))], false);

  const vertebraHeight = rng.uniform(24, 28);
  const discHeight = rng.uniform(7, 10);
  const period = vertebraHeight + discHeight;
  const spineOffset = rng.uniform(0, period);
  const cortical: IntervalShape[] = [];
  const cancellous: IntervalShape[] = [];
  const discs: IntervalShape[] = [];
  const arches: IntervalShape[] = [];
  for (let z0 = Z_LOW - period + spineOffset; z0 < Z_HIGH; z0 += period) {
    const z1 = z0 + vertebraHeight;
    cortical.push(column(0, ys, rxV, ryV, z0, z1, 2.2));
    cancellous.push(column(0, ys + 0.3, rxV - 1.8, ryV - 1.8, z0 + 1.6, z1 - 1.6, 2.2));
    discs.push(column(0, ys, rxV - 0.5, ryV - 0.5, z1, z1 + discHeight, 2.2));
    // Posterior arch around the canal, the spinous process behind it, transverse processes.
    arches.push(column(0, yCanal, canalR + 7, canalR + 6, z0 + 2, z1 + 2));
    arches.push(column(0, yCanal + canalR + 16, 6, 15, z0 + 4, z1 - 2));
    arches.push(new Ellipsoid([0, yCanal - 2, (z0 + z1) / 2], [rxV + 18, 4, 3.5]));
    arches.push(column(-12, ys + ryV + 3, 5, 6, z0 + 3, z1 - 3));
    arches.push(column(12, ys + ryV + 3, 5, 6, z0 + 3, z1 - 3));
  }
  // Painted last (after the organs): see the end of this function.
  const spine: Structure[] = [
    { name: 'vertebral posterior elements', tissue: 'posteriorElements', shapes: arches, moves: false },
    { name: 'vertebral cortex', tissue: 'corticalBone', shapes: cortical, moves: false },
    { name: 'vertebral cancellous bone', tissue: 'cancellousBone', shapes: cancellous, moves: false },
    { name: 'intervertebral discs', tissue: 'disc', shapes: discs, moves: false },
    { name: 'spinal canal', tissue: 'csf', shapes: [column(0, yCanal, canalR, canalR, Z_LOW, Z_HIGH)], moves: false },
  ];

  // Ribs 8-12: tubes hugging the inside of the muscle wall, descending as they run forward.
  const ribShapes: IntervalShape[] = [];
  const marrowShapes: IntervalShape[] = [];
  const ribTop = rng.uniform(90, 130);
  for (let r = 0; r < 5; r++) {
    for (const side of [-1, 1]) {
      const zStart = ribTop - r * rng.uniform(24, 30);
      const reach = 1 - r * 0.15;
      const control: Vec3[] = [];
      for (let s = 0; s <= 8; s++) {
        const f = s / 8;
        const angle = Math.PI / 2 - f * (Math.PI * 0.62 * reach + 0.2);
        const x = side * (18 + (rxC + muscleT * 0.4 - 18) * Math.cos(angle) * Math.min(1, 0.35 + f * 1.5));
        const y = cyC + (ryC + muscleT * 0.4) * Math.sin(angle) * 0.95;
        control.push([x, Math.min(y, yCanal - 4 + f * 0), zStart - f * f * 55 * reach - f * 10]);
      }
      ribShapes.push(...tube(control, 5.2, 5));
      marrowShapes.push(...tube(control, 3.2, 5));
    }
  }

  // --- Great vessels --------------------------------------------------------------------------
  const rAo = rng.uniform(9, 12.5);
  const xA = rng.uniform(6, 16);
  const yA = ys - ryV - rAo - rng.uniform(1, 3);
  const xIvc = -rng.uniform(20, 28);
  const yIvc = ys - ryV - rng.uniform(6, 12);
  const aorta = column(xA, yA, rAo, rAo, -160, Z_HIGH);
  const iliacs = [...tube([[xA, yA, -150], [xA - 30, yA + 5, -230], [xA - 45, yA + 15, Z_LOW]], rAo * 0.65), ...tube([[xA, yA, -150], [xA + 30, yA + 5, -230], [xA + 45, yA + 15, Z_LOW]], rAo * 0.65)];
  const ivcKnots: ProfileKnot[] = [
    { z: Z_LOW, x: xIvc + 5, y: yIvc + 3, rx: 12, ry: 9 },
    { z: -20, x: xIvc, y: yIvc, rx: 13, ry: 9.5 },
    { z: 60, x: xIvc - 3, y: yIvc - 10, rx: 13, ry: 11 },
    { z: Z_HIGH, x: xIvc - 2, y: yIvc - 25, rx: 14, ry: 12 },
  ];
  const ivc = new ProfiledCylinder(ivcKnots);

  const zCel = rng.uniform(24, 36);
  const zSma = zCel - rng.uniform(10, 16);
  const ySmaFront = yA - rAo;
  const smaControl: Vec3[] = [
    [xA, ySmaFront + 2, zSma],
    [xA - 1, ySmaFront - 10, zSma - 8],
    [xA - 3, ySmaFront - 15, zSma - 30],
    [xA - 5, ySmaFront - 17, -90],
    [xA - 10, ySmaFront - 22, -200],
  ];
  const rSma = rng.uniform(3.2, 4.2);
  const xSma = xA - 3;
  const ySma = ySmaFront - 15;
  const celiacControl: Vec3[] = [
    [xA, ySmaFront + 2, zCel],
    [xA, ySmaFront - 10, zCel + 3],
    [xA - 2, ySmaFront - 16, zCel + 4],
  ];
  const chaControl: Vec3[] = [[xA - 2, ySmaFront - 16, zCel + 4], [xA - 25, ySmaFront - 22, zCel + 3], [xA - 45, ySmaFront - 30, zCel + 10], [xA - 60, ySmaFront - 32, zCel + 22]];

  // --- Portal venous system -------------------------------------------------------------------
  const conf: Vec3 = [xSma - rng.uniform(13, 18), ySma - rng.uniform(8, 12), 0];
  const rPv = rng.uniform(6, 8);
  const rSmv = rng.uniform(4.5, 6);
  const rSv = rng.uniform(3.8, 5);
  const smvControl: Vec3[] = [[conf[0] + 4, conf[1] + 2, -200], [conf[0] + 2, conf[1] + 3, -90], [conf[0] + 1, conf[1] + 2, -40], conf];
  const hilum: Vec3 = jitter(rng, [conf[0] - 45, conf[1] - 14, 48], 3);
  const pvControl: Vec3[] = [conf, [conf[0] - 15, conf[1] - 5, 18], [conf[0] - 30, conf[1] - 11, 36], hilum];

  // Spleen, posterolateral in the left upper quadrant; its hilum faces anteromedially.
  const spleenCentre: Vec3 = [rxC * rng.uniform(0.58, 0.68), cyC + ryC * rng.uniform(0.25, 0.45), rng.uniform(35, 60)];
  const spleenYaw = -rng.uniform(0.4, 0.8);
  const spleen = new Ellipsoid(spleenCentre, [rng.uniform(17, 23), rng.uniform(48, 62), rng.uniform(42, 55)], rotation(spleenYaw + Math.PI / 2, 0.15));
  const splenicHilum: Vec3 = [spleenCentre[0] - 24, spleenCentre[1] - 18, spleenCentre[2] - 12];
  const svControl: Vec3[] = [
    conf,
    [conf[0] + 25, conf[1] + 10, 5],
    [conf[0] + 55, conf[1] + 16, 12],
    [(conf[0] + 55 + splenicHilum[0]) / 2, (conf[1] + 16 + splenicHilum[1]) / 2 + 4, (12 + splenicHilum[2]) / 2],
    splenicHilum,
  ];
  const splenicArteryControl: Vec3[] = [[xA - 2, ySmaFront - 16, zCel + 4], [xA + 20, ySmaFront - 14, zCel + 6], [xA + 40, ySmaFront - 8, zCel + 1], [xA + 60, ySmaFront - 4, zCel + 5], [splenicHilum[0] - 2, splenicHilum[1] - 3, splenicHilum[2] + 3]];

  // --- Kidneys and renal veins ----------------------------------------------------------------
  const kidneyParts: Record<'cortex' | 'medulla' | 'sinus', IntervalShape[]> = { cortex: [], medulla: [], sinus: [] };
  const renalVeins: IntervalShape[] = [];
  const zKidneyLeft = rng.uniform(-45, -20);
  for (const side of [-1, 1]) {
    const zK = side > 0 ? zKidneyLeft : zKidneyLeft - rng.uniform(8, 20);
    const centre: Vec3 = [side * (rxV + rng.uniform(32, 42)), ys + rng.uniform(2, 12), zK];
    const rot = rotation(side * rng.uniform(0.35, 0.6), side * 0.1, 0.12);
    const radii: Vec3 = [rng.uniform(24, 29), rng.uniform(20, 25), rng.uniform(48, 58)];
    kidneyParts.cortex.push(new Ellipsoid(centre, radii, rot));
    kidneyParts.medulla.push(new Ellipsoid(centre, [radii[0] * 0.6, radii[1] * 0.58, radii[2] * 0.74], rot));
    kidneyParts.sinus.push(new Ellipsoid([centre[0] - side * 10, centre[1] - 4, centre[2]], [8, 8, radii[2] * 0.45], rot));
    const hilumK: Vec3 = [centre[0] - side * 22, centre[1] - 8, zK + 6];
    if (side > 0) {
      renalVeins.push(...tube([hilumK, [xA + rAo + 6, yA - rAo - 3, zSma - 9], [xA, yA - rAo - 3.5, zSma - 10], [xIvc, yIvc, zSma - 8]], [5, 4.5, 3.5, 5]));
    } else {
      renalVeins.push(...tube([hilumK, [xIvc - 6, yIvc + 2, zK + 10]], 5));
    }
  }

  // --- Liver, gallbladder, lungs ---------------------------------------------------------------
  const zLiver = rng.uniform(45, 70);
  const liverRight = new Lobulated(
    new Intersection([cavity, new Ellipsoid([-rxC * 0.42, cyC - ryC * 0.04, zLiver], [rxC * rng.uniform(0.5, 0.6), ryC * 0.82, rng.uniform(82, 100)], rotation(0.1))]),
    2.5,
    [rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6)],
  );
  const liverLeft = new Intersection([
    cavity,
    new Ellipsoid([rxC * rng.uniform(0.0, 0.12), cyC - ryC * 0.55, zLiver + rng.uniform(12, 28)], [rxC * rng.uniform(0.42, 0.55), ryC * 0.34, 48], rotation(-0.25)),
  ]);
  const lungBase = rng.uniform(55, 95);
  const lungs = new Intersection([cavity, new Slab(-1e4, 1e4, lungBase, Z_HIGH)]);
  const gallbladderPresent = rng.bool(0.9);
  const gallbladder = new Ellipsoid([-rxC * rng.uniform(0.25, 0.35), cyC - ryC * 0.5, rng.uniform(-5, 20)], [rng.uniform(11, 16), rng.uniform(12, 18), rng.uniform(28, 40)], rotation(0.3, 0, 0.5));
  const portalBranches = [
    ...tube([hilum, [-rxC * 0.5, hilum[1] + 8, hilum[2] + 8], [-rxC * 0.75, hilum[1] + 15, hilum[2] + 20]], [4.5, 3.5, 2]),
    ...tube([hilum, [hilum[0] + 25, hilum[1] - 12, hilum[2] + 12], [rxC * 0.05, cyC - ryC * 0.55, zLiver + 20]], [4, 3, 2]),
  ];
  const hepaticVeins: IntervalShape[] = [];
  const ivcTop: Vec3 = [xIvc - 2, yIvc - 20, zLiver + 70];
  for (const target of [[-rxC * 0.75, cyC, zLiver + 10], [-rxC * 0.25, cyC - ryC * 0.55, zLiver + 15], [rxC * 0.15, cyC - ryC * 0.5, zLiver + 40]] as Vec3[]) {
    hepaticVeins.push(...tube([ivcTop, [(ivcTop[0] + target[0]) / 2, (ivcTop[1] + target[1]) / 2, (ivcTop[2] + target[2]) / 2 + 8], target], [5.5, 4, 2]));
  }

  // --- Stomach, duodenum, colon, small bowel ---------------------------------------------------
  const stomachCentre: Vec3 = [rxC * rng.uniform(0.3, 0.45), cyC - ryC * rng.uniform(0.35, 0.5), rng.uniform(38, 65)];
  const stomachRadii: Vec3 = [rng.uniform(38, 50), rng.uniform(26, 36), rng.uniform(45, 60)];
  const stomachRot = rotation(-rng.uniform(0.2, 0.5), 0.3, 0);
  const stomachOuter = new Intersection([cavity, new Ellipsoid(stomachCentre, stomachRadii, stomachRot)]);
  const stomachInner = new Intersection([cavity, new Ellipsoid(stomachCentre, [stomachRadii[0] - 4, stomachRadii[1] - 4, stomachRadii[2] - 4], stomachRot)]);
  const airLevel = stomachCentre[1] - stomachRadii[1] * rng.uniform(0.2, 0.9);
  const stomachAir = new Intersection([stomachInner, new Slab(-1e4, airLevel)]);
  const pylorus: Vec3 = [conf[0] + rng.uniform(-5, 10), cyC - ryC * 0.62, rng.uniform(8, 20)];
  const antrum: Vec3[] = [stomachCentre, [(stomachCentre[0] + pylorus[0]) / 2, pylorus[1] - 5, (stomachCentre[2] + pylorus[2]) / 2 - 5], pylorus];
  const duodenum: Vec3[] = [
    pylorus,
    [conf[0] - 30, pylorus[1] + 12, pylorus[2]],
    [conf[0] - 42, conf[1] - 2, -8],
    [conf[0] - 44, conf[1] + 4, -42],
    [conf[0] - 20, ySmaFront - 6, -62],
    [xA, yA - rAo - 7, -66],
    [xA + 25, yA - rAo - 12, -52],
    [xA + 32, yA - rAo - 20, -35],
  ];
  const duoR = [12, 11, 11, 11, 10, 7, 10, 10];
  const colon: Vec3[] = [
    [-rxC * 0.65, cyC + 5, -200],
    [-rxC * 0.66, cyC - ryC * 0.1, -90],
    [-rxC * 0.6, cyC - ryC * 0.35, -45],
    [-rxC * 0.2, cyC - ryC * 0.72, -60],
    [rxC * 0.3, cyC - ryC * 0.68, -45],
    [rxC * 0.64, cyC - ryC * 0.1, spleenCentre[2] - 40],
    [rxC * 0.7, cyC + ryC * 0.2, -100],
    [rxC * 0.68, cyC + ryC * 0.15, -200],
  ].map((p) => jitter(rng, p as Vec3, 4));
  const colonR = rng.uniform(18, 25);
  const smallBowelWall: IntervalShape[] = [];
  const smallBowelLumen: IntervalShape[] = [];
  // Jejunal and ileal loops fill the mesentery below the transverse mesocolon; they stay below
  // the pancreas (lower on the right, where the head and duodenum are) and in front of the spine.
  const loops = rng.int(9, 14);
  const yBowelMax = Math.min(cyC + 0.1 * ryC, ys - ryV - 25);
  for (let l = 0; l < loops; l++) {
    const clampPoint = (q: Vec3): Vec3 => {
      const x = Math.max(-0.5 * rxC, Math.min(0.65 * rxC, q[0]));
      const y = Math.max(cyC - 0.72 * ryC, Math.min(yBowelMax, q[1]));
      // Anterior jejunal loops on the left reach up beside the stomach.
      const zTop = x > 0 ? (y < cyC - 0.2 * ryC ? 20 : -30) : -60;
      return [x, y, Math.max(-260, Math.min(zTop, q[2]))];
    };
    let p: Vec3 = clampPoint([rng.uniform(-0.4, 0.6) * rxC, cyC + rng.uniform(-0.65, 0.05) * ryC, rng.uniform(-220, -30)]);
    const control: Vec3[] = [p];
    for (let s = 0; s < 5; s++) {
      p = clampPoint(add(p, [rng.gaussian(0, 22), rng.gaussian(0, 12), rng.gaussian(0, 16)]));
      control.push(p);
    }
    const r = rng.uniform(8, 13);
    smallBowelWall.push(...tube(control, r, 5));
    smallBowelLumen.push(...tube(control, r - 2.2, 5));
  }
  // Jejunal branches of the SMA and SMV: small vessels running into the mesentery.
  const mesentericArteries: IntervalShape[] = [];
  const mesentericVeins: IntervalShape[] = [];
  for (let b = 0; b < rng.int(3, 6); b++) {
    const z0 = rng.uniform(-130, -35);
    const from: Vec3 = [xSma, ySma, z0];
    const mid: Vec3 = [xSma + rng.uniform(15, 35), ySma - rng.uniform(5, 20), z0 - rng.uniform(5, 20)];
    const to: Vec3 = [xSma + rng.uniform(40, 80), ySma - rng.uniform(15, 45), z0 - rng.uniform(15, 45)];
    mesentericArteries.push(...tube([from, mid, to], [1.8, 1.4, 1], 4));
    const v0: Vec3 = [conf[0] + 2, conf[1] + 2, z0 - 6];
    mesentericVeins.push(...tube([v0, [mid[0] - 4, mid[1] - 3, mid[2] - 6], [to[0] - 6, to[1] - 4, to[2] - 8]], [2.4, 1.8, 1.2], 4));
  }

  // --- Pancreas --------------------------------------------------------------------------------
  const size = rng.uniform(0.8, 1.15);
  const pancreasControl: Vec3[] = [
    jitter(rng, [conf[0] - 6, conf[1] + 8, -40], 2),
    jitter(rng, [conf[0] - 20, conf[1] + 1, -24], 2),
    jitter(rng, [conf[0] - 14, conf[1] - 10, -7], 2),
    jitter(rng, [conf[0] + 2, conf[1] - 13, 2], 1.5),
    jitter(rng, [conf[0] + 28, conf[1] - 9, 8], 2),
    jitter(rng, [conf[0] + 55, conf[1] + 0, 15], 2),
    [splenicHilum[0] - 14, splenicHilum[1] - 4, splenicHilum[2] - 2],
  ];
  const regionByControl: PancreasRegion[] = ['uncinate process', 'head', 'head', 'neck', 'body', 'body', 'tail'];
  const baseRadii = [10, 15, 13, 8, 10, 9.5, 8].map((r) => r * size);
  const headBulk = new Ellipsoid([conf[0] - 16, conf[1] + 1, -22], [15 * size, 12 * size, 18 * size], rotation(0.3));

  // Tumour: region drawn with the frequencies of PDAC (about 60-70% head), placed on the
  // pancreas centre line with a small offset. Iso-attenuating tumours are smaller (PHANTOM.md:
  // 12 +- 5 mm vs 30 +- 9 mm); size depends on the enhancement parameters only, never on stroma.
  const regionChoice = rng.weightedIndex([0.12, 0.5, 0.08, 0.2, 0.1]);
  const controlIndex = [0, 1, 3, 4, 6][regionChoice];
  const neighbour = controlIndex === 6 ? 5 : controlIndex + 1;
  const along = rng.uniform(0, controlIndex === 6 ? 0.5 : 0.45);
  const c0 = pancreasControl[controlIndex];
  const c1 = pancreasControl[neighbour];
  const onLine: Vec3 = [c0[0] + (c1[0] - c0[0]) * along, c0[1] + (c1[1] - c0[1]) * along, c0[2] + (c1[2] - c0[2]) * along];
  const localRadius = baseRadii[controlIndex];
  let diameter = rng.truncatedGaussian(30, 9, 15, 60);
  if (options.tpcArterialHu < 20) diameter = Math.max(11, diameter * 0.6);
  const tumourShape = drawTumourShape(rng, diameter);
  const vessels: VesselCentreline[] = [
    centrelineOf('superior mesenteric vein', smvControl, rSmv, true),
    centrelineOf('portal vein', pvControl, rPv, true),
    centrelineOf('splenic vein', svControl, rSv, true),
    centrelineOf('superior mesenteric artery', smaControl, rSma, false),
    centrelineOf('coeliac trunk', celiacControl, 3.5, false),
    centrelineOf('common hepatic artery', chaControl, 2.8, false),
    centrelineOf('splenic artery', splenicArteryControl, 2.6, false),
    centrelineOf('aorta', [[xA, yA, -150], [xA, yA, 150]], rAo, false),
    centrelineOf('inferior vena cava', [[xIvc, yIvc, -150], [xIvc, yIvc, 0]], 11, false),
  ];
  const tumourCentre = keepVesselsPeripheral(jitter(rng, onLine, localRadius * 0.2), tumourShape, vessels);
  const region = regionByControl[controlIndex];

  // A tumour in the head or neck obstructs the main duct: upstream dilatation and tail atrophy.
  const obstructs = region === 'head' || region === 'neck' || region === 'uncinate process';
  const ductDilated = obstructs && rng.bool(0.75);
  const pancreasRadii = baseRadii.map((r, i) => (ductDilated && i >= 4 ? r * 0.75 : r));
  const pancreasTube = tube(pancreasControl, pancreasRadii, 3);
  const ductControl = pancreasControl.slice(1);
  const ductRadius = ductDilated ? rng.uniform(2.5, 3.8) : 1.2;
  const duct = tube(ductControl, ductControl.map((_, i) => (i === 0 ? 1 : ductRadius)), 3);

  // --- Paint order ------------------------------------------------------------------------------
  put('lung bases', 'lung', lungs, true);
  put('liver', 'liver', [liverRight, liverLeft], true);
  put('portal vein branches', 'portalVein', portalBranches, true);
  put('hepatic veins', 'hepaticVein', hepaticVeins, true);
  if (gallbladderPresent) put('gallbladder', 'bile', new Intersection([cavity, gallbladder]), true);
  put('spleen', 'spleen', new Intersection([cavity, spleen]), true);
  put('kidney cortex', 'kidneyCortex', kidneyParts.cortex, true);
  put('kidney medulla', 'kidneyMedulla', kidneyParts.medulla, true);
  put('renal sinus fat', 'fat', kidneyParts.sinus, true);
  put('stomach wall', 'bowelWall', [stomachOuter, ...tube(antrum, [22, 16, 11])], true);
  put('stomach contents', 'water', [stomachInner, ...tube(antrum, [18, 12, 7.5])], true);
  put('stomach air', 'air', stomachAir, true);
  put('colon wall', 'bowelWall', tube(colon, colonR, 6), true);
  put('colon contents', 'stool', tube(colon, colonR - 2.5, 6), true);
  put('small bowel wall', 'bowelWall', smallBowelWall, true);
  put('small bowel contents', 'water', smallBowelLumen, true);
  put('mesenteric arteries', 'artery', mesentericArteries, true);
  put('mesenteric veins', 'portalVein', mesentericVeins, true);
  put('duodenal wall', 'bowelWall', tube(duodenum, duoR, 4), true);
  put('duodenal contents', 'water', tube(duodenum, duoR.map((r) => r - 2.5), 4), true);
  put('pancreas', 'pancreas', [...pancreasTube, headBulk], true);
  put('pancreatic duct', 'water', duct, true);
  S.push({ name: 'tumour', tissue: 'tumour', shapes: [], moves: true, isTumour: true });
  // Diaphragmatic crura: muscle bands beside the aorta, from the upper lumbar spine upwards.
  const crura = [-1, 1].flatMap((side) => tube([[side * (rAo + 3) + xA, yA + rAo * 0.3, -25], [side * (rAo + 4) + xA, yA - rAo * 0.2, zCel + 10], [side * (rAo + 8) + xA, yA - rAo - 4, zCel + 70]], [3, 4.5, 5], 5));
  put('diaphragmatic crura', 'muscle', crura, false);
  put('aorta', 'aorta', [aorta, ...iliacs], false);
  put('coeliac trunk and branches', 'artery', [...tube(celiacControl, 3.5, 3), ...tube(chaControl, 2.8, 3), ...tube(splenicArteryControl, 2.6, 3)], false);
  put('superior mesenteric artery', 'artery', tube(smaControl, rSma, 3), false);
  put('inferior vena cava', 'ivc', ivc, false);
  put('renal veins', 'renalVein', renalVeins, true);
  put('superior mesenteric vein', 'portalVein', tube(smvControl, rSmv, 4), true);
  put('splenic vein', 'portalVein', tube(svControl, rSv, 3), true);
  put('portal vein', 'portalVein', tube(pvControl, rPv, 3), true);
  S.push(...spine);
  put('ribs', 'corticalBone', ribShapes, false);
  put('rib marrow', 'cancellousBone', marrowShapes, false);

  const zs = pancreasControl.map((p) => p[2]);
  return {
    structures: S,
    tumour: { centreLocal: tumourCentre, shape: tumourShape, diameterMm: diameter, region },
    vessels,
    bodyHalfWidthMm: bx,
    bodyHalfDepthMm: by,
    pancreasZ: [Math.min(...zs) - 15, Math.max(...zs) + 10],
    bodyPosteriorY: bodyPosteriorY,
    ductDilated,
    gallbladder: gallbladderPresent,
  };
}

/**
 * Moves the tumour centre until no vessel comes within 0.6 of the tumour's smallest semi-axis of
 * its centre: vessels may abut or encase the tumour's margin (and are painted over it, patent)
 * but never run through its core, whose mean HU is the enhancement the oracle conditions on.
 */
/** Fraction of the tumour's smallest semi-axis, around its centre, that no vessel enters. */
export const VESSEL_FREE_CORE = 0.6;

function keepVesselsPeripheral(start: Vec3, shape: TumourShape, vessels: VesselCentreline[]): Vec3 {
  const centre: Vec3 = [...start];
  const core = VESSEL_FREE_CORE * Math.min(...shape.radiiMm);
  for (let iteration = 0; iteration < 40; iteration++) {
    let worst = 0;
    let push: Vec3 = [0, -1, 0];
    for (const v of vessels) {
      for (let i = 0; i < v.points.length; i++) {
        const p = v.points[i];
        const d = Math.hypot(centre[0] - p[0], centre[1] - p[1], centre[2] - p[2]);
        const deficit = core + v.radii[i] - d;
        if (deficit > worst) {
          worst = deficit;
          push = d > 1e-6 ? [(centre[0] - p[0]) / d, (centre[1] - p[1]) / d, (centre[2] - p[2]) / d] : [0, -1, 0];
        }
      }
    }
    if (worst <= 0.05) break;
    for (let a = 0; a < 3; a++) centre[a] += push[a] * (worst + 0.25);
  }
  return centre;
}

/** Irregular ellipsoid of the given longest diameter; random orientation; lobulated margin. */
export function drawTumourShape(rng: SeededRandom, diameterMm: number): TumourShape {
  const r = diameterMm / 2;
  const rot = rotation(rng.uniform(0, Math.PI), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5));
  // Rows of `axes` are the body axes in patient coordinates: the columns of the rotation matrix.
  const axes: [Vec3, Vec3, Vec3] = [
    [rot[0][0], rot[1][0], rot[2][0]],
    [rot[0][1], rot[1][1], rot[2][1]],
    [rot[0][2], rot[1][2], rot[2][2]],
  ];
  const lobes: TumourLobe[] = [];
  const count = rng.int(3, 6);
  for (let k = 0; k < count; k++) {
    const u = rng.uniform(-1, 1);
    const t = rng.uniform(0, 2 * Math.PI);
    const s = Math.sqrt(1 - u * u);
    lobes.push({ direction: [s * Math.cos(t), s * Math.sin(t), u], frequency: rng.uniform(2, 6), phase: rng.uniform(0, 2 * Math.PI), amplitude: rng.uniform(0.02, 0.2 / count + 0.02) });
  }
  // The in-plane diameter is the largest; the others are a bit smaller.
  return { axes, radiiMm: [r, r * rng.uniform(0.72, 0.95), r * rng.uniform(0.75, 1.0)], lobes };
}
