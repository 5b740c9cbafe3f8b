/**
 * Circumferential contact between the tumour and the peripancreatic vessels, as resectability
 * staging reports it (NCCN: abutment <= 180 degrees, encasement > 180 degrees). Measured on the
 * phantom geometry: rings of points on each vessel wall, about 1 mm apart along the vessel, are
 * tested against the tumour shape; the largest fraction of a ring inside (or within 1 mm of) the
 * tumour, times 360, is the contact angle.
 */
import type { Vec3 } from '../study/geometry';
import type { VesselCentreline, VesselName } from './anatomyTypes';
import { tumourBounds, tumourLevel, type TumourShape } from './tumourShape';

export interface VesselContact {
  vessel: VesselName;
  /** Largest circumferential contact, degrees (multiples of 10). */
  degrees: number;
  kind: 'abutment' | 'encasement';
}

const RING_POINTS = 36;

export function measureVesselContact(vessels: VesselCentreline[], shape: TumourShape, centre: Vec3): VesselContact[] {
  const box = tumourBounds(shape, centre);
  const meanRadius = (shape.radiiMm[0] + shape.radiiMm[1] + shape.radiiMm[2]) / 3;
  // level is about 1 + distance / radius near the surface: allow 1 mm of fat-plane loss.
  const touch = 1 + 1 / meanRadius;
  const contacts: VesselContact[] = [];
  for (const v of vessels) {
    let best = 0;
    for (let i = 0; i < v.points.length; i++) {
      const p = v.points[i];
      const r = v.radii[i];
      if (p[0] < box.min[0] - r || p[0] > box.max[0] + r || p[1] < box.min[1] - r || p[1] > box.max[1] + r || p[2] < box.min[2] - r || p[2] > box.max[2] + r) continue;
      const q = v.points[Math.min(v.points.length - 1, i + 1)];
      const o = v.points[Math.max(0, i - 1)];
      const t = normalise([q[0] - o[0], q[1] - o[1], q[2] - o[2]]);
      // Two unit vectors orthogonal to the vessel direction.
      const helper: Vec3 = Math.abs(t[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
      const a = normalise(crossV(t, helper));
      const b = crossV(t, a);
      let inside = 0;
      for (let k = 0; k < RING_POINTS; k++) {
        const angle = (2 * Math.PI * k) / RING_POINTS;
        const c = Math.cos(angle) * r;
        const s = Math.sin(angle) * r;
        const w: Vec3 = [p[0] + a[0] * c + b[0] * s, p[1] + a[1] * c + b[1] * s, p[2] + a[2] * c + b[2] * s];
        if (tumourLevel(shape, centre, w) <= touch) inside++;
      }
      best = Math.max(best, inside);
    }
    if (best > 0) {
      const degrees = Math.round((best / RING_POINTS) * 36) * 10;
      contacts.push({ vessel: v.name, degrees, kind: degrees > 180 ? 'encasement' : 'abutment' });
    }
  }
  return contacts;
}

function crossV(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function normalise(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / n, a[1] / n, a[2] / n];
}
