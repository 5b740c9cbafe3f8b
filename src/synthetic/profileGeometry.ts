/**
 * The scan geometry of a randomised profile's study, from its draws (domainRandomisation.ts) and
 * the patient: the field of view fits the body within what the matrix and the profile's pixel
 * spacing allow (a wide patient on a small matrix is cut at the sides, as in real scans), the
 * reconstruction centre sits where the patient lies, the thin slices have the drawn thickness and
 * interval over the drawn z coverage around the pancreas, and the noise follows habitus, kV,
 * dose, thickness and kernel.
 */
import type { Anatomy } from './anatomyTypes';
import type { DomainDraws } from './domainRandomisation';
import type { KernelSharpness } from './randomisationTruth';
import type { AxialGrid } from './render';
import { reconstructionCircle, type ScanGeometry } from './scanGeometry';

/** Noise SD relative to a standard kernel at the same dose (smooth kernels average it down, sharp ones keep more). */
export const KERNEL_NOISE: Record<KernelSharpness, number> = { smooth: 0.75, standard: 1, sharp: 1.4 };

/** Thickness of the slices the profile noise range is given for (mm). */
const REFERENCE_THICKNESS_MM = 1.25;

/** Renders averaged across a slice's thickness (its slice profile): one up to 2.5 mm, two for 3-5 mm. */
export function sliceProfileSamples(thicknessMm: number): number {
  return Math.max(1, Math.ceil(thicknessMm / 2.5));
}

/**
 * Noise SD of the thin phase series: the profile's range by habitus (thin to wide patient), the
 * patient's spread, more at low kV ((120 / kV)^0.6 at equal dose), 1 / sqrt(dose), 1 / sqrt of
 * the thickness, and the kernel's factor; the SynthSeg-style profile draws it outright. Pixels
 * coarser than 1 mm (images made small for tests and previews) average it down (1 / spacing):
 * up to 1 mm the kernel, not the pixel, sets the noise.
 */
export function profileNoiseSdHu(draws: DomainDraws, pixelSpacingMm: number): number {
  const coarse = Math.min(1, 1 / pixelSpacingMm);
  if (draws.intensity) return draws.intensity.noiseSdHu * coarse;
  const acquisition = draws.acquisition;
  const [low, high] = acquisition.noiseRangeHu;
  const habitus = Math.min(1, Math.max(0, (draws.population.bodyHalfWidthMm - 120) / 95));
  const reference = low + (high - low) * habitus;
  const sd =
    reference *
    acquisition.noiseJitter *
    Math.pow(120 / acquisition.kvp, 0.6) *
    Math.sqrt(1 / acquisition.doseFactor) *
    Math.sqrt(REFERENCE_THICKNESS_MM / acquisition.reconstruction.thicknessMm) *
    KERNEL_NOISE[acquisition.kernelSharpness];
  return Math.min(60, Math.max(4, sd)) * coarse;
}

export interface ImageSize {
  /** Image width = height asked for (tests, previews); otherwise the profile's matrix. */
  columns?: number;
  /** Thin slices per phase asked for; otherwise the drawn coverage / interval. */
  slices?: number;
}

export function drawProfileScanGeometry(anatomy: Anatomy, draws: DomainDraws, size: ImageSize): ScanGeometry {
  const acquisition = draws.acquisition;
  const wanted = 2 * anatomy.bodyHalfWidthMm + acquisition.fieldOfViewMarginMm;
  const columns = size.columns ?? acquisition.matrix;
  const [spacingLow, spacingHigh] = acquisition.pixelSpacingRangeMm;
  const spacing = size.columns !== undefined ? wanted / columns : Math.min(spacingHigh, Math.max(spacingLow, wanted / columns));
  const fieldOfViewMm = spacing * columns;
  const [offsetX, offsetY] = draws.population.fieldOfViewOffsetMm;
  const grid: AxialGrid = { columns, rows: columns, spacing, x0: offsetX - ((columns - 1) / 2) * spacing, y0: offsetY - ((columns - 1) / 2) * spacing };

  const recon = acquisition.reconstruction;
  const interval = recon.intervalMm;
  const slices = size.slices ?? Math.max(20, Math.round(recon.coverageMm / interval));
  const coverageMm = interval * slices;
  const tumourZ = anatomy.tumour.centreLocal[2];
  const pancreasMid = (anatomy.pancreasZ[0] + anatomy.pancreasZ[1]) / 2 + acquisition.zCentreJitterMm;
  const margin = Math.max(0, coverageMm / 2 - 25);
  const zCentre = Math.min(tumourZ + margin, Math.max(tumourZ - margin, pancreasMid));
  const zTop = zCentre + ((slices - 1) / 2) * interval;
  const thinZ = Array.from({ length: slices }, (_, k) => zTop - k * interval);
  return {
    grid,
    fieldOfViewMm,
    fovMask: reconstructionCircle(columns),
    thinSliceMm: recon.thicknessMm,
    thinIntervalMm: interval,
    thinSubSamples: sliceProfileSamples(recon.thicknessMm),
    coverageMm,
    zCentre,
    thinZ,
    translation: [...acquisition.tablePositionMm],
    breathingShifts: draws.breathing,
    noiseSdHu: profileNoiseSdHu(draws, spacing),
  };
}
