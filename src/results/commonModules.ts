/**
 * The modules that the SR and the SC both write, built once from the same sources: SOP Common,
 * the Patient and Study modules copied from the venous source, the series attributes that General
 * Series and SR Document Series share, General Equipment (with the SR's Enhanced General
 * Equipment, the same attributes), and the node as Contributing Equipment (IHE AIR). A pure
 * builder, but for one warn line to the injected logger when copied values had to be made valid
 * for their VR: each IOD's builder adds the modules of its own around it.
 */
import type { DicomJson } from '../dicomweb/dicomJson';
import type { TsrAnalysis } from '../inference/result';
import type { Logger } from '../logging/logger';
import { CODES, codeItem, codingSchemeIdentification } from './codes';
import type { DeviceIdentity } from './device';
import { dicomDate, dicomDateTime, dicomTime, TIMEZONE_OFFSET_UTC } from './dicomDateTime';
import type { NaturalizedDataset } from './part10';
import { copyPatientStudy } from './patientStudyCopier';
import type { ResultIdentity } from './uids';
import { distinctChanges, type SourceValueChange } from './validSourceValues';

/** The options that the SR and the SC builders both take. */
export interface ResultObjectOptions {
  analysis: TsrAnalysis;
  /** WADO-RS metadata of one source instance per phase (the key slice's is best). */
  sourceMetadata: { arterial: DicomJson; venous: DicomJson };
  identity: ResultIdentity;
  device: DeviceIdentity;
  /** config results.srSeriesDescription / results.scSeriesDescription */
  seriesDescription: string;
  seriesNumber?: number;
  /** The injected clock's reading: every date and time the object carries. */
  now: Date;
  /** Where the changes made to copied source values go (one warn line per object, no values). */
  logger?: Logger;
}

/** What sets one result object's common modules apart from the other's. */
export interface ResultObjectKind {
  sopClassUID: string;
  sopInstanceUID: string;
  /** The non-standard coding schemes whose codes the object uses (Coding Scheme Identification). */
  codingSchemeDesignators: string[];
  modality: string;
  seriesInstanceUID: string;
  /** Series Number when the options give none. */
  defaultSeriesNumber: number;
  /** Changes made to source values that the object's own modules copy, reported with the common ones. */
  sourceValueChanges?: SourceValueChange[];
}

/** Series Description is LO: 1 to 64 characters. */
export function checkSeriesDescription(seriesDescription: string): void {
  if (seriesDescription.length === 0 || seriesDescription.length > 64) throw new RangeError('seriesDescription: 1 to 64 characters (LO)');
}

/**
 * SOP Common (C.12.1); Patient, Clinical Trial Subject, General Study, Patient Study and Clinical
 * Trial Study (copied); the attributes of General Series (C.7.3.1) that SR Document Series
 * (C.17.1) has too; General Equipment (C.7.5.1), whose attributes also make the SR's Enhanced
 * General Equipment (C.7.5.2).
 */
export function commonModules(options: ResultObjectOptions, kind: ResultObjectKind): NaturalizedDataset {
  const { device, now } = options;
  const patientStudy = copyPatientStudy(options.sourceMetadata.venous);
  reportSourceValueChanges(options, kind, [...patientStudy.changes, ...(kind.sourceValueChanges ?? [])]);
  return {
    // SOP Common
    SOPClassUID: kind.sopClassUID,
    SOPInstanceUID: kind.sopInstanceUID,
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    InstanceCreatorUID: device.uid,
    TimezoneOffsetFromUTC: TIMEZONE_OFFSET_UTC,
    CodingSchemeIdentificationSequence: codingSchemeIdentification(kind.codingSchemeDesignators),
    ContributingEquipmentSequence: [contributingEquipment(device, now)],
    // Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial Study
    ...patientStudy.attributes,
    // General Series / SR Document Series
    Modality: kind.modality,
    SeriesInstanceUID: kind.seriesInstanceUID,
    SeriesNumber: options.seriesNumber ?? kind.defaultSeriesNumber,
    SeriesDate: dicomDate(now),
    SeriesTime: dicomTime(now),
    SeriesDescription: options.seriesDescription,
    // General Equipment (the SR's Enhanced General Equipment too)
    ...equipment(device),
  };
}

/**
 * One warn line per result object whose copied source values had to be changed to be valid for
 * their VR: which attributes and how, never the values (they may identify the patient).
 */
function reportSourceValueChanges(options: ResultObjectOptions, kind: ResultObjectKind, changes: SourceValueChange[]): void {
  if (changes.length === 0) return;
  options.logger?.warn('source values made valid for their VR', {
    studyInstanceUID: options.analysis.studyInstanceUID,
    sopInstanceUID: kind.sopInstanceUID,
    modality: kind.modality,
    changes: distinctChanges(changes).map(({ keyword, tag, vr, change }) => ({ keyword, tag, vr, change })),
  });
}

/** The node as equipment: General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2). */
function equipment(device: DeviceIdentity): NaturalizedDataset {
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
function contributingEquipment(device: DeviceIdentity, now: Date): NaturalizedDataset {
  return {
    PurposeOfReferenceCodeSequence: [codeItem(CODES.processingAlgorithm)],
    ...equipment(device),
    DeviceUID: device.uid,
    ContributionDateTime: dicomDateTime(now),
    ContributionDescription: 'Tumour-stroma ratio classification (research use only)',
  };
}
