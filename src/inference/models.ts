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
import type { ModelManifest } from './manifest';
import { parseModelManifest } from './manifestSchema';
import {
  checkClassifierContract,
  checkLocalizerContract,
  checkPancreasContract,
  checkTensors,
  fail,
  type LoadedClassifier,
  type LoadedLocalizer,
  type LoadedModel,
  type LoadedPancreas,
  type ModelRuntimeOptions,
} from './modelContracts';

export type { LoadedClassifier, LoadedLocalizer, LoadedModel, LoadedPancreas, ModelRuntimeOptions } from './modelContracts';

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

/**
 * Loads a model of one kind and checks it against what the node's code expects of that kind
 * (`checkContract` returns the fields the kind adds); the session is released on any refusal.
 */
async function loadCheckedModel<Fields>(
  dir: string,
  name: string,
  kind: ModelManifest['kind'],
  options: ModelRuntimeOptions,
  checkContract: (file: string, manifest: ModelManifest) => Fields,
): Promise<LoadedModel & Fields> {
  const model = await loadModel(dir, name, kind, options);
  try {
    return { ...model, ...checkContract(model.onnxPath, model.manifest) };
  } catch (err) {
    await model.session.release();
    throw err;
  }
}

export function loadClassifier(dir: string, name: string, options: ModelRuntimeOptions): Promise<LoadedClassifier> {
  return loadCheckedModel(dir, name, 'classifier', options, checkClassifierContract);
}

export function loadLocalizer(dir: string, name: string, options: ModelRuntimeOptions): Promise<LoadedLocalizer> {
  return loadCheckedModel(dir, name, 'localizer', options, checkLocalizerContract);
}

export function loadPancreas(dir: string, name: string, options: ModelRuntimeOptions): Promise<LoadedPancreas> {
  return loadCheckedModel(dir, name, 'pancreas', options, checkPancreasContract);
}

/** Releases every session of a set of loaded models (at shutdown, or after a test). */
export async function releaseModels(models: { [name: string]: LoadedModel | undefined }): Promise<void> {
  for (const model of Object.values(models)) if (model) await model.session.release();
}
