/**
 * How a randomised profile's tube voltage and each patient's contrast timing and strength change
 * the HU of the phantom (the baseline profile keeps its 120 kV table unchanged).
 *
 * Every enhancing tissue's iodine enhancement (phase HU minus its unenhanced HU) is multiplied by
 *   iodine(kV) x dose(kV) x strength x timing(tissue, phase, delay)
 * - iodine(kV) = (120 / kV)^1.2: iodine attenuates more at lower tube voltage as the spectrum
 *   nears its K-edge (about 1.6x at 80 kV, 1.25x at 100 kV, 0.83x at 140 kV; an approximation).
 * - dose(kV) = (kV / 120)^0.6: centres that scan at low kV give less iodine and at high kV more
 *   (kV-adapted injection protocols), making up for about half of the kV effect (an assumption),
 *   so that the net factor is (120 / kV)^0.6: 1.28 at 80 kV, 0.91 at 140 kV.
 * - strength: the patient's factor (cardiac output, dosing), drawn per patient.
 * - timing: earlier or later in each phase window than the baseline's usual 42 s and 70 s moves
 *   the aorta, portal vein, liver and pancreas along their time-density curves (small factors,
 *   assumptions to tune).
 * Bone is denser and fat more negative at low kV (mild factors). The tumour's contrast to the
 * pancreas, which carries the label, is scaled by the pancreas's factor in each phase
 * (`enhancementScale`), so the oracle divides it out again.
 */
import type { ContrastPhase, PhaseHu, Tissue, TissueHu } from './tissues';

/** Iodine enhancement at `kvp` relative to 120 kV. */
export function iodineFactor(kvp: number): number {
  return Math.pow(120 / kvp, 1.2);
}

/** Iodine dose of a kV-adapted protocol relative to the 120 kV protocol. */
export function iodineDoseFactor(kvp: number): number {
  return Math.pow(kvp / 120, 0.6);
}

type TimingGroup = 'aorta' | 'systemicVein' | 'portalVein' | 'liver' | 'spleen' | 'kidneyCortex' | 'kidneyMedulla' | 'pancreas' | 'bowelWall';

const TIMING_GROUP: Partial<Record<Tissue, TimingGroup>> = {
  artery: 'aorta',
  aorta: 'aorta',
  ivc: 'systemicVein',
  hepaticVein: 'systemicVein',
  renalVein: 'systemicVein',
  portalVein: 'portalVein',
  liver: 'liver',
  spleen: 'spleen',
  kidneyCortex: 'kidneyCortex',
  kidneyMedulla: 'kidneyMedulla',
  pancreas: 'pancreas',
  tumour: 'pancreas',
  bowelWall: 'bowelWall',
};

/** Change of each group's enhancement per unit of `t` (arterial: (delay - 42.5) / 7.5; venous: (delay - 70) / 15). */
const TIMING_SLOPE: Record<'arterial' | 'venous', Record<TimingGroup, number>> = {
  arterial: { aorta: -0.08, systemicVein: 0.15, portalVein: 0.15, liver: 0.12, spleen: 0.04, kidneyCortex: 0, kidneyMedulla: 0.2, pancreas: 0.03, bowelWall: 0.05 },
  venous: { aorta: -0.08, systemicVein: 0, portalVein: 0, liver: 0.03, spleen: 0, kidneyCortex: -0.03, kidneyMedulla: 0.1, pancreas: -0.05, bowelWall: 0 },
};

/** The factor on a tissue's enhancement from the phase's delay after injection. */
export function timingFactor(tissue: Tissue, phase: 'arterial' | 'venous', delaySeconds: number): number {
  const group = TIMING_GROUP[tissue];
  if (!group) return 1;
  const t = phase === 'arterial' ? (delaySeconds - 42.5) / 7.5 : (delaySeconds - 70) / 15;
  return Math.min(1.25, Math.max(0.75, 1 + TIMING_SLOPE[phase][group] * t));
}

export interface ContrastSettings {
  kvp: number;
  strength: number;
  delaySeconds: { arterial: number; venous: number };
}

/** The factor on every iodine enhancement except the timing: iodine(kV) x dose(kV) x strength. */
export function enhancementFactor(settings: ContrastSettings): number {
  return iodineFactor(settings.kvp) * iodineDoseFactor(settings.kvp) * settings.strength;
}

/** The factor on the pancreas's and tumour's enhancement in each phase: what the 120 kV contrast to the pancreas is multiplied by. */
export function pancreasEnhancementScale(settings: ContrastSettings): { arterial: number; venous: number } {
  const factor = enhancementFactor(settings);
  return {
    arterial: factor * timingFactor('pancreas', 'arterial', settings.delaySeconds.arterial),
    venous: factor * timingFactor('pancreas', 'venous', settings.delaySeconds.venous),
  };
}

function scalePhase(unenhanced: TissueHu, table: TissueHu, phase: ContrastPhase, settings: ContrastSettings): TissueHu {
  const factor = enhancementFactor(settings);
  const out = { ...table };
  for (const tissue of Object.keys(table) as Tissue[]) {
    const enhancement = table[tissue] - unenhanced[tissue];
    if (enhancement === 0) continue;
    const timing = phase === 'arterial' || phase === 'venous' ? timingFactor(tissue, phase, settings.delaySeconds[phase]) : 1;
    out[tissue] = unenhanced[tissue] + enhancement * factor * timing;
  }
  return out;
}

/** Bone brighter and fat darker at low kV (mild factors; soft tissue and water stay). */
function scaleUnenhanced(table: TissueHu, kvp: number): TissueHu {
  const bone = Math.pow(120 / kvp, 0.5);
  const fat = Math.pow(120 / kvp, 0.25);
  return {
    ...table,
    corticalBone: table.corticalBone * bone,
    posteriorElements: table.posteriorElements * bone,
    cancellousBone: table.cancellousBone * bone,
    fat: table.fat * fat,
  };
}

/**
 * The patient's HU table at the profile's kV, strength and timing, from the 120 kV table. In the
 * contrast phases the tumour stays the pancreas minus its contrast times the pancreas's factor,
 * so that the contrast to the pancreas scales exactly with `pancreasEnhancementScale`.
 */
export function applyContrastSettings(phases: PhaseHu, settings: ContrastSettings): PhaseHu {
  const base = phases['non-contrast'];
  const scaled = {} as PhaseHu;
  for (const phase of Object.keys(phases) as ContrastPhase[]) {
    if (phase === 'non-contrast') {
      scaled[phase] = scaleUnenhanced(base, settings.kvp);
      continue;
    }
    const table = scalePhase(base, phases[phase], phase, settings);
    const pancreasFactor = enhancementFactor(settings) * (phase === 'arterial' || phase === 'venous' ? timingFactor('pancreas', phase, settings.delaySeconds[phase]) : 1);
    table.tumour = table.pancreas - (phases[phase].pancreas - phases[phase].tumour) * pancreasFactor;
    scaled[phase] = scaleUnenhanced(table, settings.kvp);
  }
  return scaled;
}
