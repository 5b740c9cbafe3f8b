/**
 * One call from an analysis to the two Part 10 objects that go back to the PACS: the TID 1500 SR
 * and the overlay SC, with their deterministic identity. Pure (the clock is an argument).
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { DicomJson } from '../dicomweb/dicomJson';
import type { TsrAnalysis } from '../inference/result';
import type { Logger } from '../logging/logger';
import type { DeviceIdentity } from './device';
import { writePart10 } from './part10';
import { renderTsrOverlay } from './sc/overlayImage';
import { buildTsrOverlaySecondaryCapture } from './sc/tsrOverlaySecondaryCapture';
import { buildTsrStructuredReport } from './sr/tsrStructuredReport';
import { resultIdentity, type ResultIdentity } from './uids';

export interface ResultObject {
  role: 'sr' | 'sc';
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
  now: Date;
  /** Panel side of the overlay, px (default 512). */
  overlayPanelSize?: number;
  /** Gets one warn line per object whose copied source values were made valid for their VR (no values). */
  logger?: Logger;
}

export interface TsrResults {
  identity: ResultIdentity;
  sr: ResultObject;
  sc: ResultObject;
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
  const srDataset = buildTsrStructuredReport({ ...common, seriesDescription: o.srSeriesDescription });
  const overlay = renderTsrOverlay({ analysis: o.analysis, now: o.now, ...(o.overlayPanelSize ? { panelSize: o.overlayPanelSize } : {}) });
  const scDataset = buildTsrOverlaySecondaryCapture({ ...common, image: overlay, seriesDescription: o.scSeriesDescription });
  return {
    identity,
    sr: { role: 'sr', sopClassUID: SOP_CLASS.comprehensive3dSrStorage, sopInstanceUID: identity.srSopInstanceUID, seriesInstanceUID: identity.srSeriesInstanceUID, part10: writePart10(srDataset) },
    sc: { role: 'sc', sopClassUID: SOP_CLASS.secondaryCaptureImageStorage, sopInstanceUID: identity.scSopInstanceUID, seriesInstanceUID: identity.scSeriesInstanceUID, part10: writePart10(scDataset) },
  };
}
