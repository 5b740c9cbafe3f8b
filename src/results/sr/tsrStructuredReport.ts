/**
 * The TSR result as a Comprehensive 3D SR (PS3.3 A.35.13) holding a TID 1500 Measurement Report,
 * following IHE Radiology AI Results (AIR). A pure builder: typed options in, a naturalized
 * dataset out; the clock and the UIDs come in through the options.
 */
import { SOP_CLASS } from '../../dicom/dictionary';
import type { DicomJson } from '../../dicomweb/dicomJson';
import { jsonString } from '../../dicomweb/dicomJson';
import type { PhaseFinding, TsrAnalysis } from '../../inference/result';
import { CODES, codeItem, codingSchemeIdentification } from '../codes';
import type { DeviceIdentity } from '../device';
import { dicomDate, dicomDateTime, dicomTime, TIMEZONE_OFFSET_UTC } from '../dicomDateTime';
import type { NaturalizedDataset } from '../part10';
import { copyPatientStudy } from '../patientStudyCopier';
import { RESEARCH_USE_NOTICE, tsrShortResult } from '../resultText';
import type { ResultIdentity } from '../uids';
import { tid1500MeasurementReport, tid1501MeasurementGroup, tid300Measurement, type ImageLibraryGroup, type ImageRegion } from './templates';

export interface TsrStructuredReportOptions {
  analysis: TsrAnalysis;
  /** WADO-RS metadata of one source instance per phase (the key slice's is best). */
  sourceMetadata: { arterial: DicomJson; venous: DicomJson };
  identity: ResultIdentity;
  device: DeviceIdentity;
  seriesDescription: string;
  seriesNumber?: number;
  /** The injected clock's reading: content, series and instance creation date/time. */
  now: Date;
}

const PHASES = ['venous', 'arterial'] as const;

function checkOptions(o: TsrStructuredReportOptions): void {
  const a = o.analysis;
  if (!(a.probabilityHigh >= 0 && a.probabilityHigh <= 1)) throw new RangeError(`analysis.probabilityHigh: must be in [0, 1], got ${a.probabilityHigh}`);
  if (!(a.threshold >= 0 && a.threshold <= 1)) throw new RangeError(`analysis.threshold: must be in [0, 1], got ${a.threshold}`);
  if (a.label !== 'low' && a.label !== 'high') throw new RangeError(`analysis.label: "low" or "high", got ${String(a.label)}`);
  if (!(a.tumour.diameterMm > 0)) throw new RangeError(`analysis.tumour.diameterMm: must be > 0, got ${a.tumour.diameterMm}`);
  for (const phase of PHASES) {
    const f = a[phase];
    if (!f.sourceSopInstanceUIDs.includes(f.keySopInstanceUID)) {
      throw new RangeError(`analysis.${phase}.keySopInstanceUID: not among the phase's sourceSopInstanceUIDs`);
    }
    if (f.outlinePixels.length < 3) throw new RangeError(`analysis.${phase}.outlinePixels: at least 3 points are needed`);
    const study = jsonString(o.sourceMetadata[phase], '0020000D');
    if (study !== a.studyInstanceUID) {
      throw new RangeError(`sourceMetadata.${phase}: StudyInstanceUID ${String(study)} is not the analysed study ${a.studyInstanceUID}`);
    }
  }
  if (o.seriesDescription.length === 0 || o.seriesDescription.length > 64) throw new RangeError('seriesDescription: 1 to 64 characters (LO)');
}

/** Outline on the key slice in SR image coordinates: pixel centres are at +0.5 (PS3.3 C.18.6.1.1). */
export function keySliceRegion(f: PhaseFinding): ImageRegion {
  return {
    outline: f.outlinePixels.map(([c, r]) => [c + 0.5, r + 0.5] as [number, number]),
    image: { sopClassUID: f.sopClassUID, sopInstanceUID: f.keySopInstanceUID },
  };
}

