/**
 * The node's SEG: the tumour found by the localiser, as a segment on the portal-venous series'
 * own frames (segmentFrames.ts), in a BINARY Segmentation (segmentation.ts).
 *
 * With a two-stage localiser the pancreas its first stage found is segment 2
 * (pancreasSegmentation.ts); a single-stage localiser's SEG has the tumour only.
 */
import type { TsrAnalysis } from '../../inference/result';
import { CODES } from '../codes';
import type { ResultObjectOptions } from '../commonModules';
import type { NaturalizedDataset } from '../part10';
import { TUMOUR_TRACKING_IDENTIFIER } from '../resultText';
import { pancreasSegment } from './pancreasSegmentation';
import { buildSegmentation, type SegmentationSource, type SegmentDefinition } from './segmentation';
import { tumourSegmentFrames } from './segmentFrames';

/** The tumour segment's number in the SEG (its place in the segment list). */
export const TUMOUR_SEGMENT_NUMBER = 1;

/** The tumour segment's display colour: the green of the SC's outline. */
const TUMOUR_COLOUR: [number, number, number] = [0, 255, 102];

/** The portal-venous series as the SEG's source: its images, in volume order, and their grid. */
export function venousSource(analysis: TsrAnalysis): SegmentationSource {
  const venous = analysis.venous;
  return {
    seriesInstanceUID: venous.seriesInstanceUID,
    sopClassUID: venous.sopClassUID,
    sopInstanceUIDs: venous.sourceSopInstanceUIDs,
    geometry: venous.volumeGeometry,
  };
}

/**
 * The segment's description, true for the localiser that found it. Single-stage: the component of
 * the localiser's 4 mm whole-volume map at half its peak (tumourFinding.ts). Two-stage (a pancreas
 * stage in the set): the candidate the decision chose, the component of stage 2's map on the
 * region around the pancreas at the manifest's roi.candidateLevel (cascadeLocalisation.ts);
 * `analysis.tumourLocalisation.level` holds either level.
 */
export function tumourSegmentDescription(analysis: TsrAnalysis): string {
  if (!analysis.models.some((model) => model.role === 'pancreas')) {
    return 'Pancreatic tumour: the localiser component at half its peak probability (portal-venous phase)';
  }
  return (
    `Pancreatic tumour: the candidate chosen by the two-stage localiser, its component at probability ${analysis.tumourLocalisation.level} ` +
    'or above in the region around the pancreas (portal-venous phase)'
  );
}

/** The tumour as the localiser delimits it, with the model set's localiser as its algorithm. */
export function tumourSegment(analysis: TsrAnalysis, trackingUID: string): SegmentDefinition {
  const localiser = analysis.models.find((model) => model.role === 'localizer');
  if (!localiser) throw new RangeError('analysis.models: no localiser stage, the model that delimits the tumour');
  return {
    label: 'Tumour',
    description: tumourSegmentDescription(analysis),
    category: CODES.morphologicallyAbnormalStructure,
    type: CODES.neoplasmPrimary,
    anatomicRegion: CODES.pancreas,
    algorithm: {
      name: localiser.name,
      version: localiser.version,
      family: CODES.artificialIntelligence,
      // The model set, as the SR names it: each stage by role, name, version and hash.
      parameters: [...analysis.models.map((model) => `${model.role}=${model.name} ${model.version} sha256=${model.sha256}`), `level=${analysis.tumourLocalisation.level}`],
    },
    displayColour: TUMOUR_COLOUR,
    // The SR's measurement group tracks the same finding (Tracking Identifier and UID).
    tracking: { id: TUMOUR_TRACKING_IDENTIFIER, uid: trackingUID },
    frames: tumourSegmentFrames(analysis.tumourLocalisation, analysis.venous.volumeGeometry),
  };
}

/** The SEG of an analysis: the tumour segment on the portal-venous series, and the pancreas with a two-stage localiser. */
export function buildTumourSegmentation(options: ResultObjectOptions): NaturalizedDataset {
  const pancreas = pancreasSegment(options.analysis);
  return buildSegmentation({
    ...options,
    source: venousSource(options.analysis),
    segments: [tumourSegment(options.analysis, options.identity.trackingUID), ...(pancreas ? [pancreas] : [])],
    contentLabel: 'TUMOUR',
    contentDescription: pancreas ? 'Tumour and pancreas, two-stage localiser (research use only)' : 'Tumour found by the localiser (research use only)',
  });
}
