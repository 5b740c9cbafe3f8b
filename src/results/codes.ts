/**
 * Every coded concept the results use, defined once (value, coding scheme designator, meaning).
 *
 * Sources, checked for each code:
 * - DCM: PS3.16 Annex D (DICOM Controlled Terminology Definitions).
 * - SCT: SNOMED CT, as used by the PS3.16 context groups named beside each code.
 * - LN: LOINC, as listed in PS3.16 CID 100 "Quantitative Diagnostic Imaging Procedure".
 * - UCUM: units, PS3.16 CID 7181 / CID 7460 conventions.
 * - 99IHE: IHE Radiology "AI Results" (AIR) profile, Contributing Equipment purpose.
 * - 99TSRNODE: this product's private coding scheme, declared in every object that uses it
 *   (Coding Scheme Identification Sequence, PS3.3 C.12.1.1.2).
 */

/** A coded concept (PS3.3 Table 8.8-1 "Code Sequence Macro"). */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
  schemeVersion?: string;
}

/** The private coding scheme of tsr-node (a designator beginning "99" is private, PS3.16 8.2). */
export const PRIVATE_SCHEME = {
  designator: '99TSRNODE',
  name: 'tsr-node private codes',
  responsibleOrganization: 'tsr-node project',
} as const;

/** IHE AIR's own private designator for the Contributing Equipment purpose code. */
export const IHE_SCHEME = {
  designator: '99IHE',
  name: 'IHE private codes',
  responsibleOrganization: 'IHE',
} as const;

