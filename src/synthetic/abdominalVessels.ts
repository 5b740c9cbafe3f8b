/**
 * The abdominal vessels: aorta and iliac arteries, inferior vena cava, coeliac trunk and its
 * branches, superior mesenteric artery, the portal venous system (superior mesenteric, splenic
 * and portal veins) and the jejunal branches in the mesentery; their centre lines, and the
 * diaphragmatic crura beside the aorta.
 */
import type { Vec3 } from '../study/geometry';
import type { Structure, VesselCentreline, VesselName } from './anatomyTypes';
import { column, jitter, structure, Z_HIGH, Z_LOW } from './anatomyHelpers';
import type { SeededRandom } from './random';
import { ProfiledCylinder, splinePoints, tube, type IntervalShape, type ProfileKnot } from './shapes';
import type { Spine } from './skeleton';

export interface GreatVessels {
  aortaX: number;
  aortaY: number;
  aortaRadiusMm: number;
  cavaX: number;
  cavaY: number;
  /** y of the aorta's front wall, where the coeliac trunk and the SMA leave it. */
  aortaFrontY: number;
  /** z of the origins of the coeliac trunk and of the SMA. */
  coeliacZ: number;
  smaOriginZ: number;
  /** Where the SMA runs down in front of the aorta (x, y), and its radius. */
  smaX: number;
  smaY: number;
  smaRadiusMm: number;
  smaControl: Vec3[];
  coeliacControl: Vec3[];
  hepaticArteryControl: Vec3[];
  /** The abdominal aorta and the common iliac arteries. */
  aortaShapes: IntervalShape[];
  cava: ProfiledCylinder;
}

export interface PortalVeins {
  /** The portal confluence, behind the pancreatic neck: z = 0 of the local frame. */
  confluence: Vec3;
  portalRadiusMm: number;
  smvRadiusMm: number;
  splenicVeinRadiusMm: number;
  smvControl: Vec3[];
  portalControl: Vec3[];
  /** Where the portal vein enters the liver. */
  liverHilum: Vec3;
}

/** The splenic vein and artery, which run to the spleen's hilum. */
export interface SplenicVessels {
  splenicVeinControl: Vec3[];
  splenicArteryControl: Vec3[];
}

/** Aorta, IVC, coeliac trunk, common hepatic artery and SMA, in front of the spine. */
export function drawGreatVessels(rng: SeededRandom, spine: Spine): GreatVessels {
  const frontOfSpine = spine.vertebraY - spine.vertebraHalfDepthMm;
  const aortaRadiusMm = rng.uniform(9, 12.5);
  const aortaX = rng.uniform(6, 16);
  const aortaY = frontOfSpine - aortaRadiusMm - rng.uniform(1, 3);
  const cavaX = -rng.uniform(20, 28);
  const cavaY = frontOfSpine - rng.uniform(6, 12);
  const aorta = column(aortaX, aortaY, aortaRadiusMm, aortaRadiusMm, -160, Z_HIGH);
  const iliacs = [
    ...tube([[aortaX, aortaY, -150], [aortaX - 30, aortaY + 5, -230], [aortaX - 45, aortaY + 15, Z_LOW]], aortaRadiusMm * 0.65),
    ...tube([[aortaX, aortaY, -150], [aortaX + 30, aortaY + 5, -230], [aortaX + 45, aortaY + 15, Z_LOW]], aortaRadiusMm * 0.65),
  ];
  const cavaKnots: ProfileKnot[] = [
    { z: Z_LOW, x: cavaX + 5, y: cavaY + 3, rx: 12, ry: 9 },
    { z: -20, x: cavaX, y: cavaY, rx: 13, ry: 9.5 },
    { z: 60, x: cavaX - 3, y: cavaY - 10, rx: 13, ry: 11 },
    { z: Z_HIGH, x: cavaX - 2, y: cavaY - 25, rx: 14, ry: 12 },
  ];

  const coeliacZ = rng.uniform(24, 36);
  const smaOriginZ = coeliacZ - rng.uniform(10, 16);
  const aortaFrontY = aortaY - aortaRadiusMm;
  const smaControl: Vec3[] = [
    [aortaX, aortaFrontY + 2, smaOriginZ],
    [aortaX - 1, aortaFrontY - 10, smaOriginZ - 8],
    [aortaX - 3, aortaFrontY - 15, smaOriginZ - 30],
    [aortaX - 5, aortaFrontY - 17, -90],
    [aortaX - 10, aortaFrontY - 22, -200],
  ];
  const smaRadiusMm = rng.uniform(3.2, 4.2);
  const coeliacControl: Vec3[] = [
    [aortaX, aortaFrontY + 2, coeliacZ],
    [aortaX, aortaFrontY - 10, coeliacZ + 3],
    [aortaX - 2, aortaFrontY - 16, coeliacZ + 4],
  ];
  const hepaticArteryControl: Vec3[] = [[aortaX - 2, aortaFrontY - 16, coeliacZ + 4], [aortaX - 25, aortaFrontY - 22, coeliacZ + 3], [aortaX - 45, aortaFrontY - 30, coeliacZ + 10], [aortaX - 60, aortaFrontY - 32, coeliacZ + 22]];
  return {
    aortaX,
    aortaY,
    aortaRadiusMm,
    cavaX,
    cavaY,
    aortaFrontY,
    coeliacZ,
    smaOriginZ,
    smaX: aortaX - 3,
    smaY: aortaFrontY - 15,
    smaRadiusMm,
    smaControl,
    coeliacControl,
    hepaticArteryControl,
    aortaShapes: [aorta, ...iliacs],
    cava: new ProfiledCylinder(cavaKnots),
  };
}

