/**
 * What a loaded model of each kind holds, and what the node's code expects of it beyond matching
 * its ONNX file: the checks that a manifest's tensors fit its preprocessing (crop or localiser
 * grid) and its outputs, each a ConfigError that names the file and the mismatch. Pure (the ONNX
 * session's metadata is an argument); models.ts does the loading.
 */
import type * as ort from 'onnxruntime-node';
import { ConfigError } from '../errors';
import type { CropSpec, LocalizerSpec, ModelManifest, PancreasSpec, Phase, TensorSpec } from './manifest';
import type { ModelIdentity } from './result';

export interface ModelRuntimeOptions {
  /** onnxruntime intra-op threads (config models.intraOpThreads). */
  intraOpThreads: number;
  /** onnxruntime execution provider (config models.executionProvider). */
  executionProvider: 'cpu' | 'cuda';
}

export interface LoadedModel {
  manifest: ModelManifest;
  identity: ModelIdentity;
  session: ort.InferenceSession;
  /** Absolute path of the ONNX file. */
  onnxPath: string;
  loadMs: number;
}

export interface LoadedClassifier extends LoadedModel {
  crop: CropSpec;
  phases: Phase[];
  /** Index of "high" in the probabilities output. */
  highIndex: number;
  threshold: number;
}

export interface LoadedLocalizer extends LoadedModel {
  localizer: LocalizerSpec;
  /** Channel order of the input tensor (and of the output's tumour channels): each phase once. */
  phases: Phase[];
}

/** The cascade's first stage: P(pancreas) on the coarse whole-volume grid of the venous volume. */
export interface LoadedPancreas extends LoadedModel {
  pancreas: PancreasSpec;
}

/** Output channels of a cascade localiser (preprocessing.localizer.roi): tumour as each phase shows it, then pancreas. */
export const CASCADE_OUTPUT_CHANNELS = 3;


export function fail(file: string, problem: string): never {
  throw new ConfigError(`model ${file}: ${problem}`);
}

function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

/** A manifest dimension matches the model's when both are the same number, or both are symbolic (dynamic). */
function sameShape(declared: ReadonlyArray<number | string>, actual: ReadonlyArray<number | string>): boolean {
  return declared.length === actual.length && declared.every((d, n) => (typeof d === 'number' ? d === actual[n] : typeof actual[n] === 'string'));
}

export function checkTensors(file: string, what: 'input' | 'output', declared: TensorSpec[], actual: readonly ort.InferenceSession.ValueMetadata[]): void {
  const declaredNames = declared.map((t) => t.name).sort();
  const actualNames = actual.map((t) => t.name).sort();
  if (declaredNames.join('\n') !== actualNames.join('\n')) {
    fail(file, `${what}s are [${actualNames.join(', ')}] in the ONNX file but [${declaredNames.join(', ')}] in the manifest`);
  }
  for (const spec of declared) {
    const meta = actual.find((m) => m.name === spec.name);
    if (!meta?.isTensor) fail(file, `${what} "${spec.name}" is not a tensor in the ONNX file`);
    if (meta.type !== spec.dtype) fail(file, `${what} "${spec.name}" has dtype ${meta.type} in the ONNX file, ${spec.dtype} in the manifest`);
    if (!sameShape(spec.shape, meta.shape)) fail(file, `${what} "${spec.name}" has shape ${formatShape(meta.shape)} in the ONNX file, ${formatShape(spec.shape)} in the manifest`);
  }
}

function tensor(manifest: ModelManifest, which: 'inputs' | 'outputs', name: string): TensorSpec | undefined {
  return manifest[which].find((t) => t.name === name);
}

/** What the node's code expects of a classifier's manifest, beyond matching its ONNX file. */
export function checkClassifierContract(file: string, m: ModelManifest): ClassifierFields {
  const crop = m.preprocessing.crop ?? fail(file, 'a classifier manifest needs preprocessing.crop');
  const channels = crop.sliceOffsetsMm.length;
  for (const phase of m.preprocessing.phases) {
    const input = tensor(m, 'inputs', phase) ?? fail(file, `no input named "${phase}" for phase ${phase}`);
    if (input.dtype !== 'float32' || !sameShape(['batch', channels, crop.sizePx, crop.sizePx], input.shape)) {
      fail(file, `input "${phase}" must be float32 [batch, ${channels}, ${crop.sizePx}, ${crop.sizePx}] to fit preprocessing.crop, got ${input.dtype} ${formatShape(input.shape)}`);
    }
    const saliency = tensor(m, 'outputs', `saliency_${phase}`) ?? fail(file, `no output named "saliency_${phase}"`);
    if (!sameShape(['batch', crop.sizePx, crop.sizePx], saliency.shape)) fail(file, `output "saliency_${phase}" must be [batch, ${crop.sizePx}, ${crop.sizePx}], got ${formatShape(saliency.shape)}`);
  }
  if (m.inputs.length !== m.preprocessing.phases.length) fail(file, `inputs [${m.inputs.map((t) => t.name).join(', ')}] do not match preprocessing.phases [${m.preprocessing.phases.join(', ')}]`);
  const probabilities = tensor(m, 'outputs', 'probabilities') ?? fail(file, 'no output named "probabilities"');
  const labels = m.classLabels ?? fail(file, 'a classifier manifest needs classLabels');
  if (!sameShape(['batch', labels.length], probabilities.shape)) fail(file, `output "probabilities" must be [batch, ${labels.length}], got ${formatShape(probabilities.shape)}`);
  const highIndex = labels.indexOf('high');
  if (highIndex < 0 || !labels.includes('low')) fail(file, `classLabels must name "low" and "high", got [${labels.join(', ')}]`);
  if (m.threshold === undefined) fail(file, 'a classifier manifest needs an operating threshold');
  // The inputs' batch axis is dynamic (checked above), so the shifted crops fit in one batch.
  if ((crop.averageShifts ?? []).some((shift) => shift.some((s) => Math.abs(s) >= crop.sizePx))) fail(file, 'preprocessing.crop.averageShifts: a shift is as large as the crop');
  return { crop, phases: m.preprocessing.phases, highIndex, threshold: m.threshold };
}

