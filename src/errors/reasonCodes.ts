/**
 * Every reason code with which the node refuses a study (AnalysisRefusedError, job state
 * `skipped`), in one place: the type keeps the code honest (an unknown code does not compile),
 * and a test keeps docs/admin-guide.md listing them all. Codes are a contract: administrators
 * filter jobs and alert on them, so rename one only with a note in the admin guide.
 */
export const REASON_CODES = {
  // The study as a whole (phase selection, docs/phase-selection.md)
  'study-not-found': 'the PACS has no series for the study (deleted, or not visible to the node)',
  'no-ct-series': 'the study has no CT series',
  'no-contrast-series': 'every CT series is non-contrast',
  'localizer-only': 'the study holds only localizer (scout) images',
  'single-phase': 'only one of the two phases was found (the other may still be on its way: see StableAge)',
  'ambiguous-phases': 'descriptions, timing and image evidence contradict each other',
  'phase-undetermined': 'no description, timing or image evidence gives the phase',
  'mixed-frame-of-reference': 'the two phases do not share one FrameOfReferenceUID',
  'no-usable-series': 'no CT series passes the selection gates',
  'not-analyzable': 'the selection refused the study without a more specific code',
  // A candidate series failed a selection gate (selection.limits and patterns)
  'not-ct': 'the series is not CT',
  'non-contrast': 'the series is non-contrast',
  'delayed-phase': 'the series is a delayed phase',
  'dose-report': 'the series is a dose report or screen capture',
  localizer: 'the series is a localizer (scout)',
  'too-few-slices': 'fewer slices than selection.limits.minSlices',
  'too-thick': 'slices thicker than selection.limits.maxSliceThicknessMm',
  'not-axial': 'the series is not axial',
  'derived-reformat': 'a derived reformat (MPR, MIP, coronal or sagittal), not an original axial acquisition',
  'wrong-body-part': 'BodyPartExamined names another region (e.g. head)',
  'unsupported-sop-class': 'not CT Image Storage',
  'phase-ambiguous': 'the series description and timing disagree',
  'phase-contradictory': 'the series evidence points to both phases',
  // The chosen series as a volume (assembly)
  'no-instances': 'the series has no instances',
  'mixed-series': 'instances of several series were given as one volume',
  'missing-geometry': 'ImagePositionPatient, ImageOrientationPatient or PixelSpacing is missing',
  'invalid-orientation': 'ImageOrientationPatient is not two orthogonal unit vectors',
  'mixed-orientations': 'the slices do not share one orientation',
  'mixed-image-size': 'the slices do not share one size (Rows, Columns) or pixel spacing',
  'implausible-image-size': 'Rows or Columns not a whole number from 1 to 4096, or a volume above 2^30 voxels: no CT series is that size, so a header is damaged',
  'duplicate-slices': 'two slices at the same position',
  'gantry-tilt': 'positions do not run along the slice normal (tilted gantry)',
  'slice-gap': 'a slice is missing',
  'uneven-spacing': 'slice spacing is not uniform',
  'missing-instances': 'fewer instances arrived than the metadata listed',
  'unexpected-instance': 'an instance arrived that the metadata did not list',
  'instance-mismatch': 'an instance differs from its metadata (size, pixel spacing, orientation or position)',
  'duplicate-instance': 'the same instance arrived twice',
  // One instance (decoding)
  'not-part10': 'a retrieved part is not a DICOM Part-10 object',
  'invalid-dicom': 'the instance cannot be parsed',
  'truncated-instance': 'the instance ends early',
  'truncated-pixel-data': 'the pixel data ends early, or holds fewer bytes than Rows, Columns and BitsAllocated say',
  'pixel-data-length-mismatch': 'the pixel data holds more bytes than Rows, Columns, SamplesPerPixel, BitsAllocated and NumberOfFrames say (the header does not describe the data)',
  'corrupt-pixel-data': 'compressed pixel data that does not decode',
  'no-pixel-data': 'the instance has no pixel data',
  'unsupported-transfer-syntax': 'an encoding the node does not decode (e.g. JPEG-LS, RLE, big endian) and the PACS did not transcode',
  'unsupported-pixel-format': 'bits allocated/stored or samples per pixel the node does not read',
  'bits-stored-exceed-allocated': 'BitsStored is larger than BitsAllocated',
  'high-bit-mismatch': 'HighBit is not BitsStored - 1, as the CT Image module requires: the stored bits would be read from the wrong place',
  'implausible-rescale': 'RescaleSlope or RescaleIntercept missing or not a number, a slope not above 0 or above 10, or stored values that after rescale cannot reach from air (-1000 HU) to +1000 HU',
  'enhanced-multiframe-unsupported': 'Enhanced (multi-frame) CT is not read',
  'series-not-found': 'the chosen series vanished from the PACS',
  'study-mismatch': 'a series belongs to another study',
  // Localisation (the model)
  'series-from-different-studies': 'the two phases come from different studies',
  'frame-of-reference-mismatch': 'the tumour position cannot be carried from one phase to the other',
  'tumour-not-found': 'the localiser found no tumour with confidence (no guess goes into the PACS)',
  'pancreas-not-found': 'the pancreas model (first stage of the two-stage localiser) found no pancreas, so there was no region to search for the tumour',
  'finding-outside-pancreas': 'the tumour model found something, but not in or on the pancreas (often a vessel or bowel loop): no result rather than a wrong place',
  'phases-disagree': 'the tumour lies too far apart in the arterial and venous images to be one finding (preprocessing.localizer.roi.maxPhaseDistanceMm)',
  'tumour-not-localised': 'the localiser response is diffuse, not one tumour',
  'tumour-outside-arterial-volume': 'the tumour lies outside the arterial series',
  // Dataset builder only (tsr-node dataset build, docs/dataset-builder.md)
  'no-label': 'the labels file has no label for the study',
  'no-ground-truth': 'a synthetic study folder has no ground-truth.json',
  'no-centre': 'no tumour centre given and no localiser configured',
  'label-mismatch': 'the labels file and the ground truth disagree',
  'held-out-seed': 'a synthetic seed reserved for evaluation, never for training',
} as const satisfies Record<string, string>;

export type ReasonCode = keyof typeof REASON_CODES;

/** Codes only the dataset builder uses; a node job never ends with them. */
export const DATASET_ONLY_REASON_CODES: readonly ReasonCode[] = ['no-label', 'no-ground-truth', 'no-centre', 'label-mismatch', 'held-out-seed'];

export function isReasonCode(code: string): code is ReasonCode {
  return Object.prototype.hasOwnProperty.call(REASON_CODES, code);
}
