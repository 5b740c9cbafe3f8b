/**
 * Loads the ONNX models once, at start, from their manifests (models/<name>.json beside
 * models/<name>.onnx), and refuses any model that does not match its manifest: a missing file,
 * a different sha256, other input/output names, shapes or dtypes, or a manifest whose
 * preprocessing does not fit the model's inputs. The refusal is a ConfigError that names the file
 * and the mismatch, so the node does not start with a model it would misuse.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '../errors';
import type { CropSpec, LocalizerSpec, ModelManifest, Phase, TensorSpec } from './manifest';
import { parseModelManifest } from './manifestSchema';
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
  /** Channel order of the input and output tensors: each phase once. */
  phases: Phase[];
}

function fail(file: string, problem: string): never {
  throw new ConfigError(`model ${file}: ${problem}`);
}

function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

/** A manifest dimension matches the model's when both are the same number, or both are symbolic (dynamic). */
function sameShape(declared: ReadonlyArray<number | string>, actual: ReadonlyArray<number | string>): boolean {
  return declared.length === actual.length && declared.every((d, n) => (typeof d === 'number' ? d === actual[n] : typeof actual[n] === 'string'));
}

function checkTensors(file: string, what: 'input' | 'output', declared: TensorSpec[], actual: readonly ort.InferenceSession.ValueMetadata[]): void {
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
function checkClassifierContract(file: string, m: ModelManifest): LoadedClassifierFields {
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

type LoadedClassifierFields = Pick<LoadedClassifier, 'crop' | 'phases' | 'highIndex' | 'threshold'>;

function checkLocalizerContract(file: string, m: ModelManifest): Pick<LoadedLocalizer, 'localizer' | 'phases'> {
  const spec = m.preprocessing.localizer ?? fail(file, 'a localizer manifest needs preprocessing.localizer');
  const phases = m.preprocessing.phases;
  if (phases.length !== 2 || !phases.includes('arterial') || !phases.includes('venous')) {
    fail(file, `a localizer takes both phases as channels: preprocessing.phases must hold arterial and venous once each, got [${phases.join(', ')}]`);
  }
  const channels = phases.length;
  const [gx, gy, gz] = spec.gridSize;
  const input = tensor(m, 'inputs', 'volume') ?? fail(file, 'no input named "volume"');
  const output = tensor(m, 'outputs', 'probability') ?? fail(file, 'no output named "probability"');
  // The grid is [x, y, z] in the spec and [Z, Y, X] in the tensor; a symbolic axis accepts any size.
  const fits = (shape: Array<number | string>): boolean =>
    shape.length === 5 && shape[1] === channels && [gz, gy, gx].every((n, a) => typeof shape[a + 2] === 'string' || shape[a + 2] === n);
  if (input.dtype !== 'float32' || !fits(input.shape)) fail(file, `input "volume" must be float32 [batch, ${channels}, ${gz}, ${gy}, ${gx}] to fit preprocessing.phases and preprocessing.localizer.gridSize, got ${input.dtype} ${formatShape(input.shape)}`);
  if (!fits(output.shape)) fail(file, `output "probability" must be [batch, ${channels}, ${gz}, ${gy}, ${gx}], got ${formatShape(output.shape)}`);
  const shifts = spec.averageShifts ?? [[0, 0, 0]];
  if (shifts.length > 1 && typeof input.shape[0] !== 'string' && input.shape[0] !== shifts.length) {
    fail(file, `preprocessing.localizer.averageShifts names ${shifts.length} shifts, run as one batch, but input "volume" has a fixed batch of ${input.shape[0]}`);
  }
  if (shifts.some((shift) => shift.some((s, a) => Math.abs(s) >= spec.gridSize[a]))) fail(file, 'preprocessing.localizer.averageShifts: a shift is as large as the grid');
  return { localizer: spec, phases };
}

function sessionOptions(options: ModelRuntimeOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    executionProviders: [options.executionProvider],
    graphOptimizationLevel: 'all',
  };
}

/** Reads and checks a manifest and its ONNX file, then opens the session and checks its I/O. */
export async function loadModel(dir: string, name: string, kind: ModelManifest['kind'], options: ModelRuntimeOptions): Promise<LoadedModel> {
  const started = performance.now();
  const manifestPath = path.resolve(dir, `${name}.json`);
  if (!existsSync(manifestPath)) fail(manifestPath, 'manifest not found (models.dir and the model names are in the configuration)');
  let manifest: ModelManifest;
  try {
    manifest = parseModelManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (err) {
    fail(manifestPath, `invalid manifest: ${(err as Error).message}`);
  }
  if (manifest.kind !== kind) fail(manifestPath, `is a ${manifest.kind}, expected a ${kind}`);
  const onnxPath = path.resolve(path.dirname(manifestPath), manifest.file);
  if (!existsSync(onnxPath)) fail(onnxPath, `ONNX file not found (named by ${manifestPath})`);
  const bytes = readFileSync(onnxPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.sha256) fail(onnxPath, `sha256 is ${sha256}, the manifest ${manifestPath} says ${manifest.sha256}`);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions(options));
  } catch (err) {
    const hint = options.executionProvider === 'cuda' ? ' (the CUDA execution provider needs the onnxruntime-node GPU add-on and a GPU; set models.executionProvider to "cpu")' : '';
    fail(onnxPath, `onnxruntime cannot load it: ${(err as Error).message}${hint}`);
  }
  try {
    checkTensors(onnxPath, 'input', manifest.inputs, session.inputMetadata);
    checkTensors(onnxPath, 'output', manifest.outputs, session.outputMetadata);
  } catch (err) {
    await session.release();
    throw err;
  }
  return {
    manifest,
    identity: { name: manifest.name, version: manifest.version, sha256 },
    session,
    onnxPath,
    loadMs: performance.now() - started,
  };
}

