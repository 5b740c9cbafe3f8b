/**
 * Image evidence of the contrast phase: the HU of the abdominal aorta relative to the portal
 * vein / superior mesenteric vein (SMV), measured on a few axial HU slices from mid-volume. Pure.
 *
 * Why it works: in the pancreatic (late arterial) phase the aorta is at 250-350 HU while the portal
 * vein is still at 100-150 HU (ratio about 2); in the portal-venous phase the aorta has fallen to
 * 130-180 HU and the portal vein risen to 160-200 HU (ratio about 0.8-1.1). In a delayed phase both
 * have washed out to about 100-135 HU. Without contrast both are blood at about 40 HU. (Figures: docs/phase-selection.md, from the project's PHANTOM.md.)
 *
 * How the vessels are found, per slice, in patient coordinates (LPS: +x is the patient's left,
 * +y posterior), so any in-plane orientation works:
 *  1. Body: the largest connected region above -300 HU.
 *  2. Vertebral body: among connected regions above 350 HU (cortex and posterior elements; above
 *     an enhanced aorta, which at coarse pixels would otherwise merge with the bone) inside the body
 *     outline (the table is as dense and lies behind the patient), the largest one whose centre
 *     lies within 35 mm of the body's left-right midline and behind the body's centre. Its anterior
 *     edge is the reference. A slice through a disc has none: the median vertebra of the series'
 *     other slices stands in.
 *  3. Aorta: just anterior and slightly left of the vertebral body (3-55 mm in front of its
 *     anterior edge, from 20 mm right to 45 mm left of its centre). The aorta's centre is where a
 *     12 mm box has the highest mean HU, with boxes touching bone (> 600 HU, or the vertebra with
 *     the cancellous bone its cortex encloses) left out. The value is the median HU of a 6 mm
 *     radius disc there.
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
  /** ImagePositionPatient; lets slices of one series share a vertebra found on another slice. */
  origin?: Vec3;
}