function evidence(analysis: TsrAnalysis): NaturalizedDataset[] {
  return [
    {
      StudyInstanceUID: analysis.studyInstanceUID,
      ReferencedSeriesSequence: PHASES.map((phase) => ({
        SeriesInstanceUID: analysis[phase].seriesInstanceUID,
        ReferencedSOPSequence: analysis[phase].sourceSopInstanceUIDs.map((uid) => ({
          ReferencedSOPClassUID: analysis[phase].sopClassUID,
          ReferencedSOPInstanceUID: uid,
        })),
      })),
    },
  ];
}

export function buildTsrStructuredReport(o: TsrStructuredReportOptions): NaturalizedDataset {
  checkOptions(o);
  const { analysis: a, device, identity, now } = o;

  const imageLibrary: ImageLibraryGroup[] = PHASES.map((phase) => {
    const frameOfReferenceUID = jsonString(o.sourceMetadata[phase], '00200052');
    return {
      modality: CODES.computedTomography,
      targetRegion: CODES.abdomen,
      ...(frameOfReferenceUID ? { frameOfReferenceUID } : {}),
      images: a[phase].sourceSopInstanceUIDs.map((uid) => ({ sopClassUID: a[phase].sopClassUID, sopInstanceUID: uid })),
    };
  });

  const group = tid1501MeasurementGroup({
    trackingIdentifier: 'TSR pancreatic tumour',
    trackingUID: identity.trackingUID,
    findingCategory: CODES.morphologicallyAbnormalStructure,
    finding: CODES.adenocarcinomaOfPancreas,
    findingSite: CODES.pancreas,
    algorithm: {
      name: a.classifier.name,
      version: a.classifier.version,
      parameters: [
        `classifier sha256=${a.classifier.sha256}`,
        `localizer=${a.localizer.name} ${a.localizer.version} sha256=${a.localizer.sha256}`,
        `threshold=${a.threshold}`,
      ],
    },
    measurements: [
      tid300Measurement(CODES.probabilityOfHighTsr, a.probabilityHigh, CODES.unitless),
      tid300Measurement(CODES.diameter, a.tumour.diameterMm, CODES.millimetre, PHASES.map((p) => keySliceRegion(a[p]))),
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
    // SOP Common
    SOPClassUID: SOP_CLASS.comprehensive3dSrStorage,
    SOPInstanceUID: identity.srSopInstanceUID,
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    InstanceCreatorUID: device.uid,
    TimezoneOffsetFromUTC: TIMEZONE_OFFSET_UTC,
    CodingSchemeIdentificationSequence: codingSchemeIdentification(),
    ContributingEquipmentSequence: [contributingEquipment(device, now)],
    // Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial Study
    ...copyPatientStudy(o.sourceMetadata.venous),
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: identity.srSeriesInstanceUID,
    SeriesNumber: o.seriesNumber ?? 9001,
    SeriesDate: dicomDate(now),
    SeriesTime: dicomTime(now),
    SeriesDescription: o.seriesDescription,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment, Enhanced General Equipment
    ...generalEquipment(device),
    // SR Document General
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: evidence(a),
    // SR Document Content
    ...root,
  };
}

/** General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2). */
export function generalEquipment(device: DeviceIdentity): NaturalizedDataset {
  return {
    Manufacturer: device.manufacturer,
    ...(device.institutionName ? { InstitutionName: device.institutionName } : {}),
    StationName: device.name,
    ManufacturerModelName: device.modelName,
    DeviceSerialNumber: device.serialNumber,
    SoftwareVersions: device.softwareVersion,
  };
}

/** IHE AIR: the node as Contributing Equipment with purpose "Processing Algorithm" (PS3.3 C.12.1). */
export function contributingEquipment(device: DeviceIdentity, now: Date): NaturalizedDataset {
  return {
    PurposeOfReferenceCodeSequence: [codeItem(CODES.processingAlgorithm)],
    Manufacturer: device.manufacturer,
    ...(device.institutionName ? { InstitutionName: device.institutionName } : {}),
    StationName: device.name,
    ManufacturerModelName: device.modelName,
    DeviceSerialNumber: device.serialNumber,
    SoftwareVersions: device.softwareVersion,
    DeviceUID: device.uid,
    ContributionDateTime: dicomDateTime(now),
    ContributionDescription: 'Tumour-stroma ratio classification (research use only)',
  };
}
