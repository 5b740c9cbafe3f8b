/**
 * Rasterises the phantom into axial HU slices (before noise). Each structure paints the interval
 * where a sub-row of the slice runs inside it; partial-volume coverage is computed only at the
 * interval's ends, from two sub-rows per pixel row, so edges are anti-aliased in x and y. The
 * tumour, whose margin is irregular, is evaluated voxel by voxel inside its bounding box.
 *
 * Painting is "over" compositing: value += coverage * (tissue HU + texture - value).
 */
import type { Vec3 } from '../study/geometry';
import type { Anatomy } from './anatomyTypes';
import { textureAmplitude, type ContrastPhase, type PhaseHu } from './tissues';
import { tumourBounds, tumourLevel } from './tumourShape';

/** Axial pixel grid in the local frame: pixel (i, j) has its centre at (x0 + i * spacing, y0 + j * spacing). */
export interface AxialGrid {
  columns: number;
  rows: number;
  spacing: number;
  x0: number;
  y0: number;
}

export class SliceRenderer {
  private readonly scratchA = new Float64Array(2);
  private readonly scratchB = new Float64Array(2);

  constructor(
    private readonly anatomy: Anatomy,
    private readonly hu: PhaseHu,
    private readonly grid: AxialGrid,
  ) {}

  /**
   * Renders the slice at local height z into `out` (HU), with organs that move with breathing
   * displaced by `shift` (mm). `texture` is a unit-variance smooth field for this slice.
   */
  render(phase: ContrastPhase, z: number, shift: Vec3, texture: Float32Array, out: Float32Array): void {
    out.fill(-1000);
    const table = this.hu[phase];
    for (const structure of this.anatomy.structures) {
      const s: Vec3 = structure.moves ? shift : [0, 0, 0];
      const hu = table[structure.tissue];
      const amp = textureAmplitude(structure.tissue, phase);
      if (structure.isTumour) {
        this.paintTumour(z, s, hu, amp, texture, out);
        continue;
      }
      const zl = z - s[2];
      for (const shape of structure.shapes) {
        const b = shape.bounds;
        if (zl < b.min[2] || zl > b.max[2]) continue;
        this.paintShape(shape, zl, s, hu, amp, texture, out);
      }
    }
  }

  private paintShape(
    shape: { bounds: { min: Vec3; max: Vec3 }; interval(y: number, z: number, out: Float64Array): boolean },
    zl: number,
    s: Vec3,
    hu: number,
    amp: number,
    tex: Float32Array,
    out: Float32Array,
  ): void {
    const g = this.grid;
    const n = g.columns;
    const ps = g.spacing;
    const b = shape.bounds;
    const jLo = Math.max(0, Math.floor((b.min[1] + s[1] - g.y0) / ps));
    const jHi = Math.min(g.rows - 1, Math.ceil((b.max[1] + s[1] - g.y0) / ps));
    if (jHi < jLo) return;
    const iMinBound = (b.min[0] + s[0] - g.x0) / ps;
    const iMaxBound = (b.max[0] + s[0] - g.x0) / ps;
    if (iMaxBound < -1 || iMinBound > n) return;
    const A = this.scratchA;
    const B = this.scratchB;
    const quarter = ps / 4;
    const toU = (x: number): number => (x + s[0] - g.x0) / ps;
    for (let j = jLo; j <= jHi; j++) {
      const yl = g.y0 + j * ps - s[1];
      const okA = shape.interval(yl - quarter, zl, A);
      const okB = shape.interval(yl + quarter, zl, B);
      if (!okA && !okB) continue;
      const a0 = okA ? toU(A[0]) : NaN;
      const a1 = okA ? toU(A[1]) : NaN;
      const b0 = okB ? toU(B[0]) : NaN;
      const b1 = okB ? toU(B[1]) : NaN;
      const lo = okA && okB ? Math.min(a0, b0) : okA ? a0 : b0;
      const hi = okA && okB ? Math.max(a1, b1) : okA ? a1 : b1;
      const iStart = Math.max(0, Math.floor(lo + 0.5));
      const iEnd = Math.min(n - 1, Math.floor(hi + 0.5));
      if (iEnd < iStart) continue;
      let fStart = iEnd + 1;
      let fEnd = iEnd;
      if (okA && okB) {
        fStart = Math.max(iStart, Math.ceil(Math.max(a0, b0) + 0.5));
        fEnd = Math.min(iEnd, Math.floor(Math.min(a1, b1) - 0.5));
        if (fEnd < fStart) {
          fStart = iEnd + 1;
          fEnd = iEnd;
        }
      }
      const o = j * n;
      // Edges: coverage is the mean over the two sub-rows of the pixel's overlap with the interval.
      for (let i = iStart; i <= iEnd; i++) {
        if (i === fStart) {
          i = fEnd;
          continue;
        }
        let c = 0;
        if (okA) c += Math.max(0, Math.min(a1, i + 0.5) - Math.max(a0, i - 0.5));
        if (okB) c += Math.max(0, Math.min(b1, i + 0.5) - Math.max(b0, i - 0.5));
        c *= 0.5;
        if (c <= 0) continue;
        const v = hu + amp * tex[o + i];
        out[o + i] = out[o + i] + c * (v - out[o + i]);
      }
      // Interior: fully covered.
      if (amp === 0) out.fill(hu, o + fStart, o + fEnd + 1);
      else for (let i = fStart; i <= fEnd; i++) out[o + i] = hu + amp * tex[o + i];
    }
  }

  private paintTumour(z: number, s: Vec3, hu: number, amp: number, tex: Float32Array, out: Float32Array): void {
    const g = this.grid;
    const t = this.anatomy.tumour;
    const centre: Vec3 = [t.centreLocal[0] + s[0], t.centreLocal[1] + s[1], t.centreLocal[2] + s[2]];
    const box = tumourBounds(t.shape, centre);
    // The margin's ramp: one pixel, or the ill-defined margin's width.
    const ramp = t.shape.marginWidthMm !== undefined ? Math.max(g.spacing, t.shape.marginWidthMm) : g.spacing;
    if (z < box.min[2] - ramp || z > box.max[2] + ramp) return;
    const meanRadius = (t.shape.radiiMm[0] + t.shape.radiiMm[1] + t.shape.radiiMm[2]) / 3;
    const edge = meanRadius / ramp;
    const pad = Math.ceil(ramp / g.spacing);
    const jLo = Math.max(0, Math.floor((box.min[1] - g.y0) / g.spacing) - pad);
    const jHi = Math.min(g.rows - 1, Math.ceil((box.max[1] - g.y0) / g.spacing) + pad);
    const iLo = Math.max(0, Math.floor((box.min[0] - g.x0) / g.spacing) - pad);
    const iHi = Math.min(g.columns - 1, Math.ceil((box.max[0] - g.x0) / g.spacing) + pad);
    const p: Vec3 = [0, 0, z];
    for (let j = jLo; j <= jHi; j++) {
      p[1] = g.y0 + j * g.spacing;
      const o = j * g.columns;
      for (let i = iLo; i <= iHi; i++) {
        p[0] = g.x0 + i * g.spacing;
        const level = tumourLevel(t.shape, centre, p);
        // Coverage ramps over one pixel around the surface (level 1).
        const c = Math.min(1, Math.max(0, 0.5 - (level - 1) * edge));
        if (c <= 0) continue;
        const v = hu + amp * tex[o + i];
        out[o + i] = out[o + i] + c * (v - out[o + i]);
      }
    }
  }
}
