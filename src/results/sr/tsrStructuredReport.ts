/**
 * The TSR result as a Comprehensive 3D SR (PS3.3 A.35.13) holding a TID 1500 Measurement Report,
 * following IHE Radiology AI Results (AIR). A pure builder: typed options in, a naturalized
 * dataset out; the clock and the UIDs come in through the options.
 */
import { SOP_CLASS, TAG } from '../../dicom/dictionary';
import { jsonString } from '../../dicomweb/dicomJson';
import type { PhaseFinding, TsrAnalysis } from '../../inference/result';
import { CODES, IHE_SCHEME, PRIVATE_SCHEME } from '../codes';
import { checkSeriesDescription, commonModules, type ResultObjectOptions } from '../commonModules';
import { dicomDate, dicomTime } from '../dicomDateTime';
import type { NaturalizedDataset } from '../part10';
import { RESEARCH_USE_NOTICE, TUMOUR_TRACKING_IDENTIFIER, tsrShortResult } from '../resultText';
import { validSourceString } from '../validSourceValues';
import type { SopReference } from './contentItems';
import { tid1500MeasurementReport, tid1501MeasurementGroup, tid300Measurement, type ImageLibraryGroup, type ImageRegion } from './templates';

export interface TsrStructuredReportOptions extends ResultObjectOptions {
  /** The tumour's segment in the SEG written with the SR: the measurement group points at it. */
  tumourSegment?: { segmentation: SopReference; segmentNumber: number };
  /** The node's earlier SR of this study that this one supersedes: listed in Predecessor Documents Sequence. */
  predecessor?: PredecessorDocument;
}

/** An SR this one supersedes (PS3.3 C.17.2, Hierarchical SOP Instance Reference Macro, Table C.17-3). */
export interface PredecessorDocument extends SopReference {
  studyInstanceUID: string;
  seriesInstanceUID: string;
}

/** Predecessor Documents Sequence (0040,A360): one item per study, the predecessor's series and instance. */
export function predecessorDocumentsSequence(predecessor: PredecessorDocument): NaturalizedDataset[] {
  return [
    {
      StudyInstanceUID: predecessor.studyInstanceUID,
      ReferencedSeriesSequence: [
        {
          SeriesInstanceUID: predecessor.seriesInstanceUID,
          ReferencedSOPSequence: [{ ReferencedSOPClassUID: predecessor.sopClassUID, ReferencedSOPInstanceUID: predecessor.sopInstanceUID }],
        },
      ],
    },
  ];
}

const PHASES = ['venous', 'arterial'] as const;

/** Decimal places the localisation confidence is written with (its calibration error is far coarser). */
const CONFIDENCE_DECIMALS = 3;

/**
 * The calibrated localisation confidence as written in the SR (rounded to CONFIDENCE_DECIMALS),
 * or undefined when the analysis has none: a single-stage localiser's confidence, and a
 * two-stage one's without a fitted calibration, are peak probabilities, not the probability that
 * the centre lies in the tumour, and are left out (docs/dicom-conformance.md 3.4).
 */
export function calibratedLocalisationConfidence(analysis: TsrAnalysis): number | undefined {
  if (analysis.tumour.confidenceCalibrated !== true) return undefined;
  return Number(analysis.tumour.confidence.toFixed(CONFIDENCE_DECIMALS));
}

function checkOptions(options: TsrStructuredReportOptions): void {
  const analysis = options.analysis;
  if (!(analysis.probabilityHigh >= 0 && analysis.probabilityHigh <= 1)) {
    throw new RangeError(`analysis.probabilityHigh: must be in [0, 1], got ${analysis.probabilityHigh}`);
  }
  if (!(analysis.threshold >= 0 && analysis.threshold <= 1)) throw new RangeError(`analysis.threshold: must be in [0, 1], got ${analysis.threshold}`);
  if (analysis.label !== 'low' && analysis.label !== 'high') throw new RangeError(`analysis.label: "low" or "high", got ${String(analysis.label)}`);
  if (!(analysis.tumour.diameterMm > 0)) throw new RangeError(`analysis.tumour.diameterMm: must be > 0, got ${analysis.tumour.diameterMm}`);
  if (analysis.tumour.confidenceCalibrated === true && !(analysis.tumour.confidence >= 0 && analysis.tumour.confidence <= 1)) {
    throw new RangeError(`analysis.tumour.confidence: a calibrated confidence must be in [0, 1], got ${analysis.tumour.confidence}`);
  }
  for (const phase of PHASES) {
    const finding = analysis[phase];
    if (!finding.sourceSopInstanceUIDs.includes(finding.keySopInstanceUID)) {
      throw new RangeError(`analysis.${phase}.keySopInstanceUID: not among the phase's sourceSopInstanceUIDs`);
    }
    if (finding.outlinePixels.length < 3) throw new RangeError(`analysis.${phase}.outlinePixels: at least 3 points are needed`);
    const study = jsonString(options.sourceMetadata[phase], '0020000D');
    if (study !== analysis.studyInstanceUID) {
      throw new RangeError(`sourceMetadata.${phase}: StudyInstanceUID ${String(study)} is not the analysed study ${analysis.studyInstanceUID}`);
    }
  }
  checkSeriesDescription(options.seriesDescription);
  const predecessor = options.predecessor;
  if (predecessor && (predecessor.studyInstanceUID !== analysis.studyInstanceUID || predecessor.sopInstanceUID === options.identity.srSopInstanceUID)) {
    throw new RangeError('predecessor: must be another SR of the analysed study');
  }
}

