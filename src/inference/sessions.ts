/**
 * Thin shells around the onnxruntime sessions: tensors in, typed arrays out, ONNX time measured.
 * One study per run in the node and in the evaluation alike, so both see the same code (a batch
 * holds the shifted copies of one study's grid or crops, see gridShifts.ts).
 */
import * as ort from 'onnxruntime-node';
import type { Phase } from './manifest';
import type { LoadedClassifier, LoadedLocalizer } from './models';
import type { LocalizerInput } from './preprocessing';
import { meanShiftedBack, shiftedBatch } from './gridShifts';
import type { Vec3 } from '../study/geometry';
import type { ProbabilityGrid } from './tumourFinding';

function float32Output(outputs: ort.InferenceSession.ReturnType, name: string, expectedLength: number): Float32Array {
  const tensor = outputs[name];
  if (!tensor || !(tensor.data instanceof Float32Array)) throw new Error(`model output "${name}" is missing or not float32`);
  if (tensor.data.length !== expectedLength) throw new Error(`model output "${name}" has ${tensor.data.length} values, expected ${expectedLength}`);
  return tensor.data;
}

/**
 * Runs the localiser on both phases' grids (one grid, see extractLocalizerInputs): the phases go
 * in as channels, in the model's order; the tumour probability of each phase comes back on the
 * same grid, averaged over the manifest's averageShifts when it names any. Also returns the
 * ONNX time.
 */
export async function runLocalizer(model: LoadedLocalizer, inputs: Record<Phase, LocalizerInput>): Promise<{ grids: Record<Phase, ProbabilityGrid>; onnxMs: number }> {
  const geometry = inputs.venous.geometry;
  const [gx, gy, gz] = geometry.dims;
  const voxels = gx * gy * gz;
  const volume = new Float32Array(voxels * model.phases.length);
  model.phases.forEach((phase, c) => {
    const input = inputs[phase];
    if (input.data.length !== voxels || input.geometry.dims.some((n, a) => n !== geometry.dims[a])) {
      throw new Error(`the ${phase} localiser input is not on the venous grid (${input.geometry.dims.join('x')} vs ${geometry.dims.join('x')})`);
    }
    volume.set(input.data, c * voxels);
  });
  // Shift averaging (see gridShifts.ts): one batch holds the input moved by each shift.
  const shifts = model.localizer.averageShifts ?? [[0, 0, 0]];
  const channels = model.phases.length;
  const batch = shiftedBatch(volume, geometry.dims, channels, shifts);
  const feeds = { volume: new ort.Tensor('float32', batch, [shifts.length, channels, gz, gy, gx]) };
  const started = performance.now();
  const outputs = await model.session.run(feeds);
  const onnxMs = performance.now() - started;
  const probability = meanShiftedBack(float32Output(outputs, 'probability', batch.length), geometry.dims, channels, shifts);
  const grids = {} as Record<Phase, ProbabilityGrid>;
  model.phases.forEach((phase, c) => {
    grids[phase] = { geometry: inputs[phase].geometry, data: probability.subarray(c * voxels, (c + 1) * voxels) };
  });
  return { grids, onnxMs };
}

export interface ClassifierOutput {
  /** P(high TSR). */
  probabilityHigh: number;
  /** Saliency per phase the model takes, sizePx x sizePx, row-major, in [0, 1]. */
  saliency: Partial<Record<Phase, Float32Array>>;
  onnxMs: number;
}

/**
 * Runs a classifier (fused or single-phase) on the crops of the phases it takes. With the
 * manifest's crop averageShifts, one batch holds each phase's crop moved by each shift (edges
 * repeated, shiftGrids on a one-slice grid); the class probabilities are the normalised geometric
 * mean of the runs' (for two classes: the mean log-odds, which commutes with the model's Platt
 * scaling) and each saliency map is the mean of the runs' maps moved back.
 */
export async function runClassifier(model: LoadedClassifier, crops: Partial<Record<Phase, Float32Array>>): Promise<ClassifierOutput> {
  const n = model.crop.sizePx;
  const channels = model.crop.sliceOffsetsMm.length;
  const perCrop = channels * n * n;
  // A crop is a one-slice grid [columns, rows, 1]; its [x, y] shifts move it in plane.
  const dims: Vec3 = [n, n, 1];
  const shifts: Vec3[] = (model.crop.averageShifts ?? [[0, 0]]).map(([sx, sy]) => [sx, sy, 0]);
  const views = shifts.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const phase of model.phases) {
    const crop = crops[phase];
    if (!crop) throw new Error(`classifier ${model.identity.name} needs the ${phase} crop`);
    if (crop.length !== perCrop) throw new Error(`the ${phase} crop has ${crop.length} values, expected ${perCrop}`);
    feeds[phase] = new ort.Tensor('float32', shiftedBatch(crop, dims, channels, shifts), [views, channels, n, n]);
  }
  const started = performance.now();
  const outputs = await model.session.run(feeds);
  const onnxMs = performance.now() - started;
  const classes = model.manifest.classLabels?.length ?? 2;
  const probabilities = meanOfLogProbabilities(float32Output(outputs, 'probabilities', classes * views), classes, views);
  const saliency: Partial<Record<Phase, Float32Array>> = {};
  for (const phase of model.phases) saliency[phase] = meanShiftedBack(float32Output(outputs, `saliency_${phase}`, n * n * views), dims, 1, shifts);
  return { probabilityHigh: probabilities[model.highIndex], saliency, onnxMs };
}

/** Class probabilities of `views` runs ([views][classes]) combined: exp(mean log p), normalised. */
function meanOfLogProbabilities(probabilities: Float32Array, classes: number, views: number): Float64Array {
  const combined = new Float64Array(classes);
  if (views === 1) {
    combined.set(probabilities);
    return combined;
  }
  for (let c = 0; c < classes; c++) {
    let sum = 0;
    for (let v = 0; v < views; v++) sum += Math.log(Math.max(probabilities[v * classes + c], 1e-30));
    combined[c] = Math.exp(sum / views);
  }
  const total = combined.reduce((a, b) => a + b, 0);
  for (let c = 0; c < classes; c++) combined[c] /= total;
  return combined;
}
