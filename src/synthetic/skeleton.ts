/**
 * The skeleton and the muscles along it: lumbar vertebrae (cortex, cancellous bone, discs,
 * posterior elements), the spinal canal, paraspinal and psoas muscles, and ribs 8-12.
 */
import type { Vec3 } from '../study/geometry';
import type { Structure } from './anatomyTypes';
import { column, structure, Z_HIGH, Z_LOW } from './anatomyHelpers';
import type { BodyWall } from './bodyWall';
import type { SeededRandom } from './random';
import { Ellipsoid, ProfiledCylinder, tube, type IntervalShape, type ProfileKnot } from './shapes';

export interface Spine {
  /** Vertebral body: half-width, half-depth and centre y (mm). */
  vertebraHalfWidthMm: number;
  vertebraHalfDepthMm: number;
  vertebraY: number;
  /** Spinal canal: radius (mm) and centre y. */
  canalRadiusMm: number;
  canalY: number;
  /** Paraspinal and psoas muscles, painted right after the body wall. */
  muscles: Structure[];
  /** Posterior elements, cortex, cancellous bone, discs, spinal canal: painted over the organs. */
  bones: Structure[];
}

export function drawSpine(rng: SeededRandom, body: BodyWall): Spine {
  const vertebraHalfWidthMm = rng.uniform(19, 24);
  const vertebraHalfDepthMm = rng.uniform(15, 18);
  const vertebraY = body.halfDepthMm - body.posteriorFatMm - rng.uniform(62, 72) - vertebraHalfDepthMm;
  const canalRadiusMm = rng.uniform(7.5, 9);
  const canalY = vertebraY + vertebraHalfDepthMm + canalRadiusMm + 2;
  const psoasKnots = (side: number): ProfileKnot[] =>
    [
      { z: -5, x: side * (vertebraHalfWidthMm + 6), y: vertebraY - 2, rx: 3, ry: 3 },
      { z: -60, x: side * (vertebraHalfWidthMm + 14), y: vertebraY - 4, rx: 13, ry: 11 },
      { z: -150, x: side * (vertebraHalfWidthMm + 22), y: vertebraY - 8, rx: 22, ry: 18 },
      { z: Z_LOW, x: side * (vertebraHalfWidthMm + 30), y: vertebraY - 12, rx: 26, ry: 20 },
    ].reverse();
  const muscles = [
    structure('paraspinal muscles', 'muscle', [column(-30, canalY + 28, 27, 24, Z_LOW, Z_HIGH, 2.3), column(30, canalY + 28, 27, 24, Z_LOW, Z_HIGH, 2.3)], false),
    structure('psoas muscles', 'muscle', [new ProfiledCylinder(psoasKnots(-1)), new ProfiledCylinder(psoasKnots(1))], false),
  ];

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
    cortical.push(column(0, vertebraY, vertebraHalfWidthMm, vertebraHalfDepthMm, z0, z1, 2.2));
    cancellous.push(column(0, vertebraY + 0.3, vertebraHalfWidthMm - 1.8, vertebraHalfDepthMm - 1.8, z0 + 1.6, z1 - 1.6, 2.2));
    discs.push(column(0, vertebraY, vertebraHalfWidthMm - 0.5, vertebraHalfDepthMm - 0.5, z1, z1 + discHeight, 2.2));
    // Posterior arch around the canal, the spinous process behind it, transverse processes.
    arches.push(column(0, canalY, canalRadiusMm + 7, canalRadiusMm + 6, z0 + 2, z1 + 2));
    arches.push(column(0, canalY + canalRadiusMm + 16, 6, 15, z0 + 4, z1 - 2));
    arches.push(new Ellipsoid([0, canalY - 2, (z0 + z1) / 2], [vertebraHalfWidthMm + 18, 4, 3.5]));
    arches.push(column(-12, vertebraY + vertebraHalfDepthMm + 3, 5, 6, z0 + 3, z1 - 3));
    arches.push(column(12, vertebraY + vertebraHalfDepthMm + 3, 5, 6, z0 + 3, z1 - 3));
  }
  const bones: Structure[] = [
    { name: 'vertebral posterior elements', tissue: 'posteriorElements', shapes: arches, moves: false },
    { name: 'vertebral cortex', tissue: 'corticalBone', shapes: cortical, moves: false },
    { name: 'vertebral cancellous bone', tissue: 'cancellousBone', shapes: cancellous, moves: false },
    { name: 'intervertebral discs', tissue: 'disc', shapes: discs, moves: false },
    { name: 'spinal canal', tissue: 'csf', shapes: [column(0, canalY, canalRadiusMm, canalRadiusMm, Z_LOW, Z_HIGH)], moves: false },
  ];
  return { vertebraHalfWidthMm, vertebraHalfDepthMm, vertebraY, canalRadiusMm, canalY, muscles, bones };
}

/** Ribs 8-12: tubes hugging the inside of the muscle wall, descending as they run forward. */
export function drawRibs(rng: SeededRandom, body: BodyWall, spine: Spine): Structure[] {
  const { cavityHalfWidthMm, cavityHalfDepthMm, cavityCentreY, muscleMm } = body;
  const ribShapes: IntervalShape[] = [];
  const marrowShapes: IntervalShape[] = [];
  const ribTop = rng.uniform(90, 130);
  for (let rib = 0; rib < 5; rib++) {
    for (const side of [-1, 1]) {
      const zStart = ribTop - rib * rng.uniform(24, 30);
      const reach = 1 - rib * 0.15;
      const control: Vec3[] = [];
      for (let s = 0; s <= 8; s++) {
        const fraction = s / 8;
        const angle = Math.PI / 2 - fraction * (Math.PI * 0.62 * reach + 0.2);
        const x = side * (18 + (cavityHalfWidthMm + muscleMm * 0.4 - 18) * Math.cos(angle) * Math.min(1, 0.35 + fraction * 1.5));
        const y = cavityCentreY + (cavityHalfDepthMm + muscleMm * 0.4) * Math.sin(angle) * 0.95;
        control.push([x, Math.min(y, spine.canalY - 4 + fraction * 0), zStart - fraction * fraction * 55 * reach - fraction * 10]);
      }
      ribShapes.push(...tube(control, 5.2, 5));
      marrowShapes.push(...tube(control, 3.2, 5));
    }
  }
  return [structure('ribs', 'corticalBone', ribShapes, false), structure('rib marrow', 'cancellousBone', marrowShapes, false)];
}
