/**
 * The latent tumour biology of one synthetic patient, and the label it decides.
 *
 * Label definition (also in docs/synthetic-data.md and the model card): the tumour-stroma ratio
 * is LOW when the stroma fraction of the tumour is at least 0.5 (stroma-rich) and HIGH when it
 * is below 0.5 (tumour-cell-rich), the common 50% convention for TSR scored on H&E slides.
 *
 * The image depends on the label only through the noise-free enhancement parameters below
 * (tumour and parenchyma HU in each phase). Anatomy, size, position, texture and noise are drawn
 * independently of the stroma fraction given those parameters, so P(high | parameters), computed
 * in oracle.ts, is the best any image model can do on these studies.
 *
 * Generative model of the tumour-to-pancreas contrast (TPC = parenchyma HU - tumour HU):
 *   TPC_arterial = A0 - a * (s - 0.5) - perfusion + washInDelay + e_arterial
 *   TPC_venous   = V0 - b * (s - 0.5) - perfusion - washInDelay + e_venous
 * - s, the stroma fraction, ~ Beta(3, 3.6): P(s >= 0.5) = 0.40, i.e. 40% low / 60% high TSR
 *   (Meng et al., Front Oncol 2021: 40% / 60%).
 * - More stroma lowers the TPC in both phases: fibrotic tumours enhance more in every phase
 *   (Abdom Imaging 2010;35:172) and stroma-rich tumours are inconspicuous in the pancreatic phase
 *   (Eur Radiol 2020;30:5158); b > a makes their enhancement slightly more progressive.
 * - `perfusion` (tumour vascular supply) moves tumour HU the same way in both phases.
 * - `washInDelay` (how late the tumour takes up contrast) moves the phases in opposite
 *   directions: a slow tumour is darker in the pancreatic phase and catches up in the venous
 *   phase. A single phase cannot tell stroma from wash-in timing; the two phases together can,
 *   which is what makes the fused oracle stronger than either phase alone.
 * - e_arterial, e_venous: independent per-phase biological variability.
 * Figures tuned so that a 500-patient cohort has a fused oracle AUC of about 0.93 and single-phase
 * AUCs of about 0.80 (test/unit/synthetic/oracle.test.ts checks the ranges).
 */
import type { SeededRandom } from './random';

export type TsrLabel = 'low' | 'high';

export const LABEL_DEFINITION =
  'TSR low = stroma-rich tumour (stroma fraction >= 0.5 of the tumour area); ' +
  'TSR high = tumour-cell-rich tumour (stroma fraction < 0.5). Positive class: high.';

export const STROMA_THRESHOLD = 0.5;

/** Parameters of the TPC model above; exported so the oracle integrates the same model. */
export const TPC_MODEL = {
  stromaBeta: { alpha: 3, beta: 3.6 },
  arterial: { intercept: 44, stromaSlope: 62 },
  venous: { intercept: 31, stromaSlope: 66 },
  perfusionSd: 6,
  washInDelaySd: 12.5,
  phaseSpecificSd: 5.5,
} as const;

/** Normal pancreas (PHANTOM.md: 110-128 HU pancreatic phase; 95-110 HU portal venous). */
export const PARENCHYMA_MODEL = {
  arterial: { mean: 119, sd: 5, min: 111, max: 127 },
  venous: { mean: 103, sd: 4, min: 96, max: 109 },
} as const;

export function labelOf(stromaFraction: number): TsrLabel {
  return stromaFraction >= STROMA_THRESHOLD ? 'low' : 'high';
}

/** Noise-free enhancement parameters: the only route from the label to the pixels. */
export interface EnhancementParameters {
  /** Mean HU of normal pancreatic parenchyma. */
  parenchymaHu: { arterial: number; venous: number };
  /** Mean HU of the tumour (texture is zero-mean around it). */
  tumourHu: { arterial: number; venous: number };
  /** Tumour-to-pancreas contrast, parenchyma minus tumour, HU. */
  tpcHu: { arterial: number; venous: number };
}

export interface TumourBiology {
  stromaFraction: number;
  label: TsrLabel;
  /** Latent nuisances, kept for analysis; the oracle integrates over them. */
  latent: { perfusionHu: number; washInDelayHu: number; arterialResidualHu: number; venousResidualHu: number };
  enhancement: EnhancementParameters;
}

/** Stroma fraction from the population prior, or from the prior restricted to one label. */
export function drawStromaFraction(rng: SeededRandom, label?: TsrLabel): number {
  const { alpha, beta } = TPC_MODEL.stromaBeta;
  for (;;) {
    const s = rng.beta(alpha, beta);
    if (label === undefined || labelOf(s) === label) return s;
  }
}

/**
 * Draws one patient's tumour biology. `stromaRng` draws only the stroma fraction, `rng` the rest,
 * so forcing the label does not change the nuisance draws of a seed.
 */
export function drawTumourBiology(stromaRng: SeededRandom, rng: SeededRandom, label?: TsrLabel): TumourBiology {
  const s = drawStromaFraction(stromaRng, label);
  const m = TPC_MODEL;
  const perfusionHu = rng.gaussian(0, m.perfusionSd);
  const washInDelayHu = rng.gaussian(0, m.washInDelaySd);
  const arterialResidualHu = rng.gaussian(0, m.phaseSpecificSd);
  const venousResidualHu = rng.gaussian(0, m.phaseSpecificSd);
  const tpcArterial = m.arterial.intercept - m.arterial.stromaSlope * (s - 0.5) - perfusionHu + washInDelayHu + arterialResidualHu;
  const tpcVenous = m.venous.intercept - m.venous.stromaSlope * (s - 0.5) - perfusionHu - washInDelayHu + venousResidualHu;
  const pa = PARENCHYMA_MODEL.arterial;
  const pv = PARENCHYMA_MODEL.venous;
  const parenchymaArterial = rng.truncatedGaussian(pa.mean, pa.sd, pa.min, pa.max);
  const parenchymaVenous = rng.truncatedGaussian(pv.mean, pv.sd, pv.min, pv.max);
  return {
    stromaFraction: s,
    label: labelOf(s),
    latent: { perfusionHu, washInDelayHu, arterialResidualHu, venousResidualHu },
    enhancement: {
      parenchymaHu: { arterial: parenchymaArterial, venous: parenchymaVenous },
      tumourHu: { arterial: parenchymaArterial - tpcArterial, venous: parenchymaVenous - tpcVenous },
      tpcHu: { arterial: tpcArterial, venous: tpcVenous },
    },
  };
}
