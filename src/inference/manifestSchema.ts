/**
 * Runtime validation of a model manifest (the type is src/inference/manifest.ts). A manifest is
 * read from disk, so every field is checked before the node trusts it.
 */
import { z } from 'zod';
import { LOCALISATION_FEATURES, type ModelManifest } from './manifest';

const phase = z.enum(['arterial', 'venous']);
const window = z.object({ low: z.number(), high: z.number() }).refine((w) => w.high > w.low, 'high must exceed low');
const normalisation = z.object({ mean: z.number(), std: z.number().positive() });

export const cropSpecSchema = z.object({
  fieldOfViewMm: z.number().positive(),
  sizePx: z.number().int().positive(),
  sliceOffsetsMm: z.array(z.number()).min(1),
  huWindow: window,
  normalisation,
  outsideHu: z.number(),
  averageShifts: z.array(z.tuple([z.number().int(), z.number().int()])).min(1).max(16).optional(),
});

const gridFields = {
  voxelMm: z.number().positive(),
  gridSize: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  huWindow: window,
  normalisation,
  outsideHu: z.number(),
};

const probability = z.number().min(0).max(1);

export const roiSpecSchema = z.object({
  centredOn: z.literal('pancreas'),
  pancreasModel: z.object({ name: z.string().min(1), version: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256') }),
  candidateLevel: z.number().gt(0).max(1),
  minPancreasOverlap: probability,
  pancreasDilationMm: z.number().nonnegative(),
  maxPhaseDistanceMm: z.number().positive(),
});

export const confidenceSpecSchema = z
  .object({
    features: z.array(z.enum(LOCALISATION_FEATURES)).min(1),
    weights: z.array(z.number()),
    intercept: z.number(),
    fittedOn: z.string(),
  })
  .refine((c) => c.weights.length === c.features.length, 'weights must hold one number per feature')
  .refine((c) => new Set(c.features).size === c.features.length, 'a feature is named twice');

export const localizerSpecSchema = z.object({
  ...gridFields,
  minConfidence: probability,
  averageShifts: z.array(z.tuple([z.number().int(), z.number().int(), z.number().int()])).min(1).max(8).optional(),
  roi: roiSpecSchema.optional(),
  confidence: confidenceSpecSchema.optional(),
});

export const pancreasSpecSchema = z.object({
  ...gridFields,
  threshold: z.number().gt(0).lt(1),
  minVolumeMl: z.number().nonnegative(),
});

const tensorSpec = z.object({
  name: z.string().min(1),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
  dtype: z.enum(['float32', 'int64', 'uint8']),
});

export const modelManifestSchema = z.object({
  schema: z.literal('tsr-node/model-manifest@1'),
  name: z.string().min(1),
  version: z.string().min(1),
  kind: z.enum(['classifier', 'localizer', 'pancreas']),
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256'),
  opset: z.number().int().positive(),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
  preprocessing: z.object({
    phases: z.array(phase).min(1),
    crop: cropSpecSchema.optional(),
    localizer: localizerSpecSchema.optional(),
    pancreas: pancreasSpecSchema.optional(),
  }),
  classLabels: z.array(z.string()).optional(),
  threshold: z.number().min(0).max(1).optional(),
  labelDefinition: z.string().optional(),
  trainedOn: z.string(),
  intendedUse: z.string(),
  metrics: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
  createdAt: z.string(),
});

/** Parses a manifest; throws with every problem listed (zod's message). */
export function parseModelManifest(value: unknown): ModelManifest {
  const parsed = modelManifestSchema.loose().safeParse(value);
  if (!parsed.success) throw new Error(z.prettifyError(parsed.error));
  return parsed.data;
}