/** What a classifier adds to a loaded model. */
export type ClassifierFields = Pick<LoadedClassifier, 'crop' | 'phases' | 'highIndex' | 'threshold'>;

/** What a localiser adds to a loaded model. */
export type LocalizerFields = Pick<LoadedLocalizer, 'localizer' | 'phases'>;

export function checkLocalizerContract(file: string, m: ModelManifest): LocalizerFields {
  const spec = m.preprocessing.localizer ?? fail(file, 'a localizer manifest needs preprocessing.localizer');
  const phases = m.preprocessing.phases;
  if (phases.length !== 2 || !phases.includes('arterial') || !phases.includes('venous')) {
    fail(file, `a localizer takes both phases as channels: preprocessing.phases must hold arterial and venous once each, got [${phases.join(', ')}]`);
  }
  const channels = phases.length;
  // A cascade localiser adds a pancreas channel to its output.
  const outputChannels = spec.roi ? CASCADE_OUTPUT_CHANNELS : channels;
  const { input } = checkGridTensors(file, m, spec.gridSize, channels, outputChannels, 'preprocessing.phases and preprocessing.localizer.gridSize');
  if (!spec.roi && spec.confidence) fail(file, 'preprocessing.localizer.confidence calibrates the cascade localiser: it needs preprocessing.localizer.roi');
  const shifts = spec.averageShifts ?? [[0, 0, 0]];
  if (shifts.length > 1 && typeof input.shape[0] !== 'string' && input.shape[0] !== shifts.length) {
    fail(file, `preprocessing.localizer.averageShifts names ${shifts.length} shifts, run as one batch, but input "volume" has a fixed batch of ${input.shape[0]}`);
  }
  if (shifts.some((shift) => shift.some((s, a) => Math.abs(s) >= spec.gridSize[a]))) fail(file, 'preprocessing.localizer.averageShifts: a shift is as large as the grid');
  return { localizer: spec, phases };
}

/** Checks the grid model's `volume` input and `probability` output against its grid ([x, y, z] in the spec, [Z, Y, X] in the tensors). */
function checkGridTensors(file: string, m: ModelManifest, gridSize: [number, number, number], channels: number, outputChannels: number, fitsWhat: string): { input: TensorSpec } {
  const [gx, gy, gz] = gridSize;
  const input = tensor(m, 'inputs', 'volume') ?? fail(file, 'no input named "volume"');
  const output = tensor(m, 'outputs', 'probability') ?? fail(file, 'no output named "probability"');
  // A symbolic axis accepts any size.
  const fits = (shape: Array<number | string>, c: number): boolean =>
    shape.length === 5 && shape[1] === c && [gz, gy, gx].every((n, a) => typeof shape[a + 2] === 'string' || shape[a + 2] === n);
  if (input.dtype !== 'float32' || !fits(input.shape, channels)) fail(file, `input "volume" must be float32 [batch, ${channels}, ${gz}, ${gy}, ${gx}] to fit ${fitsWhat}, got ${input.dtype} ${formatShape(input.shape)}`);
  if (!fits(output.shape, outputChannels)) fail(file, `output "probability" must be [batch, ${outputChannels}, ${gz}, ${gy}, ${gx}], got ${formatShape(output.shape)}`);
  return { input };
}

/** What a pancreas model adds to a loaded model. */
export type PancreasFields = Pick<LoadedPancreas, 'pancreas'>;

/** What the node's code expects of the cascade's first stage: the venous volume in, P(pancreas) out, on the spec's grid. */
export function checkPancreasContract(file: string, m: ModelManifest): PancreasFields {
  const spec = m.preprocessing.pancreas ?? fail(file, 'a pancreas manifest needs preprocessing.pancreas');
  const phases = m.preprocessing.phases;
  if (phases.length !== 1 || phases[0] !== 'venous') fail(file, `a pancreas model takes the venous phase alone: preprocessing.phases must be [venous], got [${phases.join(', ')}]`);
  checkGridTensors(file, m, spec.gridSize, 1, 1, 'preprocessing.pancreas.gridSize');
  return { pancreas: spec };
}
