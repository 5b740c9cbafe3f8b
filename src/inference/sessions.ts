/**
 * Thin shells around the onnxruntime sessions: tensors in, typed arrays out, ONNX time measured.
 * One study per run in the node and in the evaluation alike, so both see the same code (the
 * localiser's batch holds the shifted copies of one study's grid, see gridShifts.ts).
 */
import * as ort from 'onnxruntime-node';
import type { Phase } from './manifest';
import type { LoadedClassifier, LoadedLocalizer } from './models';
import type { LocalizerInput } from './preprocessing';
import { addShiftedBack, shiftGrids } from './gridShifts';
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
  const perItem = voxels * channels;
  const averaging = shifts.length > 1 || shifts[0].some((s) => s !== 0);
  const batch = averaging ? new Float32Array(perItem * shifts.length) : volume;
  if (averaging) shifts.forEach((shift, b) => shiftGrids(volume, geometry.dims, channels, shift, batch.subarray(b * perItem, (b + 1) * perItem)));
  const feeds = { volume: new ort.Tensor('float32', batch, [shifts.length, channels, gz, gy, gx]) };
  const started = performance.now();
  const outputs = await model.session.run(feeds);
  const onnxMs = performance.now() - started;
  let probability = float32Output(outputs, 'probability', perItem * shifts.length);
  if (averaging) {
    const mean = new Float32Array(perItem);
    shifts.forEach((shift, b) => addShiftedBack(probability.subarray(b * perItem, (b + 1) * perItem), geometry.dims, channels, shift, 1 / shifts.length, mean));
    probability = mean;
  }
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

/** Runs a classifier (fused or single-phase) on the crops of the phases it takes. */
export async function runClassifier(model: LoadedClassifier, crops: Partial<Record<Phase, Float32Array>>): Promise<ClassifierOutput> {
  const n = model.crop.sizePx;
  const channels = model.crop.sliceOffsetsMm.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const phase of model.phases) {
    const crop = crops[phase];
    if (!crop) throw new Error(`classifier ${model.identity.name} needs the ${phase} crop`);
    feeds[phase] = new ort.Tensor('float32', crop, [1, channels, n, n]);
  }
  const started = performance.now();
  const outputs = await model.session.run(feeds);
  const onnxMs = performance.now() - started;
  const probabilities = float32Output(outputs, 'probabilities', model.manifest.classLabels?.length ?? 2);
  const saliency: Partial<Record<Phase, Float32Array>> = {};
  for (const phase of model.phases) saliency[phase] = float32Output(outputs, `saliency_${phase}`, n * n);
  return { probabilityHigh: probabilities[model.highIndex], saliency, onnxMs };
}
