/**
 * Image evidence of the contrast phase: the HU of the abdominal aorta relative to the portal
 * vein / superior mesenteric vein (SMV), measured on a few axial HU slices from mid-volume. Pure.
 *
 * Why it works: in the pancreatic (late arterial) phase the aorta is at 250-350 HU while the portal
 * vein is still at 100-150 HU (ratio about 2); in the portal-venous phase the aorta has fallen to
 * 130-180 HU and the portal vein risen to 160-200 HU (ratio about 0.8-1.1). Without contrast both
 * are blood at about 40 HU. (Figures: docs/phase-selection.md, from the project's PHANTOM.md.)
 *
 * How the vessels are found, per slice, in patient coordinates (LPS: +x is the patient's left,
 * +y posterior), so any in-plane orientation works:
 *  1. Body: the largest connected region above -300 HU.
 *  2. Vertebral body: among connected regions above 180 HU, the largest one whose centre lies
 *     within 35 mm of the body's left-right midline and behind the body's centre. Its anterior edge
 *     is the reference point.
 *  3. Aorta: just anterior and slightly left of the vertebral body (up to 55 mm in front of its
 *     anterior edge, from 20 mm right to 45 mm left of its centre). The aorta's centre is where a
 *     12 mm box has the highest mean HU, with boxes touching bone (> 600 HU or the vertebra) left
 *     out. The value is the median HU of a 6 mm radius disc there.
 *  4. Portal vein / SMV: anterior and to the right of the aorta (15-85 mm in front of it, 10-75 mm
 *     to its right), the brightest 10 mm box; value = median of a 5 mm radius disc. The box sizes
 *     keep small bright arteries (hepatic, gastroduodenal; about 5 mm) from winning over the
 *     12-16 mm portal vein, and the region's lower bound keeps the SMA (right in front of the aorta),
 *     the IVC and the kidneys out.
 *  5. Across slices, the median of each vessel's per-slice values: robust to a slice where a
 *     search went astray.
 */
import type { Vec3 } from './geometry';

export interface HuSlice {
  /** rows x columns HU, row-major (index j * columns + i). */
  data: Float32Array;
  rows: number;
  columns: number;
  /** [row spacing, column spacing], mm (DICOM PixelSpacing order). */
  pixelSpacing: [number, number];
  /** Direction of increasing column index i (first triplet of ImageOrientationPatient). */
  rowDirection: Vec3;
  /** Direction of increasing row index j. */
  columnDirection: Vec3;
}

export interface SliceVessels {
  aortaHu?: number;
  portalVeinHu?: number;
  /** Why a vessel was not found on this slice. */
  note?: string;
}

export interface VesselMeasurement {
  /** Median over slices where found. */
  aortaHu?: number;
  portalVeinHu?: number;
  slicesMeasured: number;
  slicesWithAorta: number;
  slicesWithPortalVein: number;
  perSlice: SliceVessels[];
}

export type ImagePhase = 'arterial' | 'venous' | 'non-contrast' | 'inconclusive';

export interface PhaseThresholds {
  arterialMinRatio: number;
  venousMaxRatio: number;
  contrastMinAortaHu: number;
}

export interface VesselPhase {
  phase: ImagePhase;
  aortaHu?: number;
  portalVeinHu?: number;
  ratio?: number;
  detail: string;
}

const BODY_HU = -300;
const BONE_HU = 180;
const DENSE_BONE_HU = 600;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

interface Component {
  pixels: number[];
  area: number;
  cx: number;
  cy: number;
}

/** Connected regions (4-neighbour) of a mask, with their patient-plane centroids. */
function components(mask: Uint8Array, columns: number, rows: number, px: Float64Array, py: Float64Array, minPixels: number): Component[] {
  const seen = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  const out: Component[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || seen[start] === 1) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    const visit = (q: number): void => {
      if (mask[q] === 1 && seen[q] === 0) {
        seen[q] = 1;
        queue[tail++] = q;
      }
    };
    while (head < tail) {
      const p = queue[head++];
      const i = p % columns;
      const j = (p - i) / columns;
      if (i > 0) visit(p - 1);
      if (i < columns - 1) visit(p + 1);
      if (j > 0) visit(p - columns);
      if (j < rows - 1) visit(p + columns);
    }
    if (tail < minPixels) continue;
    const pixels = Array.from(queue.subarray(0, tail));
    let sx = 0;
    let sy = 0;
    for (const p of pixels) {
      sx += px[p];
      sy += py[p];
    }
    out.push({ pixels, area: tail, cx: sx / tail, cy: sy / tail });
  }
  return out;
}

