/**
 * Attenuation (HU) of every tissue of one patient in every contrast phase, drawn once per patient
 * from the ranges in /work/shared/PHANTOM.md (the "Other anatomy" table; pancreas and tumour come
 * from biology.ts). A patient-level contrast-delivery factor moves all enhanced tissues together,
 * as cardiac output and body weight do; a small independent jitter keeps organs from moving in
 * lock-step. Every value is clamped inside its published range with a margin, so the mean HU
 * measured in the written images falls inside the range even with noise.
 */
import type { EnhancementParameters } from './biology';
import type { SeededRandom } from './random';

export type ContrastPhase = 'non-contrast' | 'arterial' | 'venous' | 'delayed';
export const CONTRAST_PHASES: readonly ContrastPhase[] = ['non-contrast', 'arterial', 'venous', 'delayed'];

export type Tissue =
  | 'air'
  | 'lung'
  | 'fat'
  | 'skin'
  | 'muscle'
  | 'corticalBone'
  | 'posteriorElements'
  | 'cancellousBone'
  | 'disc'
  | 'csf'
  | 'artery'
  | 'aorta'
  | 'ivc'
  | 'portalVein'
  | 'hepaticVein'
  | 'renalVein'
  | 'liver'
  | 'spleen'
  | 'kidneyCortex'
  | 'kidneyMedulla'
  | 'pancreas'
  | 'tumour'
  | 'bile'
  | 'water'
  | 'bowelWall'
  | 'stool'
  | 'table';

export type TissueHu = Record<Tissue, number>;
export type PhaseHu = Record<ContrastPhase, TissueHu>;

/** Ranges (HU) that the drawn values respect; also what the HU test checks against. */
export const PUBLISHED_RANGES: Partial<Record<Tissue, Partial<Record<ContrastPhase, [number, number]>>>> = {
  aorta: { arterial: [250, 350], venous: [130, 180] },
  portalVein: { arterial: [100, 150], venous: [160, 200] },
  liver: { arterial: [60, 80], venous: [100, 120] },
  spleen: { arterial: [100, 140], venous: [110, 130] },
  kidneyCortex: { arterial: [150, 200], venous: [150, 180] },
  pancreas: { arterial: [110, 128], venous: [95, 110] },
  fat: { arterial: [-120, -80], venous: [-120, -80] },
  muscle: { arterial: [50, 60], venous: [50, 60] },
  posteriorElements: { arterial: [400, 1000], venous: [400, 1000] },
};

function inRange(rng: SeededRandom, centre: number, factorHu: number, factor: number, jitterSd: number, lo: number, hi: number): number {
  const v = centre + factorHu * factor + rng.gaussian(0, jitterSd);
  return Math.min(hi, Math.max(lo, v));
}

export interface TissueDraw {
  phases: PhaseHu;
  /** The patient-level contrast-delivery factor (standard normal), for the record. */
  contrastDelivery: number;
}

/**
 * Draws the patient's HU table. Pancreas and tumour in the arterial and venous phases are the
 * noise-free enhancement parameters from biology.ts; in the other phases they are drawn from
 * those parameters plus independent noise, never from the stroma fraction directly.
 */