/** Portal confluence right of the SMA, the SMV below it and the portal vein up to the liver's hilum. */
export function drawPortalVeins(rng: SeededRandom, great: GreatVessels): PortalVeins {
  const confluence: Vec3 = [great.smaX - rng.uniform(13, 18), great.smaY - rng.uniform(8, 12), 0];
  const portalRadiusMm = rng.uniform(6, 8);
  const smvRadiusMm = rng.uniform(4.5, 6);
  const splenicVeinRadiusMm = rng.uniform(3.8, 5);
  const smvControl: Vec3[] = [[confluence[0] + 4, confluence[1] + 2, -200], [confluence[0] + 2, confluence[1] + 3, -90], [confluence[0] + 1, confluence[1] + 2, -40], confluence];
  const liverHilum: Vec3 = jitter(rng, [confluence[0] - 45, confluence[1] - 14, 48], 3);
  const portalControl: Vec3[] = [confluence, [confluence[0] - 15, confluence[1] - 5, 18], [confluence[0] - 30, confluence[1] - 11, 36], liverHilum];
  return { confluence, portalRadiusMm, smvRadiusMm, splenicVeinRadiusMm, smvControl, portalControl, liverHilum };
}

/** The splenic vein from the confluence and the splenic artery from the coeliac trunk, to the splenic hilum. */
export function splenicVessels(great: GreatVessels, portal: PortalVeins, splenicHilum: Vec3): SplenicVessels {
  const confluence = portal.confluence;
  const { aortaX, aortaFrontY, coeliacZ } = great;
  return {
    splenicVeinControl: [
      confluence,
      [confluence[0] + 25, confluence[1] + 10, 5],
      [confluence[0] + 55, confluence[1] + 16, 12],
      [(confluence[0] + 55 + splenicHilum[0]) / 2, (confluence[1] + 16 + splenicHilum[1]) / 2 + 4, (12 + splenicHilum[2]) / 2],
      splenicHilum,
    ],
    splenicArteryControl: [
      [aortaX - 2, aortaFrontY - 16, coeliacZ + 4],
      [aortaX + 20, aortaFrontY - 14, coeliacZ + 6],
      [aortaX + 40, aortaFrontY - 8, coeliacZ + 1],
      [aortaX + 60, aortaFrontY - 4, coeliacZ + 5],
      [splenicHilum[0] - 2, splenicHilum[1] - 3, splenicHilum[2] + 3],
    ],
  };
}

/** Jejunal branches of the SMA and SMV: small vessels running into the mesentery (arteries, then veins). */
export function drawMesentericBranches(rng: SeededRandom, great: GreatVessels, portal: PortalVeins): Structure[] {
  const { smaX, smaY } = great;
  const confluence = portal.confluence;
  const arteries: IntervalShape[] = [];
  const veins: IntervalShape[] = [];
  // The number of branches is drawn again at every pass of the loop, as it always was: the
  // draws are part of the seeded sequence.
  for (let branch = 0; branch < rng.int(3, 6); branch++) {
    const z0 = rng.uniform(-130, -35);
    const from: Vec3 = [smaX, smaY, z0];
    const mid: Vec3 = [smaX + rng.uniform(15, 35), smaY - rng.uniform(5, 20), z0 - rng.uniform(5, 20)];
    const to: Vec3 = [smaX + rng.uniform(40, 80), smaY - rng.uniform(15, 45), z0 - rng.uniform(15, 45)];
    arteries.push(...tube([from, mid, to], [1.8, 1.4, 1], 4));
    const veinStart: Vec3 = [confluence[0] + 2, confluence[1] + 2, z0 - 6];
    veins.push(...tube([veinStart, [mid[0] - 4, mid[1] - 3, mid[2] - 6], [to[0] - 6, to[1] - 4, to[2] - 8]], [2.4, 1.8, 1.2], 4));
  }
  return [structure('mesenteric arteries', 'artery', arteries, true), structure('mesenteric veins', 'portalVein', veins, true)];
}

