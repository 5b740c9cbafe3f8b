/**
 * Shape primitives of the phantom, in the phantom's local frame (mm; x to the patient's left,
 * y posterior, z superior, as LPS). Each shape answers one question fast: where does the line
 * {(x, y, z) : x real} (one sub-row of one axial slice) run inside me? The renderer fills that
 * interval and computes partial-volume coverage only at its two ends, so a slice costs about one
 * write per pixel per overlapping structure instead of one distance evaluation.
 */
import type { Vec3 } from '../study/geometry';

export interface Bounds {
  min: Vec3;
  max: Vec3;
}

export interface IntervalShape {
  readonly bounds: Bounds;
  /** Writes the x interval [out[0], out[1]] inside the shape on the line (., y, z); false if none. */
  interval(y: number, z: number, out: Float64Array): boolean;
}

type Mat3 = [Vec3, Vec3, Vec3];

/** Rotation matrix (rows are the rotated x, y, z axes) from Z-Y-X angles in radians. */
export function rotation(yawZ: number, pitchY = 0, rollX = 0): Mat3 {
  const cz = Math.cos(yawZ);
  const sz = Math.sin(yawZ);
  const cy = Math.cos(pitchY);
  const sy = Math.sin(pitchY);
  const cx = Math.cos(rollX);
  const sx = Math.sin(rollX);
  // R = Rz * Ry * Rx; columns are the body axes expressed in the local frame.
  const r: Mat3 = [
    [cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx],
    [sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx],
    [-sy, cy * sx, cy * cx],
  ];
  return r;
}

/**
 * Ellipsoid with any orientation: (p - c)^T M (p - c) <= 1 with M = R diag(1/r^2) R^T.
 * Intersected with a line parallel to x, this is a quadratic in x.
 */
export class Ellipsoid implements IntervalShape {
  readonly bounds: Bounds;
  private readonly m00: number;
  private readonly m01: number;
  private readonly m02: number;
  private readonly m11: number;
  private readonly m12: number;
  private readonly m22: number;

  constructor(
    readonly centre: Vec3,
    readonly radii: Vec3,
    readonly rot: Mat3 = rotation(0),
  ) {
    const inv = [1 / (radii[0] * radii[0]), 1 / (radii[1] * radii[1]), 1 / (radii[2] * radii[2])];
    const m = (a: number, b: number): number => {
      let s = 0;
      for (let k = 0; k < 3; k++) s += rot[a][k] * (inv[k]) * rot[b][k];
      return s;
    };
    this.m00 = m(0, 0);
    this.m01 = m(0, 1);
    this.m02 = m(0, 2);
    this.m11 = m(1, 1);
    this.m12 = m(1, 2);
    this.m22 = m(2, 2);
    // Half-extent of an ellipsoid along axis a is sqrt((M^-1)_aa) = sqrt(sum_k R_ak^2 r_k^2).
    const half = [0, 1, 2].map((a) => Math.sqrt(rot[a][0] ** 2 * radii[0] ** 2 + rot[a][1] ** 2 * radii[1] ** 2 + rot[a][2] ** 2 * radii[2] ** 2));
    this.bounds = {
      min: [centre[0] - half[0], centre[1] - half[1], centre[2] - half[2]],
      max: [centre[0] + half[0], centre[1] + half[1], centre[2] + half[2]],
    };
  }

  interval(y: number, z: number, out: Float64Array): boolean {
    const dy = y - this.centre[1];
    const dz = z - this.centre[2];
    const b = this.m01 * dy + this.m02 * dz;
    const c = this.m11 * dy * dy + 2 * this.m12 * dy * dz + this.m22 * dz * dz - 1;
    const disc = b * b - this.m00 * c;
    if (disc <= 0) return false;
    const root = Math.sqrt(disc);
    out[0] = this.centre[0] + (-b - root) / this.m00;
    out[1] = this.centre[0] + (-b + root) / this.m00;
    return true;
  }
}

/** A knot of a z profile: at height z the cross-section is centred at (x, y) with half-axes (rx, ry). */
export interface ProfileKnot {
  z: number;
  x: number;
  y: number;
  rx: number;
  ry: number;
}

/**
 * A vertical solid whose axial cross-section is a superellipse |dx/rx|^p + |dy/ry|^p <= 1 whose
 * centre and half-axes vary linearly between knots (body outline, muscles, vertebrae, vessels
 * running head to foot). `posteriorFlattening` > 0 squares off the back (y > centre).
 */
export class ProfiledCylinder implements IntervalShape {
  readonly bounds: Bounds;
  private lastZ = NaN;
  private cx = 0;
  private cy = 0;
  private rx = 0;
  private ry = 0;
  private present = false;

  constructor(
    private readonly knots: ProfileKnot[],
    private readonly exponent = 2,
    private readonly posteriorExponent = exponent,
  ) {
    if (knots.length < 2) throw new Error('a profile needs at least two knots');
    for (let i = 1; i < knots.length; i++) if (knots[i].z <= knots[i - 1].z) throw new Error('profile knots must rise in z');
    const minX = Math.min(...knots.map((k) => k.x - k.rx));
    const maxX = Math.max(...knots.map((k) => k.x + k.rx));
    const minY = Math.min(...knots.map((k) => k.y - k.ry));
    const maxY = Math.max(...knots.map((k) => k.y + k.ry));
    this.bounds = { min: [minX, minY, knots[0].z], max: [maxX, maxY, knots[knots.length - 1].z] };
  }

