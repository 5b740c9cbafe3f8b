/**
 * The pancreas and tumour of a randomised profile's patient: the tumour in the drawn region with
 * the drawn size and shape kind (round, lobulated, infiltrative with an ill-defined margin), and
 * the secondary signs (upstream duct dilation, parenchymal atrophy, common bile duct dilation).
 * The baseline profile uses tumourPlacement.ts and pancreas.ts unchanged.
 */
import type { Vec3 } from '../study/geometry';
import type { PortalVeins } from './abdominalVessels';
import { jitter, structure } from './anatomyHelpers';
import type { PancreasRegion, Structure, TumourPlacement, VesselCentreline } from './anatomyTypes';
import type { TumourChoice } from './domainRandomisation';
import type { PancreasCentreLine } from './pancreas';
import type { SeededRandom } from './random';
import { rotation, tube } from './shapes';
import { drawTumourShape, keepVesselsPeripheral } from './tumourPlacement';
import type { TumourLobe, TumourShape } from './tumourShape';
import type { TumourShapeKind } from './randomisationTruth';

/** The pancreas centre line's control point each region starts from (uncinate, head, neck, body, tail). */
const REGION_CONTROL: Record<PancreasRegion, number> = { 'uncinate process': 0, head: 1, neck: 3, body: 4, tail: 6 };

/** A tumour faint in the pancreatic phase (arterial TPC below this at 120 kV) takes the smaller, faint diameter. */
export const FAINT_TPC_HU = 20;

function orientationAxes(rng: SeededRandom): [Vec3, Vec3, Vec3] {
  const orientation = rotation(rng.uniform(0, Math.PI), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5));
  return [
    [orientation[0][0], orientation[1][0], orientation[2][0]],
    [orientation[0][1], orientation[1][1], orientation[2][1]],
    [orientation[0][2], orientation[1][2], orientation[2][2]],
  ];
}

function lobes(rng: SeededRandom, count: number, frequency: [number, number], amplitude: [number, number]): TumourLobe[] {
  return Array.from({ length: count }, () => {
    const cosPolar = rng.uniform(-1, 1);
    const azimuth = rng.uniform(0, 2 * Math.PI);
    const sinPolar = Math.sqrt(1 - cosPolar * cosPolar);
    return { direction: [sinPolar * Math.cos(azimuth), sinPolar * Math.sin(azimuth), cosPolar], frequency: rng.uniform(...frequency), phase: rng.uniform(0, 2 * Math.PI), amplitude: rng.uniform(...amplitude) };
  });
}

/** A tumour of the given kind and greatest diameter: round (nearly spherical, smooth), lobulated (the baseline's), infiltrative (flattened, irregular, ill-defined). */
export function drawTumourShapeOfKind(rng: SeededRandom, kind: TumourShapeKind, diameterMm: number, marginWidthMm: number): TumourShape {
  if (kind === 'lobulated') return drawTumourShape(rng, diameterMm);
  const radius = diameterMm / 2;
  const axes = orientationAxes(rng);
  if (kind === 'round') {
    const count = rng.int(2, 3);
    return { axes, radiiMm: [radius, radius * rng.uniform(0.88, 1), radius * rng.uniform(0.88, 1)], lobes: lobes(rng, count, [2, 4], [0.01, 0.04]) };
  }
  const count = rng.int(6, 9);
  return {
    axes,
    radiiMm: [radius, radius * rng.uniform(0.55, 0.8), radius * rng.uniform(0.6, 0.85)],
    lobes: lobes(rng, count, [4, 9], [0.03, 0.25 / count + 0.04]),
    marginWidthMm,
  };
}