/**
 * The vessels painted over the organs, in paint order: diaphragmatic crura (muscle bands beside
 * the aorta, from the upper lumbar spine upwards), aorta, coeliac trunk and branches, SMA, IVC,
 * renal veins, SMV, splenic vein, portal vein.
 */
export function vesselStructures(great: GreatVessels, portal: PortalVeins, splenic: SplenicVessels, renalVeins: IntervalShape[]): Structure[] {
  const { aortaX, aortaY, aortaRadiusMm, coeliacZ } = great;
  const crura = [-1, 1].flatMap((side) =>
    tube(
      [
        [side * (aortaRadiusMm + 3) + aortaX, aortaY + aortaRadiusMm * 0.3, -25],
        [side * (aortaRadiusMm + 4) + aortaX, aortaY - aortaRadiusMm * 0.2, coeliacZ + 10],
        [side * (aortaRadiusMm + 8) + aortaX, aortaY - aortaRadiusMm - 4, coeliacZ + 70],
      ],
      [3, 4.5, 5],
      5,
    ),
  );
  return [
    structure('diaphragmatic crura', 'muscle', crura, false),
    structure('aorta', 'aorta', great.aortaShapes, false),
    structure('coeliac trunk and branches', 'artery', [...tube(great.coeliacControl, 3.5, 3), ...tube(great.hepaticArteryControl, 2.8, 3), ...tube(splenic.splenicArteryControl, 2.6, 3)], false),
    structure('superior mesenteric artery', 'artery', tube(great.smaControl, great.smaRadiusMm, 3), false),
    structure('inferior vena cava', 'ivc', great.cava, false),
    structure('renal veins', 'renalVein', renalVeins, true),
    structure('superior mesenteric vein', 'portalVein', tube(portal.smvControl, portal.smvRadiusMm, 4), true),
    structure('splenic vein', 'portalVein', tube(splenic.splenicVeinControl, portal.splenicVeinRadiusMm, 3), true),
    structure('portal vein', 'portalVein', tube(portal.portalControl, portal.portalRadiusMm, 3), true),
  ];
}

function centrelineOf(name: VesselName, control: Vec3[], radius: number | number[], moves: boolean): VesselCentreline {
  const points = splinePoints(control, 1);
  const radii = points.map((_, i) => {
    if (typeof radius === 'number') return radius;
    const knotPosition = (i / Math.max(1, points.length - 1)) * (radius.length - 1);
    const k = Math.min(radius.length - 2, Math.floor(knotPosition));
    return radius[k] * (1 - (knotPosition - k)) + radius[k + 1] * (knotPosition - k);
  });
  return { name, points, radii, moves };
}

/** The centre lines of the vessels the tumour may touch (vessel contact, tumour placement). */
export function vesselCentrelines(great: GreatVessels, portal: PortalVeins, splenic: SplenicVessels): VesselCentreline[] {
  const { aortaX, aortaY, cavaX, cavaY } = great;
  return [
    centrelineOf('superior mesenteric vein', portal.smvControl, portal.smvRadiusMm, true),
    centrelineOf('portal vein', portal.portalControl, portal.portalRadiusMm, true),
    centrelineOf('splenic vein', splenic.splenicVeinControl, portal.splenicVeinRadiusMm, true),
    centrelineOf('superior mesenteric artery', great.smaControl, great.smaRadiusMm, false),
    centrelineOf('coeliac trunk', great.coeliacControl, 3.5, false),
    centrelineOf('common hepatic artery', great.hepaticArteryControl, 2.8, false),
    centrelineOf('splenic artery', splenic.splenicArteryControl, 2.6, false),
    centrelineOf('aorta', [[aortaX, aortaY, -150], [aortaX, aortaY, 150]], great.aortaRadiusMm, false),
    centrelineOf('inferior vena cava', [[cavaX, cavaY, -150], [cavaX, cavaY, 0]], 11, false),
  ];
}