export const CODES = {
  // --- TID 1500 Measurement Report (PS3.16 A, DCM) ---
  imagingMeasurementReport: { value: '126000', scheme: 'DCM', meaning: 'Imaging Measurement Report' },
  languageOfContent: { value: '121049', scheme: 'DCM', meaning: 'Language of Content Item and Descendants' },
  /** RFC 5646 language tag, as TID 1204 uses it. */
  englishUS: { value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' },
  procedureReported: { value: '121058', scheme: 'DCM', meaning: 'Procedure reported' },
  /** CID 100 "Quantitative Diagnostic Imaging Procedure". */
  ctUnspecifiedBodyRegion: { value: '25045-6', scheme: 'LN', meaning: 'CT unspecified body region' },
  imageLibrary: { value: '111028', scheme: 'DCM', meaning: 'Image Library' },
  imageLibraryGroup: { value: '126200', scheme: 'DCM', meaning: 'Image Library Group' },
  imagingMeasurements: { value: '126010', scheme: 'DCM', meaning: 'Imaging Measurements' },
  measurementGroup: { value: '125007', scheme: 'DCM', meaning: 'Measurement Group' },
  trackingIdentifier: { value: '112039', scheme: 'DCM', meaning: 'Tracking Identifier' },
  trackingUniqueIdentifier: { value: '112040', scheme: 'DCM', meaning: 'Tracking Unique Identifier' },
  findingCategory: { value: '276214006', scheme: 'SCT', meaning: 'Finding category' },
  finding: { value: '121071', scheme: 'DCM', meaning: 'Finding' },
  findingSite: { value: '363698007', scheme: 'SCT', meaning: 'Finding Site' },
  sourceOfMeasurement: { value: '121112', scheme: 'DCM', meaning: 'Source of Measurement' },

  // --- TID 1602 Image Library Entry Descriptors ---
  modality: { value: '121139', scheme: 'DCM', meaning: 'Modality' },
  /** CID 29 "Acquisition Modality". */
  computedTomography: { value: 'CT', scheme: 'DCM', meaning: 'Computed Tomography' },
  targetRegion: { value: '123014', scheme: 'DCM', meaning: 'Target Region' },
  /** CID 4031 "Common Anatomic Region". */
  abdomen: { value: '818981001', scheme: 'SCT', meaning: 'Abdomen' },
  frameOfReferenceUID: { value: '112227', scheme: 'DCM', meaning: 'Frame of Reference UID' },

  // --- TID 1002 / TID 1004 observer context: a device observer ---
  observerType: { value: '121005', scheme: 'DCM', meaning: 'Observer Type' },
  device: { value: '121007', scheme: 'DCM', meaning: 'Device' },
  deviceObserverUID: { value: '121012', scheme: 'DCM', meaning: 'Device Observer UID' },
  deviceObserverName: { value: '121013', scheme: 'DCM', meaning: 'Device Observer Name' },
  deviceObserverManufacturer: { value: '121014', scheme: 'DCM', meaning: 'Device Observer Manufacturer' },
  deviceObserverModelName: { value: '121015', scheme: 'DCM', meaning: 'Device Observer Model Name' },

  // --- TID 4019 Algorithm Identification ---
  algorithmFamily: { value: '111000', scheme: 'DCM', meaning: 'Algorithm Family' },
  algorithmName: { value: '111001', scheme: 'DCM', meaning: 'Algorithm Name' },
  algorithmParameters: { value: '111002', scheme: 'DCM', meaning: 'Algorithm Parameters' },
  algorithmVersion: { value: '111003', scheme: 'DCM', meaning: 'Algorithm Version' },
  /** CID 7162 "Surface Processing Algorithm Family" (used for TID 4019's family). */
  artificialIntelligence: { value: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' },

  // --- The finding (SCT) ---
  /** CID 7150 "Segmentation Property Category" (the categories TID 1501 uses too). */
  morphologicallyAbnormalStructure: { value: '49755003', scheme: 'SCT', meaning: 'Morphologically Abnormal Structure' },
  /** PS3.16 CID 639 lists it with this meaning; the ductal type is the one the model was built for. */
  adenocarcinomaOfPancreas: { value: '700423003', scheme: 'SCT', meaning: 'Adenocarcinoma of pancreas' },
  /**
   * CID 7159 "Lesion Segmentation Type" (within CID 7151 "Segmentation Property Type", through
   * CID 7194 for the category above): the SEG's tumour segment type.
   */
  neoplasmPrimary: { value: '372087000', scheme: 'SCT', meaning: 'Neoplasm, Primary' },
  /** CID 7150 "Segmentation Property Category": the SEG's pancreas segment (two-stage localiser). */
  anatomicalStructure: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' },
  /**
   * CID 4031 "Common Anatomic Region" (and CID 4 "Anatomic Region", the SEG's anatomic region); also
   * the SEG's pancreas segment type (CID 7166 "Abdominal Organ", within CID 7151 through CID 7154).
   */
  pancreas: { value: '15776009', scheme: 'SCT', meaning: 'Pancreas' },
  /** CID 7470 "Linear Measurement". */
  diameter: { value: '81827009', scheme: 'SCT', meaning: 'Diameter' },

  // --- Units (UCUM) ---
  unitless: { value: '1', scheme: 'UCUM', meaning: 'no units' },
  millimetre: { value: 'mm', scheme: 'UCUM', meaning: 'millimeter' },

  /** TEXT concept of the result statement; OHIF shows TEXT "Comment" items of a measurement group as labels. */
  comment: { value: '121106', scheme: 'DCM', meaning: 'Comment' },

  // --- Images ---
  /** CID 7202 "Source Image Purpose of Reference". */
  sourceImageForProcessing: { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' },
  /** CID 7203 "Image Derivation": what the SEG's frames are of their source images. */
  segmentation: { value: '113076', scheme: 'DCM', meaning: 'Segmentation' },

  // --- TID 1411 rows: the SR's reference to the SEG's segment ---
  referencedSegment: { value: '121191', scheme: 'DCM', meaning: 'Referenced Segment' },
  sourceSeriesForSegmentation: { value: '121232', scheme: 'DCM', meaning: 'Source series for segmentation' },

  // --- IHE AIR: Contributing Equipment Sequence purpose ---
  processingAlgorithm: { value: 'Newcode1', scheme: IHE_SCHEME.designator, meaning: 'Processing Algorithm' },

  // --- Private (99TSRNODE) ---
  tumourStromaRatio: { value: 'TSR', scheme: PRIVATE_SCHEME.designator, meaning: 'Tumour-stroma ratio' },
  tsrLow: { value: 'TSR-LOW', scheme: PRIVATE_SCHEME.designator, meaning: 'Low tumour-stroma ratio' },
  tsrHigh: { value: 'TSR-HIGH', scheme: PRIVATE_SCHEME.designator, meaning: 'High tumour-stroma ratio' },
  probabilityOfHighTsr: { value: 'TSR-P-HIGH', scheme: PRIVATE_SCHEME.designator, meaning: 'Probability of high tumour-stroma ratio' },
  /**
   * The two-stage localiser's calibrated localisation confidence: the probability, fitted on
   * held-out studies, that the reported tumour centre lies inside the tumour (issue 20). Written
   * only when it is calibrated; a localiser's peak probability is not written under this code.
   */
  localisationConfidence: { value: 'TSR-LOC-CONF', scheme: PRIVATE_SCHEME.designator, meaning: 'Calibrated tumour localisation confidence' },
} as const satisfies Record<string, Code>;

/** Code Sequence Macro item (naturalized, dcmjs keywords). */
export function codeItem(code: Code): Record<string, string> {
  return {
    CodeValue: code.value,
    CodingSchemeDesignator: code.scheme,
    ...(code.schemeVersion ? { CodingSchemeVersion: code.schemeVersion } : {}),
    CodeMeaning: code.meaning,
  };
}

/** Coding Scheme Identification Sequence (0008,0110) items for the private schemes an object uses. */
export function codingSchemeIdentification(
  designators: string[] = [PRIVATE_SCHEME.designator, IHE_SCHEME.designator],
): Array<Record<string, string>> {
  return [PRIVATE_SCHEME, IHE_SCHEME].filter((s) => designators.includes(s.designator)).map((s) => ({
    CodingSchemeDesignator: s.designator,
    CodingSchemeName: s.name,
    CodingSchemeResponsibleOrganization: s.responsibleOrganization,
  }));
}