export interface SliceVessels {
  aortaHu?: number;
  portalVeinHu?: number;
  /** Where each was measured: [column i, row j]. */
  aortaPixel?: [number, number];
  portalVeinPixel?: [number, number];
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

export type ImagePhase = 'arterial' | 'venous' | 'delayed' | 'non-contrast' | 'inconclusive';

export interface PhaseThresholds {
  arterialMinRatio: number;
  venousMaxRatio: number;
  contrastMinAortaHu: number;
  venousMinPortalVeinHu: number;
}

export interface VesselPhase {
  phase: ImagePhase;
  aortaHu?: number;
  portalVeinHu?: number;
  ratio?: number;
  detail: string;
}

const BODY_HU = -300;
const BONE_HU = 350;
const DENSE_BONE_HU = 450;
const CORTEX_HU = 600;

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

/**
 * A centre-surround blob filter by summed-area tables: for every pixel, the mean HU of a central
 * box (half-sizes `inner`, in pixels) and that mean minus the mean of the ring between the boxes of
 * half-sizes `ringFrom` and `ringTo`. A round vessel in fat or soft tissue scores high; a point
 * inside a larger bright structure (the vertebral body, the liver) scores near zero.
 */
function blobFilter(
  data: Float32Array,
  columns: number,
  rows: number,
  inner: [number, number],
  ringFrom: [number, number],
  ringTo: [number, number],
): { mean: Float64Array; score: Float64Array } {
  const w = columns + 1;
  const sat = new Float64Array(w * (rows + 1));
  for (let j = 0; j < rows; j++) {
    let rowSum = 0;
    for (let i = 0; i < columns; i++) {
      rowSum += data[j * columns + i];
      sat[(j + 1) * w + (i + 1)] = sat[j * w + (i + 1)] + rowSum;
    }
  }
  const box = (i: number, j: number, hi: number, hj: number): [number, number] => {
    const i0 = Math.max(0, i - hi);
    const i1 = Math.min(columns, i + hi + 1);
    const j0 = Math.max(0, j - hj);
    const j1 = Math.min(rows, j + hj + 1);
    return [sat[j1 * w + i1] - sat[j0 * w + i1] - sat[j1 * w + i0] + sat[j0 * w + i0], (i1 - i0) * (j1 - j0)];
  };
  const mean = new Float64Array(columns * rows).fill(Number.NaN);
  const score = new Float64Array(columns * rows).fill(Number.NaN);
  for (let j = ringTo[1]; j < rows - ringTo[1]; j++) {
    for (let i = ringTo[0]; i < columns - ringTo[0]; i++) {
      const [si, ni] = box(i, j, inner[0], inner[1]);
      const [sf, nf] = box(i, j, ringFrom[0], ringFrom[1]);
      const [st, nt] = box(i, j, ringTo[0], ringTo[1]);
      const m = si / ni;
      mean[j * columns + i] = m;
      score[j * columns + i] = m - (st - sf) / (nt - nf);
    }
  }
  return { mean, score };
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

interface SliceFrame {
  /** Patient-plane coordinates (mm) of every pixel. */
  px: Float64Array;
  py: Float64Array;
  body?: Component;
  inBody: Uint8Array;
}

function sliceFrame(s: HuSlice): SliceFrame {
  const n = s.rows * s.columns;
  const [dr, dc] = s.pixelSpacing;
  const o = s.origin ?? [0, 0, 0];
  const px = new Float64Array(n);
  const py = new Float64Array(n);
  for (let j = 0; j < s.rows; j++) {
    for (let i = 0; i < s.columns; i++) {
      const p = j * s.columns + i;
      px[p] = o[0] + i * dc * s.rowDirection[0] + j * dr * s.columnDirection[0];
      py[p] = o[1] + i * dc * s.rowDirection[1] + j * dr * s.columnDirection[1];
    }
  }
  const bodyMask = new Uint8Array(n);
  for (let p = 0; p < n; p++) bodyMask[p] = s.data[p] > BODY_HU ? 1 : 0;
  const bodies = components(bodyMask, s.columns, s.rows, px, py, Math.ceil(2000 / (dr * dc)));
  const inBody = new Uint8Array(n);
  if (bodies.length === 0) return { px, py, inBody };
  const body = bodies.reduce((a, b) => (b.area > a.area ? b : a));
  for (const p of body.pixels) inBody[p] = 1;
  return { px, py, body, inBody };
}

/** The vertebral body: its left-right centre and anterior edge (patient mm), and its pixels. */
export interface Vertebra {
  cx: number;
  anteriorEdge: number;
}

function findVertebra(s: HuSlice, f: SliceFrame): (Vertebra & { mask: Uint8Array }) | undefined {
  const body = f.body;
  if (body === undefined) return undefined;
  const n = s.rows * s.columns;
  const boneMask = new Uint8Array(n);
  for (let p = 0; p < n; p++) boneMask[p] = s.data[p] > BONE_HU ? 1 : 0;
  // Bone is what holds cortex (> 600 HU, denser than any enhanced vessel), inside the body outline
  // only: the scanner table is as dense as bone and lies behind the patient.
  const bones = components(boneMask, s.columns, s.rows, f.px, f.py, Math.ceil(40 / (s.pixelSpacing[0] * s.pixelSpacing[1]))).filter(
    (c) => c.pixels.filter((p) => f.inBody[p] === 1).length >= 0.8 * c.area && c.pixels.filter((p) => s.data[p] > CORTEX_HU).length >= 2,
  );
  const spine = bones.filter((c) => Math.abs(c.cx - body.cx) <= 35 && c.cy > body.cy);
  if (spine.length === 0) return undefined;
  const vertebra = spine.reduce((a, b) => (b.area > a.area ? b : a));
  let anteriorEdge = Number.POSITIVE_INFINITY;
  for (const p of vertebra.pixels) if (Math.abs(f.px[p] - vertebra.cx) <= 10) anteriorEdge = Math.min(anteriorEdge, f.py[p]);
  // Every bone with what it encloses (the cancellous bone inside a cortical shell is as bright as
  // an enhanced vessel), grown by about 3 mm for partial volume at its edge.
  const mask = new Uint8Array(n);
  for (const c of bones) for (const p of c.pixels) mask[p] = 1;
  fillHoles(mask, s.columns, s.rows);
  dilate(mask, s.columns, s.rows, Math.max(1, Math.round(3 / s.pixelSpacing[1])), Math.max(1, Math.round(3 / s.pixelSpacing[0])));
  return { cx: vertebra.cx, anteriorEdge, mask };
}

/** Grows a mask by (ri, rj) pixels (a box structuring element). */
function dilate(mask: Uint8Array, columns: number, rows: number, ri: number, rj: number): void {
  const src = mask.slice();
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < columns; i++) {
      if (src[j * columns + i] === 0) continue;
      for (let b = Math.max(0, j - rj); b <= Math.min(rows - 1, j + rj); b++) {
        for (let a = Math.max(0, i - ri); a <= Math.min(columns - 1, i + ri); a++) mask[b * columns + a] = 1;
      }
    }
  }
}

