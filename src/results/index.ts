/** Results written back to the PACS: the TID 1500 SR, the overlay SC, the tumour SEG, their identity and storage. */
export { buildTsrResults, identityOf, resultObjectsOf, type ResultObject, type TsrResults, type TsrResultsOptions } from './resultObjects';
export { storeResults, findStoredResults, isTransientFailureReason, type StoreOutcome } from './store';
export { nodeDevice, type DeviceIdentity } from './device';
export { resultIdentity, type ResultIdentity } from './uids';
export { buildTsrStructuredReport, predecessorDocumentsSequence, type PredecessorDocument } from './sr/tsrStructuredReport';
export { buildTsrOverlaySecondaryCapture } from './sc/tsrOverlaySecondaryCapture';
export { buildSegmentation } from './seg/segmentation';
export { buildTumourSegmentation } from './seg/tumourSegmentation';
export { renderTsrOverlay } from './sc/overlayImage';
export { CODES, type Code } from './codes';
export { readPart10, writePart10 } from './part10';