/** Outline on the key slice in SR image coordinates: pixel centres are at +0.5 (PS3.3 C.18.6.1.1). */
export function keySliceRegion(finding: PhaseFinding): ImageRegion {
  return {
    outline: finding.outlinePixels.map(([column, row]) => [column + 0.5, row + 0.5] as [number, number]),
    image: { sopClassUID: finding.sopClassUID, sopInstanceUID: finding.keySopInstanceUID },
  };
}

/** Every instance the content tree references: the source images of both phases, and the SEG when it points at one. */
function evidence(analysis: TsrAnalysis, segmentation?: { seriesInstanceUID: string; reference: SopReference }): NaturalizedDataset[] {
  return [
    {
      StudyInstanceUID: analysis.studyInstanceUID,
      ReferencedSeriesSequence: [
        ...PHASES.map((phase) => ({
          SeriesInstanceUID: analysis[phase].seriesInstanceUID,
          ReferencedSOPSequence: analysis[phase].sourceSopInstanceUIDs.map((uid) => ({
            ReferencedSOPClassUID: analysis[phase].sopClassUID,
            ReferencedSOPInstanceUID: uid,
          })),
        })),
        ...(segmentation
          ? [
              {
                SeriesInstanceUID: segmentation.seriesInstanceUID,
                ReferencedSOPSequence: [{ ReferencedSOPClassUID: segmentation.reference.sopClassUID, ReferencedSOPInstanceUID: segmentation.reference.sopInstanceUID }],
              },
            ]
          : []),
      ],
    },
  ];
}

export function buildTsrStructuredReport(options: TsrStructuredReportOptions): NaturalizedDataset {
  checkOptions(options);
  const { analysis: a, device, identity, now } = options;

  // Each phase's Frame of Reference UID, copied from its source when valid (UI), else left out.
  const frameOfReferences = PHASES.map((phase) => validSourceString(options.sourceMetadata[phase], TAG.frameOfReferenceUID, 'UI'));
  const imageLibrary: ImageLibraryGroup[] = PHASES.map((phase, index) => {
    const frameOfReferenceUID = frameOfReferences[index].value;
    return {
      modality: CODES.computedTomography,
      targetRegion: CODES.abdomen,
      ...(frameOfReferenceUID ? { frameOfReferenceUID } : {}),
      images: a[phase].sourceSopInstanceUIDs.map((uid) => ({ sopClassUID: a[phase].sopClassUID, sopInstanceUID: uid })),
    };
  });

  const confidence = calibratedLocalisationConfidence(a);
  const group = tid1501MeasurementGroup({
    trackingIdentifier: TUMOUR_TRACKING_IDENTIFIER,
    trackingUID: identity.trackingUID,
    findingCategory: CODES.morphologicallyAbnormalStructure,
    finding: CODES.adenocarcinomaOfPancreas,
    findingSite: CODES.pancreas,
    algorithm: {
      name: a.classifier.name,
      version: a.classifier.version,
      parameters: [
        `classifier sha256=${a.classifier.sha256}`,
        // The other stages of the model set, each by role, name, version and hash.
        ...a.models.filter((model) => model.role !== 'classifier').map((model) => `${model.role}=${model.name} ${model.version} sha256=${model.sha256}`),
        `threshold=${a.threshold}`,
      ],
    },
    // The tumour's outline in 3D: its segment, drawn on the portal-venous series.
    ...(options.tumourSegment ? { referencedSegment: { ...options.tumourSegment, sourceSeriesInstanceUID: a.venous.seriesInstanceUID } } : {}),
    measurements: [
      tid300Measurement(CODES.probabilityOfHighTsr, a.probabilityHigh, CODES.unitless),
      tid300Measurement(CODES.diameter, a.tumour.diameterMm, CODES.millimetre, PHASES.map((p) => keySliceRegion(a[p]))),
      // The two-stage localiser's calibrated confidence that the centre lies in the tumour (a probability: UCUM unity).
      ...(confidence !== undefined ? [tid300Measurement(CODES.localisationConfidence, confidence, CODES.unitless)] : []),
    ],
    qualitativeEvaluations: [{ concept: CODES.tumourStromaRatio, value: a.label === 'high' ? CODES.tsrHigh : CODES.tsrLow }],
    // OHIF shows a group's TEXT "Comment" items as labels beside the outline: result first, then the notice.
    textEvaluations: [
      { concept: CODES.comment, value: tsrShortResult(a) },
      { concept: CODES.comment, value: RESEARCH_USE_NOTICE },
    ],
  });

  const root = tid1500MeasurementReport({
    device,
    procedureReported: CODES.ctUnspecifiedBodyRegion,
    imageLibrary,
    measurementGroups: [group],
  });

  return {
    // SOP Common, Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial
    // Study, SR Document Series (all but the attribute below), General Equipment, Enhanced
    // General Equipment
    ...commonModules(options, {
      sopClassUID: SOP_CLASS.comprehensive3dSrStorage,
      sopInstanceUID: identity.srSopInstanceUID,
      codingSchemeDesignators: [PRIVATE_SCHEME.designator, IHE_SCHEME.designator],
      modality: 'SR',
      seriesInstanceUID: identity.srSeriesInstanceUID,
      defaultSeriesNumber: 9001,
      sourceValueChanges: frameOfReferences.flatMap((frameOfReference) => frameOfReference.changes),
    }),
    // SR Document Series
    ReferencedPerformedProcedureStepSequence: [],
    // SR Document General
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    // The node's earlier result of this study, which this one supersedes (docs/dicom-conformance.md 3.4.1).
    ...(options.predecessor ? { PredecessorDocumentsSequence: predecessorDocumentsSequence(options.predecessor) } : {}),
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: evidence(
      a,
      options.tumourSegment ? { seriesInstanceUID: identity.segSeriesInstanceUID, reference: options.tumourSegment.segmentation } : undefined,
    ),
    // SR Document Content
    ...root,
  };
}