/**
 * Adds to `mask` what it encloses (the cancellous bone inside the cortical shell, 150-300 HU, as
 * bright as an enhanced vessel): every pixel the outside cannot reach without crossing the mask.
 */
function fillHoles(mask: Uint8Array, columns: number, rows: number): void {
  const outside = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  let tail = 0;
  const seed = (p: number): void => {
    if (mask[p] === 0 && outside[p] === 0) {
      outside[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let i = 0; i < columns; i++) {
    seed(i);
    seed((rows - 1) * columns + i);
  }
  for (let j = 0; j < rows; j++) {
    seed(j * columns);
    seed(j * columns + columns - 1);
  }
  for (let head = 0; head < tail; head++) {
    const p = queue[head];
    const i = p % columns;
    if (i > 0) seed(p - 1);
    if (i < columns - 1) seed(p + 1);
    if (p >= columns) seed(p - columns);
    if (p + columns < mask.length) seed(p + columns);
  }
  for (let p = 0; p < mask.length; p++) if (outside[p] === 0) mask[p] = 1;
}

/**
 * Finds the aorta and portal vein on one axial slice (see the file comment for how). A slice
 * through an intervertebral disc has no bone: `fallback` is the vertebra of the series' other
 * slices (the spine hardly moves over a few centimetres).
 */
export function measureSliceVessels(s: HuSlice, fallback?: Vertebra): SliceVessels {
  const f = sliceFrame(s);
  return measureWithFrame(s, f, findVertebra(s, f), fallback);
}

function measureWithFrame(s: HuSlice, f: SliceFrame, found: (Vertebra & { mask: Uint8Array }) | undefined, fallback?: Vertebra): SliceVessels {
  const n = s.rows * s.columns;
  const [dr, dc] = s.pixelSpacing;
  const { px, py } = f;
  if (f.body === undefined) return { note: 'no body outline' };
  const vertebra = found ?? fallback;
  if (vertebra === undefined) return { note: 'vertebral body not found' };
  const vertebraMask = found?.mask ?? new Uint8Array(n);
  const anteriorEdge = vertebra.anteriorEdge;

  const half = (mm: number, spacing: number): number => Math.max(1, Math.round(mm / spacing));
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

  const halves = (mm: number): [number, number] => [half(mm, dc), half(mm, dr)];
  const grow = (h: [number, number], by: number): [number, number] => [Math.max(h[0] + by, half(0, dc)), Math.max(h[1] + by, half(0, dr))];
  // Aorta: a 10-12 mm centre against a ring 10-15 mm out (about 20-30 mm across).
  const aortaInner = halves(5);
  const aortaRingFrom = grow(halves(10), 0);
  const aortaRingTo = grow(halves(15), 1);
  const aortaFilter = blobFilter(s.data, s.columns, s.rows, aortaInner, aortaRingFrom, aortaRingTo);
  // The whole ring must lie inside the body: against the air outside, skin would look like a vessel.
  const ringInBody = (p: number, ring: [number, number]): boolean => {
    const i = p % s.columns;
    const j = (p - i) / s.columns;
    const corners = [
      [i - ring[0], j - ring[1]],
      [i + ring[0], j - ring[1]],
      [i - ring[0], j + ring[1]],
      [i + ring[0], j + ring[1]],
    ];
    return corners.every(([ci, cj]) => ci >= 0 && cj >= 0 && ci < s.columns && cj < s.rows && f.inBody[cj * s.columns + ci] === 1);
  };
  let aorta = -1;
  let aortaBest = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < n; p++) {
    if (f.inBody[p] === 0) continue;
    const dx = px[p] - vertebra.cx;
    const dy = py[p] - anteriorEdge;
    if (dx < -25 || dx > 45 || dy < -75 || dy > 5) continue;
    const m = aortaFilter.score[p];
    if (!(m > aortaBest)) continue;
    if (denseBone(p, 7) || !ringInBody(p, aortaRingTo)) continue;
    aortaBest = m;
    aorta = p;
  }
  if (aorta < 0) return { note: 'aorta not found' };
  const result: SliceVessels = { aortaHu: round1(discMedian(s, aorta, 6)), aortaPixel: [aorta % s.columns, Math.floor(aorta / s.columns)] };

  // Portal vein / SMV: a 6 mm centre (at least 3x3 pixels, so a 9-16 mm vein is found even at
  // 3 mm pixels) against a ring 7-11 mm out. The value is the median of a larger disc, which
  // ignores a thin bright artery (hepatic, gastroduodenal) the search may land on.
  const veinInner = halves(3);
  const veinRingFrom = grow(halves(7), 1);
  const veinRingTo = grow(halves(11), 2);
  const veinFilter = blobFilter(s.data, s.columns, s.rows, veinInner, veinRingFrom, veinRingTo);
  let vein = -1;
  let veinBest = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < n; p++) {
    if (f.inBody[p] === 0) continue;
    const dx = px[p] - px[aorta];
    const dy = py[p] - py[aorta];
    if (dx > -8 || dx < -65 || dy > -12 || dy < -75) continue;
    const m = veinFilter.score[p];
    if (!(m > veinBest)) continue;
    if (denseBone(p, 5) || !ringInBody(p, veinRingTo)) continue;
    veinBest = m;
    vein = p;
  }
  if (vein < 0) return { ...result, note: 'portal vein not found' };
  result.portalVeinHu = round1(discMedian(s, vein, Math.max(6, 1.01 * Math.max(dr, dc))));
  result.portalVeinPixel = [vein % s.columns, Math.floor(vein / s.columns)];
  return result;
}

