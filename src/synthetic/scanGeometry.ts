/**
 * The scan's geometry, drawn from the `acquisition` stream: the reconstruction grid and its
 * circle, the thin slices' positions over the pancreas and tumour, the table position, each
 * phase's breathing shift and the image noise.
 */
import type { Vec3 } from '../study/geometry';
import type { Anatomy } from './anatomyTypes';
import type { SeededRandom } from './random';
import type { AxialGrid } from './render';
import type { ContrastPhase } from './tissues';

export interface ScanGeometry {
  grid: AxialGrid;
  /** Reconstruction diameter (mm): the grid's width. */
  fieldOfViewMm: number;
  /** 1 inside the reconstruction circle, 0 outside (where an encoding writes its padding value); index j * columns + i. */
  fovMask: Uint8Array;
  /** Thickness of the thin slices (mm). */
  thinSliceMm: number;
  /** Spacing between the thin slices (mm): the thickness, or less for overlapping reconstructions (randomised profiles). */
  thinIntervalMm: number;
  /** Renders averaged across the thickness of a thin slice (its slice profile): 1 for the baseline's thin slices. */
  thinSubSamples: number;
  /** z length the thin slices cover (mm). */
  coverageMm: number;
  /** Local z of the middle of the scanned range. */
  zCentre: number;
  /** Local z of the centre of each thin slice, head first. */
  thinZ: number[];
  /** Patient coordinates = local + translation (the table position). */
  translation: Vec3;
  /** Shift of the organs that move with breathing, per phase. */
  breathingShifts: Record<ContrastPhase, Vec3>;
  /** Noise SD of the thin slices (HU); larger patients are noisier. */
  noiseSdHu: number;
}

/** Every draw of the geometry, in the order the `acquisition` stream gives them. */
export function drawScanGeometry(acquisition: SeededRandom, anatomy: Anatomy, columns: number, slices: number): ScanGeometry {
  const fieldOfViewMm = Math.min(460, Math.max(310, 2 * anatomy.bodyHalfWidthMm + acquisition.uniform(25, 80)));
  const spacing = fieldOfViewMm / columns;
  const reconCentre: [number, number] = [acquisition.uniform(-12, 12), acquisition.uniform(-5, 20)];
  const grid: AxialGrid = {
    columns,
    rows: columns,
    spacing,
    x0: reconCentre[0] - ((columns - 1) / 2) * spacing,
    y0: reconCentre[1] - ((columns - 1) / 2) * spacing,
  };
  // Thin slices: 1.0 or 1.25 mm when there are enough to cover the pancreas; thicker otherwise.
  const minimumCoverage = 105;
  const thinSliceMm = Math.max(acquisition.pick([1.0, 1.25]), Math.ceil((minimumCoverage / slices) * 8) / 8);
  const coverageMm = thinSliceMm * slices;
  const tumourZ = anatomy.tumour.centreLocal[2];
  const pancreasMid = (anatomy.pancreasZ[0] + anatomy.pancreasZ[1]) / 2 + acquisition.uniform(-8, 8);
  const margin = Math.max(0, coverageMm / 2 - 25);
  const zCentre = Math.min(tumourZ + margin, Math.max(tumourZ - margin, pancreasMid));
  const zTop = zCentre + ((slices - 1) / 2) * thinSliceMm;
  const thinZ = Array.from({ length: slices }, (_, k) => zTop - k * thinSliceMm);
  const translation: Vec3 = [acquisition.uniform(-8, 8), acquisition.uniform(-40, 10), -acquisition.uniform(120, 700)];
  const breathing = (): Vec3 => [acquisition.gaussian(0, 0.8), acquisition.gaussian(0, 1.5), Math.max(-9, Math.min(9, acquisition.gaussian(0, 3.5)))];
  const breathingShifts: Record<ContrastPhase, Vec3> = { 'non-contrast': breathing(), arterial: breathing(), venous: breathing(), delayed: breathing() };
  const noiseSdHu = Math.min(20, Math.max(10, 10 + ((anatomy.bodyHalfWidthMm - 135) / 50) * 8 + acquisition.gaussian(0, 1.5)));
  return { grid, fieldOfViewMm, fovMask: reconstructionCircle(columns), thinSliceMm, thinIntervalMm: thinSliceMm, thinSubSamples: 1, coverageMm, zCentre, thinZ, translation, breathingShifts, noiseSdHu };
}

/** The mask of the reconstruction circle inscribed in a square image of `columns` pixels. */
export function reconstructionCircle(columns: number): Uint8Array {
  const fovMask = new Uint8Array(columns * columns);
  for (let j = 0; j < columns; j++) {
    for (let i = 0; i < columns; i++) {
      const dx = i - (columns - 1) / 2;
      const dy = j - (columns - 1) / 2;
      fovMask[j * columns + i] = dx * dx + dy * dy <= (columns / 2) * (columns / 2) ? 1 : 0;
    }
  }
  return fovMask;
}