  private at(z: number): void {
    if (z === this.lastZ) return;
    this.lastZ = z;
    const k = this.knots;
    if (z < k[0].z || z > k[k.length - 1].z) {
      this.present = false;
      return;
    }
    let i = 1;
    while (i < k.length - 1 && k[i].z < z) i++;
    const a = k[i - 1];
    const b = k[i];
    const t = (z - a.z) / (b.z - a.z);
    this.cx = a.x + t * (b.x - a.x);
    this.cy = a.y + t * (b.y - a.y);
    this.rx = a.rx + t * (b.rx - a.rx);
    this.ry = a.ry + t * (b.ry - a.ry);
    this.present = this.rx > 0 && this.ry > 0;
  }

  interval(y: number, z: number, out: Float64Array): boolean {
    this.at(z);
    if (!this.present) return false;
    const v = Math.abs((y - this.cy) / this.ry);
    if (v >= 1) return false;
    const p = y > this.cy ? this.posteriorExponent : this.exponent;
    const h = p === 2 ? Math.sqrt(1 - v * v) : Math.pow(1 - Math.pow(v, p), 1 / p);
    out[0] = this.cx - this.rx * h;
    out[1] = this.cx + this.rx * h;
    return true;
  }
}

/** All points within `radius` of the segment a-b: one link of a tube (vessel, pancreas, bowel, rib). */
export class Capsule implements IntervalShape {
  readonly bounds: Bounds;
  private readonly ux: number;
  private readonly uy: number;
  private readonly uz: number;
  private readonly length: number;
  private readonly r2: number;

  constructor(
    readonly a: Vec3,
    readonly b: Vec3,
    readonly radius: number,
  ) {
    const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const len = Math.hypot(d[0], d[1], d[2]);
    this.length = len;
    this.ux = len > 0 ? d[0] / len : 1;
    this.uy = len > 0 ? d[1] / len : 0;
    this.uz = len > 0 ? d[2] / len : 0;
    this.r2 = radius * radius;
    this.bounds = {
      min: [Math.min(a[0], b[0]) - radius, Math.min(a[1], b[1]) - radius, Math.min(a[2], b[2]) - radius],
      max: [Math.max(a[0], b[0]) + radius, Math.max(a[1], b[1]) + radius, Math.max(a[2], b[2]) + radius],
    };
  }

  interval(y: number, z: number, out: Float64Array): boolean {
    let lo = Infinity;
    let hi = -Infinity;
    const wy = y - this.a[1];
    const wz = z - this.a[2];
    // Sphere at a.
    const ra = this.r2 - wy * wy - wz * wz;
    if (ra > 0) {
      const s = Math.sqrt(ra);
      lo = this.a[0] - s;
      hi = this.a[0] + s;
    }
    // Sphere at b.
    const vy = y - this.b[1];
    const vz = z - this.b[2];
    const rb = this.r2 - vy * vy - vz * vz;
    if (rb > 0) {
      const s = Math.sqrt(rb);
      lo = Math.min(lo, this.b[0] - s);
      hi = Math.max(hi, this.b[0] + s);
    }
    // Cylinder between them: with X = x - a.x and k = w.u (without x), the distance to the axis is
    // X^2 (1 - ux^2) - 2 X ux k + (wy^2 + wz^2 - k^2) <= r^2, and the foot t = X ux + k in [0, L].
    const k = wy * this.uy + wz * this.uz;
    const qa = 1 - this.ux * this.ux;
    const qc = wy * wy + wz * wz - k * k - this.r2;
    let x0: number;
    let x1: number;
    if (qa < 1e-9) {
      if (qc > 0) return finish(lo, hi, out);
      x0 = -Infinity;
      x1 = Infinity;
    } else {
      const qb = -this.ux * k;
      const disc = qb * qb - qa * qc;
      if (disc <= 0) return finish(lo, hi, out);
      const root = Math.sqrt(disc);
      x0 = (-qb - root) / qa;
      x1 = (-qb + root) / qa;
    }
    if (Math.abs(this.ux) > 1e-9) {
      let t0 = (0 - k) / this.ux;
      let t1 = (this.length - k) / this.ux;
      if (t0 > t1) [t0, t1] = [t1, t0];
      x0 = Math.max(x0, t0);
      x1 = Math.min(x1, t1);
    } else if (k < 0 || k > this.length) {
      return finish(lo, hi, out);
    }
    if (x1 > x0) {
      lo = Math.min(lo, this.a[0] + x0);
      hi = Math.max(hi, this.a[0] + x1);
    }
    return finish(lo, hi, out);
  }
}

function finish(lo: number, hi: number, out: Float64Array): boolean {
  if (!(hi > lo)) return false;
  out[0] = lo;
  out[1] = hi;
  return true;
}

