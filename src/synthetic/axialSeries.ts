/**
 * Writes axial CT series: renders each slice (the mean of renders across the slice thickness for
 * thick slices), adds noise, encodes and writes each instance as Part 10, and averages thin slices
 * into 5 mm reconstructions of the same acquisition.
 */
import type { Vec3 } from '../study/geometry';
import { ctImageDataset, type CtSeriesAttributes } from './ctImage';
import { dicomTime, zeroPad } from './dicomDateTime';
import { addNoiseAndEncode, encodePixels } from './encoding';
import type { SeriesRole } from './naming';
import { NOISE_BLUR_RADIUS, styleSlice } from './imageStyle';
import { FieldBank, noiseSlice, textureSlice } from './noise';
import { writePart10 } from './part10';
import { SeededRandom } from './random';
import { SliceRenderer } from './render';
import type { InstanceOrder } from './seriesSettings';
import type { StudyPlan, SyntheticFile } from './studyPlan';
import type { ContrastPhase } from './tissues';
import { syntheticUid } from './uid';

export interface AxialSeriesSpec {
  role: SeriesRole;
  phase: ContrastPhase;
  /** Local z of the centre of each output slice, head first. */
  zCentres: number[];
  thicknessMm: number;
  spacingMm: number;
  /** z sub-samples averaged per slice (slice-profile partial volume for thick slices). */
  subSamples: number;
  noiseSdHu: number;
  shift: Vec3;
  attributes: CtSeriesAttributes;
  order: InstanceOrder;
  /** Seconds of acquisition start (of day), for ContentTime. */
  startSeconds: number;
  /** Also write a 5 mm reconstruction by averaging these thin slices. */
  thick?: ThickReconstruction;
}

interface ThickReconstruction {
  attributes: CtSeriesAttributes;
  order: InstanceOrder;
  /** Thin slices averaged into one thick slice. */
  perSlice: number;
}

/** A series being written: its instance numbers, noise stream and the running sum of its thick slice. */
interface SeriesInProgress {
  spec: AxialSeriesSpec;
  instanceNumbers: number[];
  thickCount: number;
  thickInstanceNumbers: number[];
  thickSum: Float32Array | undefined;
  noiseRng: SeededRandom;
}

/** Seconds between the acquisition of two consecutive slices (ContentTime). */
const SECONDS_PER_SLICE = 0.02;

const fieldBanks = new Map<string, FieldBank>();

/** Noise and texture banks depend only on the image size, so a cohort builds them once. */
function fieldBank(size: number, blur: number, kind: string): FieldBank {
  const key = `${kind}/${size}/${blur}`;
  let bank = fieldBanks.get(key);
  if (!bank) {
    bank = new FieldBank(size, new SeededRandom(size * 31 + blur, `bank/${kind}`), 4, blur);
    fieldBanks.set(key, bank);
  }
  return bank;
}

function instanceNumbers(rng: SeededRandom, count: number, order: InstanceOrder): number[] {
  const numbers = Array.from({ length: count }, (_, k) => k + 1);
  if (order === 'feet-first') numbers.reverse();
  if (order === 'shuffled') rng.shuffle(numbers);
  return numbers;
}

function startSeries(seed: number, spec: AxialSeriesSpec, sliceCount: number, pixelCount: number): SeriesInProgress {
  const orderRng = new SeededRandom(seed, `order/${spec.role}`);
  const thick = spec.thick;
  const thickCount = thick ? Math.floor(sliceCount / thick.perSlice) : 0;
  return {
    spec,
    instanceNumbers: instanceNumbers(orderRng, sliceCount, spec.order),
    thickCount,
    thickInstanceNumbers: thick ? instanceNumbers(orderRng, thickCount, thick.order) : [],
    thickSum: thick ? new Float32Array(pixelCount) : undefined,
    noiseRng: new SeededRandom(seed, `noise/${spec.role}`),
  };
}

/**
 * Renders series that share their slice positions (the arterial and venous phases) in lockstep,
 * so the texture field of each position is computed once and the tissue's texture is the same in
 * both phases, as it is in a real patient.
 */