export function drawTissueHu(rng: SeededRandom, enhancement: EnhancementParameters): TissueDraw {
  const c = rng.gaussian(0, 1);
  const fat = rng.uniform(-112, -88);
  const muscle = rng.uniform(52, 58);
  const cortical = rng.uniform(650, 950);
  const posterior = rng.uniform(480, 750);
  const cancellous = rng.uniform(170, 280);
  const unenhanced: TissueHu = {
    air: -1000,
    lung: rng.uniform(-880, -820),
    fat,
    skin: rng.uniform(20, 45),
    muscle,
    corticalBone: cortical,
    posteriorElements: posterior,
    cancellousBone: cancellous,
    disc: rng.uniform(70, 100),
    csf: rng.uniform(5, 20),
    artery: rng.uniform(38, 50),
    aorta: rng.uniform(38, 50),
    ivc: rng.uniform(36, 48),
    portalVein: rng.uniform(36, 48),
    hepaticVein: rng.uniform(36, 48),
    renalVein: rng.uniform(36, 48),
    liver: rng.uniform(52, 64),
    spleen: rng.uniform(42, 50),
    kidneyCortex: rng.uniform(28, 38),
    kidneyMedulla: rng.uniform(25, 35),
    pancreas: rng.uniform(38, 48),
    tumour: 0,
    bile: rng.uniform(2, 15),
    water: rng.uniform(2, 18),
    bowelWall: rng.uniform(35, 45),
    stool: rng.uniform(-200, 40),
    table: rng.uniform(180, 260),
  };
  // Non-contrast tumour: slightly hypo-attenuating to the pancreas, whatever its stroma.
  unenhanced.tumour = unenhanced.pancreas - rng.truncatedGaussian(4, 3, -2, 10);

  const aortaA = inRange(rng, 300, 28, c, 10, 258, 342);
  const arterial: TissueHu = {
    ...unenhanced,
    artery: aortaA - rng.uniform(0, 25),
    aorta: aortaA,
    ivc: inRange(rng, 95, 12, c, 12, 70, 130),
    portalVein: inRange(rng, 125, 12, c, 6, 106, 144),
    hepaticVein: inRange(rng, 75, 6, c, 6, 60, 95),
    renalVein: inRange(rng, 170, 15, c, 10, 140, 200),
    liver: inRange(rng, 70, 4, c, 2, 63, 77),
    spleen: inRange(rng, 120, 8, c, 4, 106, 134),
    kidneyCortex: inRange(rng, 175, 12, c, 6, 156, 194),
    kidneyMedulla: inRange(rng, 85, 8, c, 6, 65, 105),
    pancreas: enhancement.parenchymaHu.arterial,
    tumour: enhancement.tumourHu.arterial,
    bowelWall: inRange(rng, 100, 8, c, 6, 80, 120),
  };
  const venous: TissueHu = {
    ...unenhanced,
    artery: 0,
    aorta: inRange(rng, 155, 10, c, 5, 136, 174),
    ivc: inRange(rng, 140, 10, c, 8, 115, 165),
    portalVein: inRange(rng, 180, 8, c, 4, 166, 194),
    hepaticVein: inRange(rng, 160, 10, c, 8, 135, 185),
    renalVein: inRange(rng, 165, 10, c, 8, 140, 190),
    liver: inRange(rng, 110, 4, c, 2, 103, 117),
    spleen: inRange(rng, 120, 4, c, 2, 113, 127),
    kidneyCortex: inRange(rng, 165, 6, c, 4, 155, 175),
    kidneyMedulla: inRange(rng, 150, 8, c, 6, 130, 170),
    pancreas: enhancement.parenchymaHu.venous,
    tumour: enhancement.tumourHu.venous,
    bowelWall: inRange(rng, 95, 6, c, 6, 80, 110),
  };
  venous.artery = venous.aorta - rng.uniform(0, 10);
  // Delayed (about 3 min): blood pool and parenchyma lower; the tumour's contrast follows the
  // venous-phase contrast (PHANTOM.md: 18 +- 12 HU delayed vs 40 +- 23 venous) plus independent noise.
  const delayedPancreas = inRange(rng, 82, 4, c, 3, 72, 92);
  const delayed: TissueHu = {
    ...unenhanced,
    artery: inRange(rng, 115, 6, c, 5, 100, 130),
    aorta: inRange(rng, 115, 6, c, 5, 100, 130),
    ivc: inRange(rng, 112, 6, c, 5, 95, 130),
    portalVein: inRange(rng, 118, 6, c, 5, 100, 135),
    hepaticVein: inRange(rng, 115, 6, c, 5, 98, 132),
    renalVein: inRange(rng, 115, 6, c, 5, 98, 132),
    liver: inRange(rng, 88, 4, c, 3, 78, 98),
    spleen: inRange(rng, 95, 4, c, 3, 85, 105),
    kidneyCortex: inRange(rng, 140, 6, c, 5, 120, 160),
    kidneyMedulla: inRange(rng, 180, 10, c, 10, 150, 220),
    pancreas: delayedPancreas,
    tumour: delayedPancreas - (0.45 * enhancement.tpcHu.venous + rng.gaussian(0, 6)),
    bowelWall: inRange(rng, 85, 5, c, 5, 70, 100),
  };
  return { phases: { 'non-contrast': unenhanced, arterial, venous, delayed }, contrastDelivery: c };
}

/** Texture amplitude (HU, standard deviation of the smooth texture field) per tissue and phase. */
export function textureAmplitude(tissue: Tissue, phase: ContrastPhase): number {
  switch (tissue) {
    case 'spleen':
      // Arterial-phase "zebra" heterogeneity of the red pulp (PHANTOM.md: heterogeneous 100-140).
      return phase === 'arterial' ? 14 : 4;
    case 'pancreas':
      return 5;
    case 'tumour':
      // Heterogeneous but weak enough that the tumour's mean HU, the evidence, is not drowned.
      return 4;
    case 'liver':
      return 4;
    case 'kidneyCortex':
    case 'kidneyMedulla':
      return 6;
    case 'fat':
      return 6;
    case 'muscle':
      return 4;
    case 'cancellousBone':
      return 35;
    case 'posteriorElements':
    case 'corticalBone':
      return 40;
    case 'stool':
      return 120;
    case 'lung':
      return 25;
    case 'bowelWall':
      return 6;
    default:
      return 2;
  }
}
