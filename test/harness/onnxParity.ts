/**
 * Checks a model-parity fixture written by the training kit (models/training/export.py):
 * onnxruntime-node runs each ONNX model on the fixture's inputs and must reproduce PyTorch's
 * outputs within the fixture's tolerance (1e-4).
 *
 * Fixture layout (parity.json beside binary files):
 * - inputs: uint8 q, gzip-compressed, value = q / 64 - 2 (exact in float32, so both sides see
 *   bit-identical inputs);
 * - outputs: float32 little-endian, whole; or, for a large grid, values at the indices of
 *   `indexFile` (uint32) plus the grid's max, argmax and sum.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';

export interface ParityInput {
  name: string;
  shape: number[];
  file: string;
  encoding: string;
}

export interface ParityOutput {
  name: string;
  shape: number[];
  file: string;
  indexFile?: string;
  max?: number;
  argmax?: number;
  sum?: number;
}

export interface ParityCase {
  case: string;
  /** ONNX file, relative to the fixture folder. */
  model: string;
  sha256: string;
  inputs: ParityInput[];
  outputs: ParityOutput[];
}

export interface ParityFixture {
  schema: 'tsr-node/model-parity@1';
  tolerance: number;
  note: string;
  cases: ParityCase[];
}

export interface OutputComparison {
  name: string;
  compared: number;
  maxAbsDiff: number;
  /** Set for sampled outputs: |ORT value at PyTorch's argmax - PyTorch's max|, |sum difference|. */
  peakDiff?: number;
  sumDiff?: number;
}

export interface CaseComparison {
  case: string;
  modelPath: string;
  sha256: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  outputs: OutputComparison[];
  /** The outputs themselves, for property checks (ranges, sums). */
  values: Record<string, Float32Array>;
}

export function readParityFixture(dir: string): ParityFixture {
  const fixture = JSON.parse(readFileSync(path.join(dir, 'parity.json'), 'utf8')) as ParityFixture;
  if (fixture.schema !== 'tsr-node/model-parity@1') throw new Error(`${dir}/parity.json: unknown schema ${String(fixture.schema)}`);
  return fixture;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function float32File(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

function uint32File(file: string): Uint32Array {
  const b = readFileSync(file);
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(i * 4);
  return out;
}

export function dequantise(file: string, count: number): Float32Array {
  const q = gunzipSync(readFileSync(file));
  if (q.length !== count) throw new Error(`${file}: ${q.length} values, expected ${count}`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = q[i] / 64 - 2;
  return out;
}

export const product = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Runs one case through onnxruntime-node and measures the differences from PyTorch's outputs. */
export async function compareCase(dir: string, c: ParityCase): Promise<CaseComparison> {
  const modelPath = path.resolve(dir, c.model);
  const sha256 = sha256File(modelPath);
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of c.inputs) {
      feeds[input.name] = new ort.Tensor('float32', dequantise(path.join(dir, input.file), product(input.shape)), input.shape);
    }
    const result = await session.run(feeds);
    const outputs: OutputComparison[] = [];
    const values: Record<string, Float32Array> = {};
    for (const spec of c.outputs) {
      const tensor = result[spec.name];
      if (!tensor) throw new Error(`${c.case}: onnxruntime gave no output ${spec.name}`);
      if (JSON.stringify(tensor.dims) !== JSON.stringify(spec.shape)) {
        throw new Error(`${c.case}: ${spec.name} has dims ${JSON.stringify(tensor.dims)}, PyTorch gave ${JSON.stringify(spec.shape)}`);
      }
      const got = tensor.data as Float32Array;
      values[spec.name] = got;
      const expected = float32File(path.join(dir, spec.file));
      const index = spec.indexFile ? uint32File(path.join(dir, spec.indexFile)) : undefined;
      let maxAbsDiff = 0;
      for (let i = 0; i < expected.length; i++) {
        const at = index ? index[i] : i;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[at] - expected[i]));
      }
      const comparison: OutputComparison = { name: spec.name, compared: expected.length, maxAbsDiff };
      if (index && spec.max !== undefined && spec.argmax !== undefined && spec.sum !== undefined) {
        let sum = 0;
        for (let i = 0; i < got.length; i++) sum += got[i];
        comparison.peakDiff = Math.abs(got[spec.argmax] - spec.max);
        comparison.sumDiff = Math.abs(sum - spec.sum);
      }
      outputs.push(comparison);
    }
    return { case: c.case, modelPath, sha256, inputNames: session.inputNames, outputNames: session.outputNames, outputs, values };
  } finally {
    await session.release();
  }
}