export async function loadClassifier(dir: string, name: string, options: ModelRuntimeOptions): Promise<LoadedClassifier> {
  const model = await loadModel(dir, name, 'classifier', options);
  try {
    return { ...model, ...checkClassifierContract(model.onnxPath, model.manifest) };
  } catch (err) {
    await model.session.release();
    throw err;
  }
}

export async function loadLocalizer(dir: string, name: string, options: ModelRuntimeOptions): Promise<LoadedLocalizer> {
  const model = await loadModel(dir, name, 'localizer', options);
  try {
    return { ...model, ...checkLocalizerContract(model.onnxPath, model.manifest) };
  } catch (err) {
    await model.session.release();
    throw err;
  }
}

/** The models the node serves with: the fused classifier and the localiser. */
export interface NodeModels {
  classifier: LoadedClassifier;
  localizer: LoadedLocalizer;
}

export interface ModelsConfig extends ModelRuntimeOptions {
  dir: string;
  classifier: string;
  localizer: string;
}

/** Loads the node's models from `config.models`, once; a ConfigError when anything does not match. */
export async function loadNodeModels(config: ModelsConfig): Promise<NodeModels> {
  const localizer = await loadLocalizer(config.dir, config.localizer, config);
  try {
    const classifier = await loadClassifier(config.dir, config.classifier, config);
    if (classifier.phases.length !== 2 || !classifier.phases.includes('arterial') || !classifier.phases.includes('venous')) {
      await classifier.session.release();
      fail(classifier.onnxPath, `the node's classifier must take both phases, this one takes [${classifier.phases.join(', ')}]`);
    }
    return { classifier, localizer };
  } catch (err) {
    await localizer.session.release();
    throw err;
  }
}

/** Releases every session of a set of loaded models (at shutdown, or after a test). */
export async function releaseModels(models: { [name: string]: LoadedModel | undefined } | NodeModels): Promise<void> {
  for (const model of Object.values(models) as Array<LoadedModel | undefined>) if (model) await model.session.release();
}
