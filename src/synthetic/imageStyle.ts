/**
 * How a randomised profile's images look beyond their anatomy and HU: the texture of the noise
 * (the reconstruction kernel: smooth kernels correlate it over more pixels, sharp ones less), and,
 * for the SynthSeg-style training profile, an in-plane blur of the image and a smooth additive
 * bias field, both before the noise is added.
 */
import type { KernelSharpness } from './randomisationTruth';

export interface ImageStyle {
  noiseSharpness: KernelSharpness;
  /** In-plane Gaussian blur, FWHM (mm); 0 for none. */
  blurFwhmMm: number;
  /** Additive field over the slice: amplitude at the image's edge (HU) along direction `angle`. */
  biasField: { amplitudeHu: number; angle: number };
}

/** Box radius (pixels) of the field bank that gives each kernel's noise texture (-1: no filter; 0: the baseline's [1 2 1] pass). */
export const NOISE_BLUR_RADIUS: Record<KernelSharpness, number> = { smooth: 1, standard: 0, sharp: -1 };

/** Box blur along rows then columns, the edges repeated. */
function boxBlurClamped(image: Float32Array, columns: number, rows: number, radius: number, scratch: Float32Array): void {
  const width = 2 * radius + 1;
  const pass = (count: number, length: number, at: (line: number, k: number) => number): void => {
    for (let line = 0; line < count; line++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += image[at(line, Math.min(length - 1, Math.max(0, k)))];
      for (let k = 0; k < length; k++) {
        scratch[k] = sum / width;
        sum += image[at(line, Math.min(length - 1, k + radius + 1))] - image[at(line, Math.max(0, k - radius))];
      }
      for (let k = 0; k < length; k++) image[at(line, k)] = scratch[k];
    }
  };
  pass(rows, columns, (row, k) => row * columns + k);
  pass(columns, rows, (column, k) => k * columns + column);
}

/** Gaussian-like blur: three box passes whose radius r gives sigma = sqrt(r (r + 1)) pixels. */
export function blurImage(image: Float32Array, columns: number, rows: number, fwhmMm: number, spacingMm: number): void {
  const sigmaPixels = fwhmMm / 2.355 / spacingMm;
  const radius = Math.round((-1 + Math.sqrt(1 + 4 * sigmaPixels * sigmaPixels)) / 2);
  if (radius < 1) return;
  const scratch = new Float32Array(Math.max(columns, rows));
  for (let pass = 0; pass < 3; pass++) boxBlurClamped(image, columns, rows, radius, scratch);
}

/** A linear ramp of the given amplitude across the slice, inside the body (above -500 HU) only. */
export function addBiasField(image: Float32Array, columns: number, rows: number, bias: ImageStyle['biasField']): void {
  if (bias.amplitudeHu === 0) return;
  const cx = Math.cos(bias.angle);
  const cy = Math.sin(bias.angle);
  for (let j = 0; j < rows; j++) {
    const v = (2 * j) / (rows - 1) - 1;
    for (let i = 0; i < columns; i++) {
      const p = j * columns + i;
      if (image[p] <= -500) continue;
      const u = (2 * i) / (columns - 1) - 1;
      image[p] += bias.amplitudeHu * (cx * u + cy * v);
    }
  }
}

/** Blur and bias field of the SynthSeg-style profile on a rendered slice (noise-free HU). */
export function styleSlice(image: Float32Array, columns: number, rows: number, spacingMm: number, style: ImageStyle): void {
  if (style.blurFwhmMm > 0) blurImage(image, columns, rows, style.blurFwhmMm, spacingMm);
  addBiasField(image, columns, rows, style.biasField);
}