export function writeAxialSeries(plan: StudyPlan, specs: AxialSeriesSpec[]): SyntheticFile[] {
  const files: SyntheticFile[] = [];
  const grid = plan.geometry.grid;
  const pixelCount = grid.columns * grid.rows;
  const renderer = new SliceRenderer(plan.anatomy, plan.tissueHu, grid);
  const hu = new Float32Array(pixelCount);
  const subSample = new Float32Array(pixelCount);
  const texture = new Float32Array(pixelCount);
  const noise = new Float32Array(pixelCount);
  const textureBank = fieldBank(grid.columns, Math.max(1, Math.round(1.6 / grid.spacing)), 'texture');
  const style = plan.imageStyle;
  // The baseline's noise bank, or one with the texture of the profile's kernel.
  const noiseBank = style ? fieldBank(grid.columns, NOISE_BLUR_RADIUS[style.noiseSharpness], `noise-${style.noiseSharpness}`) : fieldBank(grid.columns, 0, 'noise');
  const zCentres = specs[0].zCentres;
  const inProgress = specs.map((spec) => startSeries(plan.seed, spec, zCentres.length, pixelCount));
  for (let k = 0; k < zCentres.length; k++) {
    const z = zCentres[k];
    textureSlice(textureBank, plan.seed, z, 3, texture);
    for (const series of inProgress) {
      const spec = series.spec;
      renderSlice(renderer, spec, z, texture, hu, subSample);
      if (style) styleSlice(hu, grid.columns, grid.rows, grid.spacing, style);
      noiseSlice(noiseBank, series.noiseRng, noise);
      const pixels = addNoiseAndEncode(hu, noise, spec.noiseSdHu, plan.encoding, plan.geometry.fovMask);
      const seconds = spec.startSeconds + k * SECONDS_PER_SLICE;
      files.push(axialInstanceFile(plan, spec.attributes, k, series.instanceNumbers[k], z, seconds, pixels));
      const thick = spec.thick;
      if (thick && addToThickSlice(series, k, hu)) {
        const thickIndex = Math.floor(k / thick.perSlice);
        const zThick = (zCentres[thickIndex * thick.perSlice] + z) / 2;
        const thickPixels = encodePixels(series.thickSum!, plan.encoding, plan.geometry.fovMask);
        files.push(axialInstanceFile(plan, thick.attributes, thickIndex, series.thickInstanceNumbers[thickIndex], zThick, seconds, thickPixels));
      }
    }
  }
  return files;
}

/** The HU slice of a series at local height z, into `hu`; `subSample` is scratch space. */
function renderSlice(renderer: SliceRenderer, spec: AxialSeriesSpec, z: number, texture: Float32Array, hu: Float32Array, subSample: Float32Array): void {
  if (spec.subSamples <= 1) {
    renderer.render(spec.phase, z, spec.shift, texture, hu);
    return;
  }
  // Slice profile: the mean of renders across the slice thickness (partial volume in z).
  hu.fill(0);
  for (let s = 0; s < spec.subSamples; s++) {
    const zSample = z + ((s + 0.5) / spec.subSamples - 0.5) * spec.thicknessMm;
    renderer.render(spec.phase, zSample, spec.shift, texture, subSample);
    for (let i = 0; i < hu.length; i++) hu[i] += subSample[i];
  }
  const inverse = 1 / spec.subSamples;
  for (let i = 0; i < hu.length; i++) hu[i] *= inverse;
}

/**
 * Adds thin slice k (noise included) to its thick slice's running sum; true when k is the last
 * thin slice of a thick slice, whose mean `thickSum` then holds. Thin slices past the last whole
 * thick slice are left out.
 */
function addToThickSlice(series: SeriesInProgress, k: number, hu: Float32Array): boolean {
  const thick = series.spec.thick;
  const sum = series.thickSum;
  if (!thick || !sum) return false;
  if (Math.floor(k / thick.perSlice) >= series.thickCount) return false;
  if (k % thick.perSlice === 0) sum.set(hu);
  else for (let i = 0; i < sum.length; i++) sum[i] += hu[i];
  if (k % thick.perSlice !== thick.perSlice - 1) return false;
  const inverse = 1 / thick.perSlice;
  for (let i = 0; i < sum.length; i++) sum[i] *= inverse;
  return true;
}

/** One axial CT instance as a Part 10 file; `index` (the slice's place in its series) makes its UID. */
function axialInstanceFile(plan: StudyPlan, attributes: CtSeriesAttributes, index: number, instanceNumber: number, z: number, seconds: number, pixelData: Uint8Array): SyntheticFile {
  const { grid, translation } = plan.geometry;
  const sopInstanceUID = syntheticUid(plan.uidSeed, 'instance', attributes.seriesInstanceUID, index);
  const position: [number, number, number] = [grid.x0 + translation[0], grid.y0 + translation[1], z + translation[2]];
  const dataset = ctImageDataset(plan.study, attributes, {
    sopInstanceUID,
    instanceNumber,
    imagePosition: position,
    sliceLocation: position[2],
    contentTime: dicomTime(seconds),
    pixelData,
  });
  return {
    relativePath: `S${zeroPad(attributes.seriesNumber, 3)}/I${zeroPad(instanceNumber, 4)}.dcm`,
    seriesInstanceUID: attributes.seriesInstanceUID,
    sopInstanceUID,
    bytes: writePart10(dataset),
  };
}
