/**
 * Thin shells around the onnxruntime sessions: tensors in, typed arrays out, ONNX time measured.
 * One study per run in the node and in the evaluation alike, so both see the same code (a batch
 * holds the shifted copies of one study's grid or crops, see gridShifts.ts).
 */
import * as ort from 'onnxruntime-node';
import type { Phase } from './manifest';
import type { LoadedClassifier, LoadedLocalizer, LoadedPancreas } from './models';
import { CASCADE_OUTPUT_CHANNELS } from './modelContracts';
import type { LocalizerInput } from './preprocessing';
import { addShiftedBack, meanShiftedBack, shiftedBatch } from './gridShifts';
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

/** The cascade's first stage on the venous volume's coarse grid: P(pancreas) on that grid (one plain run). */
export async function runPancreas(model: LoadedPancreas, input: LocalizerInput): Promise<{ grid: ProbabilityGrid; onnxMs: number }> {
  const [gx, gy, gz] = input.geometry.dims;
  const started = performance.now();
  const outputs = await model.session.run({ volume: new ort.Tensor('float32', input.data, [1, 1, gz, gy, gx]) });
  const onnxMs = performance.now() - started;
  return { grid: { geometry: input.geometry, data: float32Output(outputs, 'probability', input.data.length) }, onnxMs };
}

export interface CascadeLocalizerOutput {
  /** Tumour as each phase's image shows it, averaged over the shifts. */
  grids: Record<Phase, ProbabilityGrid>;
  /** Stage 2's pancreas channel, averaged over the shifts. */
  pancreas: ProbabilityGrid;
  /** The venous tumour map of each shift, moved back onto the grid (one entry without shift averaging). */
  venousByShift: Float32Array[];
  onnxMs: number;
}

/**
 * The cascade's second stage on the ROI grid: both phases in as channels (the model's order),
 * three maps out (tumour arterial, tumour venous, pancreas), averaged over averageShifts; the
 * venous map of each shift is kept for the shift spread.
 */
export async function runCascadeLocalizer(model: LoadedLocalizer, inputs: Record<Phase, LocalizerInput>): Promise<CascadeLocalizerOutput> {
  const geometry = inputs.venous.geometry;
  const dims = geometry.dims;
  const voxels = dims[0] * dims[1] * dims[2];
  const channels = model.phases.length;
  const volume = new Float32Array(voxels * channels);
  model.phases.forEach((phase, c) => volume.set(inputs[phase].data, c * voxels));
  const shifts = model.localizer.averageShifts ?? [[0, 0, 0]];
  const feeds = { volume: new ort.Tensor('float32', shiftedBatch(volume, dims, channels, shifts), [shifts.length, channels, dims[2], dims[1], dims[0]]) };
  const started = performance.now();
  const outputs = await model.session.run(feeds);
  const onnxMs = performance.now() - started;
  const perItem = voxels * CASCADE_OUTPUT_CHANNELS;
  const all = float32Output(outputs, 'probability', perItem * shifts.length);
  const mean = new Float32Array(perItem);
  const venousChannel = model.phases.indexOf('venous');
  const weight = 1 / shifts.length;
  const venousByShift = shifts.map((shift, b) => {
    // Each output moved back (its venous map kept), then added with the weight, as meanShiftedBack does.
    const back = new Float32Array(perItem);
    addShiftedBack(all.subarray(b * perItem, (b + 1) * perItem), dims, CASCADE_OUTPUT_CHANNELS, shift, 1, back);
    for (let n = 0; n < perItem; n++) mean[n] += weight * back[n];
    return back.slice(venousChannel * voxels, (venousChannel + 1) * voxels);
  });
  const grid = (c: number): ProbabilityGrid => ({ geometry, data: mean.subarray(c * voxels, (c + 1) * voxels) });
  const grids = {} as Record<Phase, ProbabilityGrid>;
  model.phases.forEach((phase, c) => (grids[phase] = grid(c)));
  return { grids, pancreas: grid(channels), venousByShift, onnxMs };
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