/** Mean HU of the box of half-size (hi, hj) pixels centred on every pixel, by a summed-area table. */
function boxMeans(data: Float32Array, columns: number, rows: number, hi: number, hj: number): Float64Array {
  const w = columns + 1;
  const sat = new Float64Array(w * (rows + 1));
  for (let j = 0; j < rows; j++) {
    let rowSum = 0;
    for (let i = 0; i < columns; i++) {
      rowSum += data[j * columns + i];
      sat[(j + 1) * w + (i + 1)] = sat[j * w + (i + 1)] + rowSum;
    }
  }
  const out = new Float64Array(columns * rows).fill(Number.NaN);
  for (let j = hj; j < rows - hj; j++) {
    for (let i = hi; i < columns - hi; i++) {
      const i0 = i - hi;
      const i1 = i + hi + 1;
      const j0 = j - hj;
      const j1 = j + hj + 1;
      const sum = sat[j1 * w + i1] - sat[j0 * w + i1] - sat[j1 * w + i0] + sat[j0 * w + i0];
      out[j * columns + i] = sum / ((i1 - i0) * (j1 - j0));
    }
  }
  return out;
}

/** Median HU within `radiusMm` of pixel `centre`. */
function discMedian(s: HuSlice, centre: number, radiusMm: number): number {
  const [dr, dc] = s.pixelSpacing;
  const ci = centre % s.columns;
  const cj = (centre - ci) / s.columns;
  const ri = Math.ceil(radiusMm / dc);
  const rj = Math.ceil(radiusMm / dr);
  const values: number[] = [];
  for (let j = Math.max(0, cj - rj); j <= Math.min(s.rows - 1, cj + rj); j++) {
    for (let i = Math.max(0, ci - ri); i <= Math.min(s.columns - 1, ci + ri); i++) {
      const x = (i - ci) * dc;
      const y = (j - cj) * dr;
      if (x * x + y * y <= radiusMm * radiusMm) values.push(s.data[j * s.columns + i]);
    }
  }
  return median(values);
}

/** Finds the aorta and portal vein on one axial slice (see the file comment for how). */
export function measureSliceVessels(s: HuSlice): SliceVessels {
  const n = s.rows * s.columns;
  const [dr, dc] = s.pixelSpacing;
  // Patient-plane coordinates (mm, relative to the first pixel) of every pixel.
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  for (let j = 0; j < s.rows; j++) {
    for (let i = 0; i < s.columns; i++) {
      const p = j * s.columns + i;
      px[p] = i * dc * s.rowDirection[0] + j * dr * s.columnDirection[0];
      py[p] = i * dc * s.rowDirection[1] + j * dr * s.columnDirection[1];
    }
  }
  const pixelArea = dr * dc;

  const bodyMask = new Uint8Array(n);
  for (let p = 0; p < n; p++) bodyMask[p] = s.data[p] > BODY_HU ? 1 : 0;
  const bodies = components(bodyMask, s.columns, s.rows, px, py, Math.ceil(2000 / pixelArea));
  if (bodies.length === 0) return { note: 'no body outline' };
  const body = bodies.reduce((a, b) => (b.area > a.area ? b : a));

  const boneMask = new Uint8Array(n);
  for (let p = 0; p < n; p++) boneMask[p] = s.data[p] > BONE_HU ? 1 : 0;
  const bones = components(boneMask, s.columns, s.rows, px, py, Math.ceil(150 / pixelArea)).filter(
    (c) => Math.abs(c.cx - body.cx) <= 35 && c.cy > body.cy,
  );
  if (bones.length === 0) return { note: 'vertebral body not found' };
  const vertebra = bones.reduce((a, b) => (b.area > a.area ? b : a));
  const vertebraMask = new Uint8Array(n);
  let anteriorEdge = Number.POSITIVE_INFINITY;
  for (const p of vertebra.pixels) {
    vertebraMask[p] = 1;
    if (Math.abs(px[p] - vertebra.cx) <= 10) anteriorEdge = Math.min(anteriorEdge, py[p]);
  }

  const aortaBox = boxMeans(s.data, s.columns, s.rows, Math.max(1, Math.round(6 / dc)), Math.max(1, Math.round(6 / dr)));
  const denseBone = (p: number, radiusMm: number): boolean => {
    const ci = p % s.columns;
    const cj = (p - ci) / s.columns;
    const ri = Math.ceil(radiusMm / dc);
    const rj = Math.ceil(radiusMm / dr);
    for (let j = Math.max(0, cj - rj); j <= Math.min(s.rows - 1, cj + rj); j++) {
      for (let i = Math.max(0, ci - ri); i <= Math.min(s.columns - 1, ci + ri); i++) {
        const q = j * s.columns + i;
        if (vertebraMask[q] === 1 || s.data[q] > DENSE_BONE_HU) return true;
      }
    }
    return false;
  };

  let aorta = -1;
  let aortaBest = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < n; p++) {
    const dx = px[p] - vertebra.cx;
    const dy = py[p] - anteriorEdge;
    if (dx < -20 || dx > 45 || dy < -55 || dy > 5) continue;
    const m = aortaBox[p];
    if (!(m > aortaBest)) continue;
    if (denseBone(p, 6)) continue;
    aortaBest = m;
    aorta = p;
  }
  if (aorta < 0) return { note: 'aorta not found' };
  const result: SliceVessels = { aortaHu: round1(discMedian(s, aorta, 6)) };

  const veinBox = boxMeans(s.data, s.columns, s.rows, Math.max(1, Math.round(5 / dc)), Math.max(1, Math.round(5 / dr)));
  let vein = -1;
  let veinBest = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < n; p++) {
    const dx = px[p] - px[aorta];
    const dy = py[p] - py[aorta];
    if (dx > -10 || dx < -75 || dy > -15 || dy < -85) continue;
    const m = veinBox[p];
    if (!(m > veinBest)) continue;
    if (denseBone(p, 5)) continue;
    veinBest = m;
    vein = p;
  }
  if (vein < 0) return { ...result, note: 'portal vein not found' };
  result.portalVeinHu = round1(discMedian(s, vein, 5));
  return result;
}