/** The tumour in the drawn region, on the pancreas centre line, its core clear of vessels. */
export function drawProfileTumourPlacement(rng: SeededRandom, pancreas: PancreasCentreLine, vessels: VesselCentreline[], choice: TumourChoice, tpcArterialHu: number): TumourPlacement {
  const controlIndex = REGION_CONTROL[choice.region];
  const neighbour = controlIndex === 6 ? 5 : controlIndex + 1;
  const along = rng.uniform(0, controlIndex === 6 ? 0.5 : 0.45);
  const from = pancreas.control[controlIndex];
  const to = pancreas.control[neighbour];
  const onLine: Vec3 = [from[0] + (to[0] - from[0]) * along, from[1] + (to[1] - from[1]) * along, from[2] + (to[2] - from[2]) * along];
  const diameterMm = tpcArterialHu < FAINT_TPC_HU ? choice.faintDiameterMm : choice.diameterMm;
  const shape = drawTumourShapeOfKind(rng, choice.shape, diameterMm, choice.marginWidthMm);
  const centreLocal = keepVesselsPeripheral(jitter(rng, onLine, pancreas.baseRadii[controlIndex] * 0.2), shape, vessels);
  return { centreLocal, shape, diameterMm, region: pancreas.regionByControl[controlIndex] };
}

export interface ProfilePancreas {
  upstreamDuctDilated: boolean;
  parenchymalAtrophy: boolean;
  bileDuctDilated: boolean;
  /** Pancreas, pancreatic duct, common bile duct, tumour: in paint order. */
  structures: Structure[];
}

/**
 * The gland, its main duct and the common bile duct. A tumour of the head, uncinate process or
 * neck obstructs the duct of the whole gland upstream, one of the body the tail's; the gland
 * upstream of a dilated duct may be atrophic. A tumour of the head or uncinate process may
 * obstruct the common bile duct, which runs from the liver hilum behind the duodenum's first part
 * and through the back of the head to the papilla.
 */
export function drawProfilePancreasAndDuct(pancreas: PancreasCentreLine, portal: PortalVeins, choice: TumourChoice): ProfilePancreas {
  const control = REGION_CONTROL[choice.region];
  const obstructsDuct = control <= 4 && choice.upstreamDuctDilation;
  // Upstream of the tumour: towards the tail (for a head tumour, from the neck on).
  const upstreamFrom = control <= 3 ? 2 : 5;
  const upstream = (i: number): boolean => obstructsDuct && i >= upstreamFrom;
  const parenchymalAtrophy = obstructsDuct && choice.parenchymalAtrophy;
  const radii = pancreas.baseRadii.map((radius, i) => (parenchymalAtrophy && upstream(i) ? radius * 0.6 : radius));
  const ductControl = pancreas.control.slice(1);
  const ductRadii = ductControl.map((_, k) => (k === 0 ? 1 : upstream(k + 1) ? Math.min(choice.dilatedDuctRadiusMm, 0.7 * radii[k + 1]) : 1.2));
  const bileDuctDilated = control <= 1 && choice.bileDuctDilation;
  const c = portal.confluence;
  const bileDuct: Vec3[] = [
    [c[0] - 48, c[1] - 20, 40],
    [c[0] - 38, c[1] - 8, 15],
    [c[0] - 30, c[1] + 8, -5],
    [c[0] - 32, c[1] + 8, -25],
    [c[0] - 37, c[1] + 4, -38],
  ];
  const bileRadius = bileDuctDilated ? choice.dilatedBileDuctRadiusMm : 3;
  return {
    upstreamDuctDilated: obstructsDuct,
    parenchymalAtrophy,
    bileDuctDilated,
    structures: [
      structure('pancreas', 'pancreas', [...tube(pancreas.control, radii, 3), pancreas.headBulk], true),
      structure('pancreatic duct', 'water', tube(ductControl, ductRadii, 3), true),
      structure('common bile duct', 'bile', tube(bileDuct, bileDuct.map((_, i) => (i === bileDuct.length - 1 ? 2 : bileRadius)), 3), true),
      { name: 'tumour', tissue: 'tumour', shapes: [], moves: true, isTumour: true },
    ],
  };
}
