/**
 * The body wall: the body outline (its width and depth varying gently along z), skin,
 * subcutaneous fat, the abdominal wall muscle and the abdominal cavity inside it; and the table
 * under the patient.
 */
import type { Structure } from './anatomyTypes';
import { column, structure, Z_HIGH, Z_LOW } from './anatomyHelpers';
import type { SeededRandom } from './random';
import type { PopulationDraw } from './randomisationTruth';
import { ProfiledCylinder, type ProfileKnot } from './shapes';

export interface BodyWall {
  /** Half-width and half-depth (mm) of the body outline. */
  halfWidthMm: number;
  halfDepthMm: number;
  /** Subcutaneous fat in front and at the sides, and behind (mm). */
  fatMm: number;
  posteriorFatMm: number;
  /** Abdominal wall muscle (mm). */
  muscleMm: number;
  /** The abdominal cavity, inside the muscle wall; organs are clipped to it. */
  cavity: ProfiledCylinder;
  /** The cavity's half-width, half-depth and centre y (mm). */
  cavityHalfWidthMm: number;
  cavityHalfDepthMm: number;
  cavityCentreY: number;
  /** Table, skin, subcutaneous fat, abdominal wall muscle, visceral fat, in paint order. */
  structures: Structure[];
}

/** The outline moved in by `lateral` at the sides, `anterior` in front and `posterior` behind. */
function shrink(knots: ProfileKnot[], lateral: number, anterior: number, posterior: number): ProfileKnot[] {
  return knots.map((knot) => ({ z: knot.z, x: knot.x, y: knot.y + (anterior - posterior) / 2, rx: knot.rx - lateral, ry: knot.ry - (anterior + posterior) / 2 }));
}

const MIN_HALF_DEPTH_MM = 95;

/** `population` (randomised profiles) replaces the habitus drawn here; the draws are made either way. */
export function drawBodyWall(rng: SeededRandom, population?: PopulationDraw): BodyWall {
  // Body habitus.
  const drawnHalfWidthMm = rng.uniform(135, 185);
  const halfWidthMm = population ? population.bodyHalfWidthMm : drawnHalfWidthMm;
  const depthRatio = rng.uniform(0.62, 0.78);
  // A randomised body is at least 190 mm deep: thinner, the spine would sit in front of the body's middle.
  const halfDepthMm = population ? Math.max(MIN_HALF_DEPTH_MM, halfWidthMm * population.bodyDepthRatio) : halfWidthMm * depthRatio;
  const habitusFatMm = Math.max(6, 8 + ((halfWidthMm - 135) / 50) * 22 + rng.uniform(-5, 6));
  const fatMm = population ? Math.max(4, habitusFatMm * population.subcutaneousFatScale) : habitusFatMm;
  const posteriorFatMm = fatMm * rng.uniform(0.5, 0.8);
  const muscleMm = rng.uniform(7, 13);
  const widthPhase = rng.uniform(0, 6.28);
  const depthPhase = rng.uniform(0, 6.28);
  const bodyKnots: ProfileKnot[] = [];
  for (let z = Z_LOW; z <= Z_HIGH; z += 40) {
    bodyKnots.push({ z, x: 0, y: 0, rx: halfWidthMm * (1 + 0.035 * Math.sin(z / 90 + widthPhase)), ry: halfDepthMm * (1 + 0.03 * Math.sin(z / 75 + depthPhase)) });
  }
  const body = new ProfiledCylinder(bodyKnots, 2, 2.6);
  const skinInner = new ProfiledCylinder(shrink(bodyKnots, 2, 2, 2), 2, 2.6);
  const wall = new ProfiledCylinder(shrink(bodyKnots, fatMm, fatMm, posteriorFatMm), 2, 2.6);
  const cavity = new ProfiledCylinder(shrink(bodyKnots, fatMm + muscleMm, fatMm + muscleMm, posteriorFatMm + muscleMm), 2, 2.4);

  // Table: a carbon-fibre band under the patient.
  const tableY = halfDepthMm + rng.uniform(3, 12) + 5;
  return {
    halfWidthMm,
    halfDepthMm,
    fatMm,
    posteriorFatMm,
    muscleMm,
    cavity,
    cavityHalfWidthMm: halfWidthMm - fatMm - muscleMm,
    cavityHalfDepthMm: halfDepthMm - (fatMm + posteriorFatMm) / 2 - muscleMm,
    cavityCentreY: (fatMm - posteriorFatMm) / 2,
    structures: [
      structure('table', 'table', column(0, tableY, 230, 5, Z_LOW, Z_HIGH, 6), false),
      structure('skin', 'skin', body, false),
      structure('subcutaneous fat', 'fat', skinInner, false),
      structure('abdominal wall muscle', 'muscle', wall, false),
      structure('visceral fat', 'fat', cavity, false),
    ],
  };
}