export function measureVessels(slices: HuSlice[]): VesselMeasurement {
  const perSlice = slices.map(measureSliceVessels);
  const aortas = perSlice.map((v) => v.aortaHu).filter((v): v is number => v !== undefined);
  const veins = perSlice.map((v) => v.portalVeinHu).filter((v): v is number => v !== undefined);
  const m: VesselMeasurement = { slicesMeasured: slices.length, slicesWithAorta: aortas.length, slicesWithPortalVein: veins.length, perSlice };
  if (aortas.length > 0) m.aortaHu = round1(median(aortas));
  if (veins.length > 0) m.portalVeinHu = round1(median(veins));
  return m;
}

/** The phase the vessels show, with the figures behind it. */
export function classifyPhaseFromVessels(m: VesselMeasurement, t: PhaseThresholds): VesselPhase {
  const half = Math.ceil(m.slicesMeasured / 2);
  if (m.aortaHu === undefined || m.slicesWithAorta < half) {
    const notes = [...new Set(m.perSlice.map((v) => v.note).filter((x): x is string => x !== undefined))];
    return { phase: 'inconclusive', detail: `aorta found on ${m.slicesWithAorta} of ${m.slicesMeasured} slices (${notes.join(', ') || 'no reason'})` };
  }
  const base = { aortaHu: m.aortaHu, ...(m.portalVeinHu !== undefined ? { portalVeinHu: m.portalVeinHu } : {}) };
  if (m.aortaHu < t.contrastMinAortaHu) {
    return { phase: 'non-contrast', ...base, detail: `aorta ${m.aortaHu} HU is below ${t.contrastMinAortaHu} HU: no intravascular contrast` };
  }
  if (m.portalVeinHu === undefined || m.slicesWithPortalVein < half) {
    return { phase: 'inconclusive', ...base, detail: `aorta ${m.aortaHu} HU, portal vein found on ${m.slicesWithPortalVein} of ${m.slicesMeasured} slices` };
  }
  const ratio = Math.round((m.aortaHu / Math.max(m.portalVeinHu, 1)) * 100) / 100;
  const figures = `aorta ${m.aortaHu} HU, portal vein ${m.portalVeinHu} HU, ratio ${ratio}`;
  if (ratio >= t.arterialMinRatio) return { phase: 'arterial', ...base, ratio, detail: `${figures} >= ${t.arterialMinRatio}: arterial` };
  if (ratio <= t.venousMaxRatio) return { phase: 'venous', ...base, ratio, detail: `${figures} <= ${t.venousMaxRatio}: portal venous` };
  return { phase: 'inconclusive', ...base, ratio, detail: `${figures} lies between ${t.venousMaxRatio} and ${t.arterialMinRatio}` };
}