export function measureVessels(slices: HuSlice[]): VesselMeasurement {
  const frames = slices.map(sliceFrame);
  const found = slices.map((s, k) => findVertebra(s, frames[k]));
  const vertebrae = found.filter((v): v is Vertebra & { mask: Uint8Array } => v !== undefined);
  const fallback: Vertebra | undefined =
    vertebrae.length > 0 && slices.every((s) => s.origin !== undefined)
      ? { cx: median(vertebrae.map((v) => v.cx)), anteriorEdge: median(vertebrae.map((v) => v.anteriorEdge)) }
      : undefined;
  const perSlice = slices.map((s, k) => measureWithFrame(s, frames[k], found[k], fallback));
  const aortas = perSlice.map((v) => v.aortaHu).filter((v): v is number => v !== undefined);
  const veins = perSlice.map((v) => v.portalVeinHu).filter((v): v is number => v !== undefined);
  const m: VesselMeasurement = { slicesMeasured: slices.length, slicesWithAorta: aortas.length, slicesWithPortalVein: veins.length, perSlice };
  if (aortas.length > 0) m.aortaHu = round1(median(aortas));
  if (veins.length > 0) m.portalVeinHu = round1(median(veins));
  return m;
}

function phaseOf(aortaHu: number, portalVeinHu: number | undefined, t: PhaseThresholds): ImagePhase {
  if (aortaHu < t.contrastMinAortaHu) return 'non-contrast';
  if (portalVeinHu === undefined) return 'inconclusive';
  const ratio = aortaHu / Math.max(portalVeinHu, 1);
  if (ratio >= t.arterialMinRatio) return 'arterial';
  if (ratio <= t.venousMaxRatio) return portalVeinHu < t.venousMinPortalVeinHu ? 'delayed' : 'venous';
  return 'inconclusive';
}