/** Inside every one of the shapes (a convex shape clipped by the body wall, a fluid level...). */
export class Intersection implements IntervalShape {
  readonly bounds: Bounds;
  private readonly scratch = new Float64Array(2);

  constructor(readonly shapes: IntervalShape[]) {
    const b = shapes.map((s) => s.bounds);
    this.bounds = {
      min: [Math.max(...b.map((x) => x.min[0])), Math.max(...b.map((x) => x.min[1])), Math.max(...b.map((x) => x.min[2]))],
      max: [Math.min(...b.map((x) => x.max[0])), Math.min(...b.map((x) => x.max[1])), Math.min(...b.map((x) => x.max[2]))],
    };
  }

  interval(y: number, z: number, out: Float64Array): boolean {
    let lo = -Infinity;
    let hi = Infinity;
    for (const s of this.shapes) {
      if (!s.interval(y, z, this.scratch)) return false;
      lo = Math.max(lo, this.scratch[0]);
      hi = Math.min(hi, this.scratch[1]);
      if (hi <= lo) return false;
    }
    out[0] = lo;
    out[1] = hi;
    return true;
  }
}

/** The slab yMin <= y <= yMax (all x, all z in range): a fluid level, an anterior cut. */
export class Slab implements IntervalShape {
  readonly bounds: Bounds;
  constructor(yMin: number, yMax: number, zMin = -1e4, zMax = 1e4) {
    this.bounds = { min: [-1e4, yMin, zMin], max: [1e4, yMax, zMax] };
  }
  interval(y: number, z: number, out: Float64Array): boolean {
    if (y < this.bounds.min[1] || y > this.bounds.max[1] || z < this.bounds.min[2] || z > this.bounds.max[2]) return false;
    out[0] = -1e4;
    out[1] = 1e4;
    return true;
  }
}

/**
 * A shape whose interval ends wander smoothly with y and z (lobulated organ outlines): each end
 * moves by up to `amplitude` mm, with wavelengths of a few centimetres.
 */
export class Lobulated implements IntervalShape {
  readonly bounds: Bounds;
  constructor(
    private readonly inner: IntervalShape,
    private readonly amplitude: number,
    private readonly phases: [number, number, number, number],
    private readonly wavelength = 35,
  ) {
    const b = inner.bounds;
    this.bounds = { min: [b.min[0] - amplitude, b.min[1], b.min[2]], max: [b.max[0] + amplitude, b.max[1], b.max[2]] };
  }
  interval(y: number, z: number, out: Float64Array): boolean {
    if (!this.inner.interval(y, z, out)) return false;
    const w = (2 * Math.PI) / this.wavelength;
    const [p0, p1, p2, p3] = this.phases;
    out[0] = (out[0]) - this.amplitude * 0.5 * (Math.sin(w * y + p0) + Math.sin(0.7 * w * z + p1));
    out[1] = (out[1]) + this.amplitude * 0.5 * (Math.sin(0.8 * w * y + p2) + Math.sin(0.6 * w * z + p3));
    return (out[1]) > (out[0]);
  }
}

/** Points along a Catmull-Rom spline through the control points, about `step` mm apart. */
export function splinePoints(control: Vec3[], step = 4): Vec3[] {
  if (control.length < 2) return control.slice();
  const out: Vec3[] = [];
  const p = (i: number): Vec3 => control[Math.max(0, Math.min(control.length - 1, i))];
  for (let i = 0; i < control.length - 1; i++) {
    const p0 = p(i - 1);
    const p1 = p(i);
    const p2 = p(i + 1);
    const p3 = p(i + 2);
    const len = Math.hypot(p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]);
    const n = Math.max(1, Math.ceil(len / step));
    for (let s = 0; s < n; s++) {
      const t = s / n;
      const t2 = t * t;
      const t3 = t2 * t;
      const c = (a: number, b: number, c2: number, d: number): number =>
        0.5 * (2 * b + (-a + c2) * t + (2 * a - 5 * b + 4 * c2 - d) * t2 + (-a + 3 * b - 3 * c2 + d) * t3);
      out.push([c(p0[0], p1[0], p2[0], p3[0]), c(p0[1], p1[1], p2[1], p3[1]), c(p0[2], p1[2], p2[2], p3[2])]);
    }
  }
  out.push(control[control.length - 1]);
  return out;
}

/** A tube through the control points: one capsule per spline step, radius interpolated along it. */
export function tube(control: Vec3[], radii: number[] | number, step = 4): Capsule[] {
  const pts = splinePoints(control, step);
  const rAt = (f: number): number => {
    if (typeof radii === 'number') return radii;
    const x = f * (radii.length - 1);
    const i = Math.min(radii.length - 2, Math.floor(x));
    const t = x - i;
    return radii[i] * (1 - t) + radii[i + 1] * t;
  };
  const caps: Capsule[] = [];
  for (let i = 0; i < pts.length - 1; i++) caps.push(new Capsule(pts[i], pts[i + 1], rAt((i + 0.5) / (pts.length - 1))));
  return caps;
}
