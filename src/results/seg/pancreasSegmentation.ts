/**
 * The SEG's pancreas segment, present only with a two-stage localiser: the cascade's stage-1
 * pancreas (TsrAnalysis.pancreasLocalisation, the mask on the coarse whole-volume grid) on the
 * portal-venous series' own frames (segmentFrames.ts).
 *
 * Why stage 1: it is the mask the analysis keeps, and it covers the whole gland. Stage 2's pancreas
 * is finer (2 mm) but only on the region of interest around the ROI centre, which may cut the
 * gland off, and the analysis does not keep it.
 */
import type { TsrAnalysis } from '../../inference/result';
import { CODES } from '../codes';
import type { SegmentDefinition } from './segmentation';
import { pancreasSegmentFrames } from './segmentFrames';

/** The pancreas segment's number in the SEG, when there is one (after the tumour). */
export const PANCREAS_SEGMENT_NUMBER = 2;

/** The pancreas segment's display colour: amber, apart from the tumour's green. */
const PANCREAS_COLOUR: [number, number, number] = [255, 191, 0];

/**
 * The pancreas as the cascade's pancreas model found it, with that model as its algorithm;
 * undefined with a single-stage localiser (no pancreas mask) or when the mask falls between the
 * source's samples (no frame to draw it on).
 */
export function pancreasSegment(analysis: TsrAnalysis): SegmentDefinition | undefined {
  const pancreas = analysis.pancreasLocalisation;
  if (!pancreas) return undefined;
  const model = analysis.models.find((stage) => stage.role === 'pancreas');
  if (!model) throw new RangeError('analysis.models: a pancreas mask but no pancreas stage, the model that found it');
  const frames = pancreasSegmentFrames(pancreas, analysis.venous.volumeGeometry);
  if (frames.length === 0) return undefined;
  return {
    label: 'Pancreas',
    description: `Pancreas: the pancreas model's largest component at probability ${pancreas.level} or above (portal-venous phase)`,
    category: CODES.anatomicalStructure,
    type: CODES.pancreas,
    algorithm: {
      name: model.name,
      version: model.version,
      family: CODES.artificialIntelligence,
      parameters: [`pancreas=${model.name} ${model.version} sha256=${model.sha256}`, `level=${pancreas.level}`],
    },
    displayColour: PANCREAS_COLOUR,
    frames,
  };
}