/**
 * The phase the vessels show, with the figures behind it: the phase of the median aorta and
 * portal-vein values, provided at least 60% of the slices measured agree with it on their own.
 */
export function classifyPhaseFromVessels(m: VesselMeasurement, t: PhaseThresholds): VesselPhase {
  const half = Math.ceil(m.slicesMeasured / 2);
  if (m.aortaHu === undefined || m.slicesWithAorta < half) {
    const notes = [...new Set(m.perSlice.map((v) => v.note).filter((x): x is string => x !== undefined))];
    return { phase: 'inconclusive', detail: `aorta found on ${m.slicesWithAorta} of ${m.slicesMeasured} slices (${notes.join(', ') || 'no reason'})` };
  }
  const base = { aortaHu: m.aortaHu, ...(m.portalVeinHu !== undefined ? { portalVeinHu: m.portalVeinHu } : {}) };
  const votes = m.perSlice.filter((v) => v.aortaHu !== undefined).map((v) => phaseOf(v.aortaHu!, v.portalVeinHu, t));
  const agreeing = (phase: ImagePhase): number => votes.filter((v) => v === phase).length;
  const tally = (['arterial', 'venous', 'delayed', 'non-contrast', 'inconclusive'] as const)
    .filter((ph) => agreeing(ph) > 0)
    .map((ph) => `${agreeing(ph)} ${ph}`)
    .join(', ');
  const agreed = (phase: ImagePhase): boolean => agreeing(phase) >= Math.ceil(0.6 * votes.length);
  if (m.aortaHu < t.contrastMinAortaHu) {
    const detail = `aorta ${m.aortaHu} HU is below ${t.contrastMinAortaHu} HU: no intravascular contrast (slices: ${tally})`;
    return agreed('non-contrast') ? { phase: 'non-contrast', ...base, detail } : { phase: 'inconclusive', ...base, detail: `slices disagree: ${tally}` };
  }
  if (m.portalVeinHu === undefined || m.slicesWithPortalVein < half) {
    return { phase: 'inconclusive', ...base, detail: `aorta ${m.aortaHu} HU, portal vein found on ${m.slicesWithPortalVein} of ${m.slicesMeasured} slices` };
  }
  const ratio = Math.round((m.aortaHu / Math.max(m.portalVeinHu, 1)) * 100) / 100;
  const figures = `aorta ${m.aortaHu} HU, portal vein ${m.portalVeinHu} HU, ratio ${ratio}`;
  const phase = phaseOf(m.aortaHu, m.portalVeinHu, t);
  if (phase === 'inconclusive') {
    return { phase, ...base, ratio, detail: `${figures} lies between ${t.venousMaxRatio} and ${t.arterialMinRatio} (slices: ${tally})` };
  }
  if (!agreed(phase)) return { phase: 'inconclusive', ...base, ratio, detail: `${figures}, but the slices disagree: ${tally}` };
  const why: Record<Exclude<ImagePhase, 'inconclusive'>, string> = {
    arterial: `>= ${t.arterialMinRatio}: arterial`,
    venous: `<= ${t.venousMaxRatio}: portal venous`,
    delayed: `<= ${t.venousMaxRatio} but the portal vein is below ${t.venousMinPortalVeinHu} HU: delayed`,
    'non-contrast': 'non-contrast',
  };
  return { phase, ...base, ratio, detail: `${figures} ${why[phase]} (slices: ${tally})` };
}
