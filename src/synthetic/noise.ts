/**
 * Random fields for CT noise and tissue texture, made cheaply: a few fields of filtered Gaussian
 * noise per study (the "bank"), then every slice reads a toroidally shifted blend of two of them.
 * That costs two multiply-adds per pixel instead of fresh Gaussian numbers and a filter per slice.
 * - Noise: blend of two bank fields with independent shifts and weights on the unit circle, so
 *   the variance stays 1 and slices are uncorrelated (CT noise between thin slices nearly is).
 * - Texture: consecutive "key" fields blended with cos/sin weights as z advances, so texture is
 *   smooth in 3D with a correlation length of a few millimetres.
 */
import type { SeededRandom } from './random';

export class FieldBank {
  readonly fields: Float32Array[];
  constructor(
    readonly size: number,
    rng: SeededRandom,
    count: number,
    /** Box-blur radius in pixels, applied three times (close to a Gaussian); 0 = one [1 2 1] pass; negative = none (white noise). */
    blurRadius: number,
  ) {
    this.fields = [];
    for (let f = 0; f < count; f++) {
      const field = new Float32Array(size * size);
      for (let i = 0; i < field.length; i++) field[i] = rng.normal();
      if (blurRadius === 0) binomialBlur(field, size);
      else if (blurRadius > 0) for (let pass = 0; pass < 3; pass++) boxBlur(field, size, blurRadius);
      normalise(field);
      this.fields.push(field);
    }
  }

  /** out = wa * field[a] shifted by (ax, ay) + wb * field[b] shifted by (bx, by); toroidal. */
  blend(out: Float32Array, a: number, ax: number, ay: number, wa: number, b: number, bx: number, by: number, wb: number): void {
    const n = this.size;
    const fa = this.fields[a % this.fields.length];
    const fb = this.fields[b % this.fields.length];
    for (let j = 0; j < n; j++) {
      const rowA = ((j + ay) % n) * n;
      const rowB = ((j + by) % n) * n;
      const o = j * n;
      // Split each row where the shifted index wraps, so the inner loops have no modulo.
      let i = 0;
      while (i < n) {
        const ia = (i + ax) % n;
        const ib = (i + bx) % n;
        const run = Math.min(n - i, n - ia, n - ib);
        const pa = rowA + ia;
        const pb = rowB + ib;
        for (let t = 0; t < run; t++) out[o + i + t] = wa * fa[pa + t] + wb * fb[pb + t];
        i += run;
      }
    }
  }
}

function normalise(field: Float32Array): void {
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < field.length; i++) {
    sum += field[i];
    sum2 += field[i] * field[i];
  }
  const mean = sum / field.length;
  const sd = Math.sqrt(Math.max(1e-12, sum2 / field.length - mean * mean));
  for (let i = 0; i < field.length; i++) field[i] = (field[i] - mean) / sd;
}

/** Toroidal box blur of radius r along rows then columns. */
function boxBlur(field: Float32Array, n: number, r: number): void {
  const tmp = new Float32Array(n);
  const w = 2 * r + 1;
  for (let j = 0; j < n; j++) {
    const o = j * n;
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += field[o + ((t + n) % n)];
    for (let i = 0; i < n; i++) {
      tmp[i] = acc / w;
      acc += field[o + ((i + r + 1) % n)] - field[o + ((i - r + n) % n)];
    }
    field.set(tmp, o);
  }
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let t = -r; t <= r; t++) acc += field[((t + n) % n) * n + i];
    for (let j = 0; j < n; j++) {
      tmp[j] = acc / w;
      acc += field[((j + r + 1) % n) * n + i] - field[((j - r + n) % n) * n + i];
    }
    for (let j = 0; j < n; j++) field[j * n + i] = tmp[j]!;
  }
}

/** One separable [1 2 1]/4 pass: the short-range correlation of CT noise from the reconstruction kernel. */
function binomialBlur(field: Float32Array, n: number): void {
  const tmp = new Float32Array(field.length);
  for (let j = 0; j < n; j++) {
    const o = j * n;
    for (let i = 0; i < n; i++) tmp[o + i] = 0.25 * field[o + ((i - 1 + n) % n)] + 0.5 * field[o + i] + 0.25 * field[o + ((i + 1) % n)];
  }
  for (let j = 0; j < n; j++) {
    const up = ((j - 1 + n) % n) * n;
    const down = ((j + 1) % n) * n;
    const o = j * n;
    for (let i = 0; i < n; i++) field[o + i] = 0.25 * tmp[up + i] + 0.5 * tmp[o + i] + 0.25 * tmp[down + i];
  }
}

/** Per-slice noise: two bank fields, random shifts, weights (cos t, sin t). Deterministic in (seed, key). */
export function noiseSlice(bank: FieldBank, rng: SeededRandom, out: Float32Array): void {
  const n = bank.size;
  const count = bank.fields.length;
  const a = rng.int(0, count - 1);
  const b = (a + 1 + rng.int(0, count - 2)) % count;
  const t = rng.uniform(0, 2 * Math.PI);
  bank.blend(out, a, rng.int(0, n - 1), rng.int(0, n - 1), Math.cos(t), b, rng.int(0, n - 1), rng.int(0, n - 1), Math.sin(t));
}

/**
 * Texture field at height z (mm): smooth in z with correlation length `lengthMm`. Key fields sit
 * every `lengthMm`; each key's bank index and shift come from a hash of the key number, so any z
 * can be asked for in any order.
 */
export function textureSlice(bank: FieldBank, seed: number, z: number, lengthMm: number, out: Float32Array): void {
  const u = z / lengthMm;
  const k = Math.floor(u);
  const f = u - k;
  const key = (index: number): [number, number, number] => {
    let h = (Math.imul(index, 0x9e3779b1) ^ Math.imul(seed, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    return [h % bank.fields.length, (h >>> 8) % bank.size, (h >>> 18) % bank.size];
  };
  const [a, ax, ay] = key(k);
  const [b, bx, by] = key(k + 1);
  bank.blend(out, a, ax, ay, Math.cos((f * Math.PI) / 2), b, bx, by, Math.sin((f * Math.PI) / 2));
}
