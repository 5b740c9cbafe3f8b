/**
 * The DICOM data dictionary entries the node uses, defined once: attribute tags in the DICOM JSON
 * form (eight upper-case hex digits, PS3.18 F.2), SOP classes and transfer syntaxes (PS3.6).
 * Add an entry here rather than a local constant.
 */

/** Attribute tags by keyword (camelCase of the PS3.6 keyword). */
export const TAG = {
  transferSyntaxUID: '00020010',
  imageType: '00080008',
  sopClassUID: '00080016',
  sopInstanceUID: '00080018',
  studyTime: '00080030',
  seriesTime: '00080031',
  acquisitionTime: '00080032',
  acquisitionDateTime: '0008002A',
  modality: '00080060',
  manufacturer: '00080070',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  referencedSopClassUID: '00081150',
  referencedSopInstanceUID: '00081155',
  retrieveURL: '00081190',
  warningReason: '00081196',
  failureReason: '00081197',
  failedSopSequence: '00081198',
  referencedSopSequence: '00081199',
  contrastBolusAgent: '00180010',
  contrastBolusAgentSequence: '00180012',
  bodyPartExamined: '00180015',
  sliceThickness: '00180050',
  spacingBetweenSlices: '00180088',
  protocolName: '00181030',
  contrastBolusRoute: '00181040',
  contrastBolusStartTime: '00181042',
  gantryDetectorTilt: '00181120',
  convolutionKernel: '00181210',
  studyInstanceUID: '0020000D',
  seriesInstanceUID: '0020000E',
  seriesNumber: '00200011',
  acquisitionNumber: '00200012',
  instanceNumber: '00200013',
  imagePositionPatient: '00200032',
  imageOrientationPatient: '00200037',
  frameOfReferenceUID: '00200052',
  positionReferenceIndicator: '00201040',
  numberOfSeriesRelatedInstances: '00201209',
  planePositionSequence: '00209113',
  samplesPerPixel: '00280002',
  photometricInterpretation: '00280004',
  numberOfFrames: '00280008',
  rows: '00280010',
  columns: '00280011',
  pixelSpacing: '00280030',
  bitsAllocated: '00280100',
  bitsStored: '00280101',
  highBit: '00280102',
  pixelRepresentation: '00280103',
  pixelPaddingValue: '00280120',
  pixelPaddingRangeLimit: '00280121',
  rescaleIntercept: '00281052',
  rescaleSlope: '00281053',
  segmentIdentificationSequence: '0062000A',
  referencedSegmentNumber: '0062000B',
  sharedFunctionalGroups: '52009229',
  perFrameFunctionalGroups: '52009230',
  pixelData: '7FE00010',
  item: 'FFFEE000',
  itemDelimitationItem: 'FFFEE00D',
  sequenceDelimitationItem: 'FFFEE0DD',
} as const;

/** SOP Class UIDs (PS3.6 Annex A). */
export const SOP_CLASS = {
  ctImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  enhancedCtImageStorage: '1.2.840.10008.5.1.4.1.1.2.1',
  secondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
  segmentationStorage: '1.2.840.10008.5.1.4.1.1.66.4',
  comprehensive3dSrStorage: '1.2.840.10008.5.1.4.1.1.88.34',
  xRayRadiationDoseSrStorage: '1.2.840.10008.5.1.4.1.1.88.67',
} as const;

/** Transfer Syntax UIDs (PS3.6 Annex A). */
export const TRANSFER_SYNTAX = {
  implicitVrLittleEndian: '1.2.840.10008.1.2',
  explicitVrLittleEndian: '1.2.840.10008.1.2.1',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
} as const;
