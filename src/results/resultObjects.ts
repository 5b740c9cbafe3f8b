/**
 * One call from an analysis to the three Part 10 objects that go back to the PACS: the TID 1500
 * SR, the overlay SC and the tumour's SEG, with their deterministic identity. Pure (the clock is
 * an argument).
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { DicomJson } from '../dicomweb/dicomJson';
import type { TsrAnalysis } from '../inference/result';
import type { Logger } from '../logging/logger';
import type { DeviceIdentity } from './device';
import { writePart10 } from './part10';
import { renderTsrOverlay } from './sc/overlayImage';
import { TUMOUR_SEGMENT_NUMBER, buildTumourSegmentation } from './seg/tumourSegmentation';
import { buildTsrOverlaySecondaryCapture } from './sc/tsrOverlaySecondaryCapture';
import { buildTsrStructuredReport, type PredecessorDocument } from './sr/tsrStructuredReport';
import { resultIdentity, type ResultIdentity } from './uids';

export interface ResultObject {
  role: 'sr' | 'sc' | 'seg';
  sopClassUID: string;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  part10: Uint8Array;
}

export interface TsrResultsOptions {
  analysis: TsrAnalysis;
  /** WADO-RS metadata of one source instance per phase (the key slice's is best). */
  sourceMetadata: { arterial: DicomJson; venous: DicomJson };
  device: DeviceIdentity;
  /** config results.srSeriesDescription / results.scSeriesDescription */
  srSeriesDescription: string;
  scSeriesDescription: string;
  /** The SEG's Series Description; default DEFAULT_SEG_SERIES_DESCRIPTION. */
  segSeriesDescription?: string;
  now: Date;
  /** Panel side of the overlay, px (default 512). */
  overlayPanelSize?: number;
  /** Gets one warn line per object whose copied source values were made valid for their VR (no values). */
  logger?: Logger;
  /**
   * The node's earlier SR of this study that these results supersede, or a function that picks it
   * once the results' identity is known (their SR UID); the new SR lists it as its predecessor.
   */
  predecessor?: PredecessorDocument | ((identity: ResultIdentity) => PredecessorDocument | undefined);
}

export interface TsrResults {
  identity: ResultIdentity;
  /** The earlier SR these results supersede (the SR's Predecessor Documents Sequence), when there is one. */
  predecessor?: PredecessorDocument;
  sr: ResultObject;
  sc: ResultObject;
  seg: ResultObject;
}

export const DEFAULT_SEG_SERIES_DESCRIPTION = 'TSR AI tumour segmentation (research use)';

/** Every result object, in the order they are stored. */
export function resultObjectsOf(results: TsrResults): ResultObject[] {
  return [results.sr, results.sc, results.seg];
}

/** The identity of an analysis's results: its study, every source instance, every model of the set. */
export function identityOf(analysis: TsrAnalysis): ResultIdentity {
  return resultIdentity({
    studyInstanceUID: analysis.studyInstanceUID,
    inputSopInstanceUIDs: [...analysis.arterial.sourceSopInstanceUIDs, ...analysis.venous.sourceSopInstanceUIDs],
    modelSha256s: analysis.models.map((model) => model.sha256),
  });
}

export function buildTsrResults(o: TsrResultsOptions): TsrResults {
  const identity = identityOf(o.analysis);
  const common = { analysis: o.analysis, sourceMetadata: o.sourceMetadata, identity, device: o.device, now: o.now, ...(o.logger ? { logger: o.logger } : {}) };
  // The SR points at the SEG's tumour segment by the SEG's UID, known before the SEG is built.
  const tumourSegment = { segmentation: { sopClassUID: SOP_CLASS.segmentationStorage, sopInstanceUID: identity.segSopInstanceUID }, segmentNumber: TUMOUR_SEGMENT_NUMBER };
  const predecessor = typeof o.predecessor === 'function' ? o.predecessor(identity) : o.predecessor;
  const srDataset = buildTsrStructuredReport({ ...common, seriesDescription: o.srSeriesDescription, tumourSegment, ...(predecessor ? { predecessor } : {}) });
  const overlay = renderTsrOverlay({ analysis: o.analysis, now: o.now, ...(o.overlayPanelSize ? { panelSize: o.overlayPanelSize } : {}) });
  const scDataset = buildTsrOverlaySecondaryCapture({ ...common, image: overlay, seriesDescription: o.scSeriesDescription });
  const segDataset = buildTumourSegmentation({ ...common, seriesDescription: o.segSeriesDescription ?? DEFAULT_SEG_SERIES_DESCRIPTION });
  return {
    identity,
    ...(predecessor ? { predecessor } : {}),
    sr: { role: 'sr', sopClassUID: SOP_CLASS.comprehensive3dSrStorage, sopInstanceUID: identity.srSopInstanceUID, seriesInstanceUID: identity.srSeriesInstanceUID, part10: writePart10(srDataset) },
    sc: { role: 'sc', sopClassUID: SOP_CLASS.secondaryCaptureImageStorage, sopInstanceUID: identity.scSopInstanceUID, seriesInstanceUID: identity.scSeriesInstanceUID, part10: writePart10(scDataset) },
    seg: { role: 'seg', sopClassUID: SOP_CLASS.segmentationStorage, sopInstanceUID: identity.segSopInstanceUID, seriesInstanceUID: identity.segSeriesInstanceUID, part10: writePart10(segDataset) },
  };
}
