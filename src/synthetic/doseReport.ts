/**
 * The study's radiation dose report: an X-Ray Radiation Dose SR (PS3.3 A.35.8) with the content
 * of TID 10011 "CT Radiation Dose", one TID 10013 "CT Irradiation Event Data" per acquisition, as
 * CT scanners store beside the images. A PACS study holds it; the node must skip it.
 *
 * Codes are those of PS3.16 (DCM, SCT, UCUM); comments name the concepts' template rows.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import { ds, type NaturalizedDataset } from './part10';
import type { StudyAttributes } from './ctImage';

interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

const c = (value: string, scheme: string, meaning: string): Code => ({ value, scheme, meaning });
const codeItem = (k: Code): NaturalizedDataset => ({ CodeValue: k.value, CodingSchemeDesignator: k.scheme, CodeMeaning: k.meaning });

type Relationship = 'CONTAINS' | 'HAS CONCEPT MOD' | 'HAS OBS CONTEXT' | 'HAS PROPERTIES';

function node(relationship: Relationship, valueType: string, name: Code, body: NaturalizedDataset, children: NaturalizedDataset[] = []): NaturalizedDataset {
  return {
    RelationshipType: relationship,
    ValueType: valueType,
    ConceptNameCodeSequence: [codeItem(name)],
    ...body,
    ...(children.length > 0 ? { ContentSequence: children } : {}),
  };
}

const containerItem = (relationship: Relationship, name: Code, children: NaturalizedDataset[]): NaturalizedDataset =>
  node(relationship, 'CONTAINER', name, { ContinuityOfContent: 'SEPARATE' }, children);
const codeValue = (relationship: Relationship, name: Code, value: Code): NaturalizedDataset => node(relationship, 'CODE', name, { ConceptCodeSequence: [codeItem(value)] });
const textValue = (relationship: Relationship, name: Code, value: string): NaturalizedDataset => node(relationship, 'TEXT', name, { TextValue: value });
const uidValue = (relationship: Relationship, name: Code, uid: string): NaturalizedDataset => node(relationship, 'UIDREF', name, { UID: uid });
const numValue = (relationship: Relationship, name: Code, value: number, unit: Code): NaturalizedDataset =>
  node(relationship, 'NUM', name, { MeasuredValueSequence: [{ NumericValue: ds(value, 4), MeasurementUnitsCodeSequence: [codeItem(unit)] }] });

const UNIT = {
  mGy: c('mGy', 'UCUM', 'mGy'),
  mGyCm: c('mGy.cm', 'UCUM', 'mGy.cm'),
  s: c('s', 'UCUM', 's'),
  mm: c('mm', 'UCUM', 'mm'),
  kV: c('kV', 'UCUM', 'kV'),
  mA: c('mA', 'UCUM', 'mA'),
  ratio: c('{ratio}', 'UCUM', 'ratio'),
  events: c('{events}', 'UCUM', 'events'),
  count: c('1', 'UCUM', 'no units'),
};

export interface IrradiationEvent {
  uid: string;
  protocol: string;
  /** Spiral for the phases, a constant-angle acquisition for the localizer. */
  kind: 'spiral' | 'localizer';
  scanningLengthMm: number;
  kvp: number;
  tubeCurrentMa: number;
  exposureTimeS: number;
  ctdiVolMGy: number;
  collimationMm: number;
  pitch: number;
}

export interface DoseReportOptions {
  study: StudyAttributes;
  seriesInstanceUID: string;
  seriesNumber: number;
  seriesDescription: string;
  sopInstanceUID: string;
  contentDate: string;
  contentTime: string;
  deviceObserverUID: string;
  events: IrradiationEvent[];
}

/** DLP of an event: CTDIvol times the scanned length (mGy.cm). */
export function doseLengthProduct(e: IrradiationEvent): number {
  return e.kind === 'localizer' ? 0 : (e.ctdiVolMGy * e.scanningLengthMm) / 10;
}

export function doseReportDataset(o: DoseReportOptions): NaturalizedDataset {
  const s = o.study;
  const totalDlp = o.events.reduce((sum, e) => sum + doseLengthProduct(e), 0);
  const events = o.events.map((e) =>
    // TID 10013 CT Irradiation Event Data
    containerItem('CONTAINS', c('113819', 'DCM', 'CT Acquisition'), [
      textValue('CONTAINS', c('125203', 'DCM', 'Acquisition Protocol'), e.protocol),
      codeValue('CONTAINS', c('123014', 'DCM', 'Target Region'), c('818981001', 'SCT', 'Abdomen')),
      codeValue(
        'CONTAINS',
        c('113820', 'DCM', 'CT Acquisition Type'),
        e.kind === 'spiral' ? c('116152004', 'SCT', 'Spiral Acquisition') : c('113805', 'DCM', 'Constant Angle Acquisition'),
      ),
      uidValue('CONTAINS', c('113769', 'DCM', 'Irradiation Event UID'), e.uid),
      containerItem('CONTAINS', c('113822', 'DCM', 'CT Acquisition Parameters'), [
        numValue('CONTAINS', c('113824', 'DCM', 'Exposure Time'), e.exposureTimeS, UNIT.s),
        numValue('CONTAINS', c('113825', 'DCM', 'Scanning Length'), e.scanningLengthMm, UNIT.mm),
        numValue('CONTAINS', c('113826', 'DCM', 'Nominal Single Collimation Width'), 0.625, UNIT.mm),
        numValue('CONTAINS', c('113827', 'DCM', 'Nominal Total Collimation Width'), e.collimationMm, UNIT.mm),
        ...(e.kind === 'spiral' ? [numValue('CONTAINS', c('113828', 'DCM', 'Pitch Factor'), e.pitch, UNIT.ratio)] : []),
        numValue('CONTAINS', c('113823', 'DCM', 'Number of X-Ray Sources'), 1, UNIT.count),
        // TID 10013 row: CT X-Ray Source Parameters
        containerItem('CONTAINS', c('113831', 'DCM', 'CT X-Ray Source Parameters'), [
          textValue('CONTAINS', c('113832', 'DCM', 'Identification of the X-Ray Source'), 'A'),
          numValue('CONTAINS', c('113733', 'DCM', 'KVP'), e.kvp, UNIT.kV),
          numValue('CONTAINS', c('113833', 'DCM', 'Maximum X-Ray Tube Current'), e.tubeCurrentMa, UNIT.mA),
          numValue('CONTAINS', c('113734', 'DCM', 'X-Ray Tube Current'), e.tubeCurrentMa, UNIT.mA),
          ...(e.kind === 'spiral' ? [numValue('CONTAINS', c('113834', 'DCM', 'Exposure Time per Rotation'), 0.5, UNIT.s)] : []),
        ]),
      ]),
      ...(e.kind === 'spiral'
        ? [
            // TID 10013 row: CT Dose
            containerItem('CONTAINS', c('113829', 'DCM', 'CT Dose'), [
              numValue('CONTAINS', c('113830', 'DCM', 'Mean CTDIvol'), e.ctdiVolMGy, UNIT.mGy),
              codeValue('CONTAINS', c('113835', 'DCM', 'CTDIw Phantom Type'), c('113691', 'DCM', 'IEC Body Dosimetry Phantom')),
              numValue('CONTAINS', c('113838', 'DCM', 'DLP'), doseLengthProduct(e), UNIT.mGyCm),
            ]),
          ]
        : []),
    ]),
  );
  return {
    // SOP Common
    SpecificCharacterSet: s.specificCharacterSet,
    SOPClassUID: SOP_CLASS.xRayRadiationDoseSrStorage,
    SOPInstanceUID: o.sopInstanceUID,
    InstanceCreationDate: o.contentDate,
    InstanceCreationTime: o.contentTime,
    // Patient
    PatientName: s.patientName,
    PatientID: s.patientId,
    PatientBirthDate: s.patientBirthDate,
    PatientSex: s.patientSex,
    // General Study
    StudyInstanceUID: s.studyInstanceUID,
    StudyDate: s.studyDate,
    StudyTime: s.studyTime,
    ReferringPhysicianName: '',
    StudyID: s.studyId,
    AccessionNumber: s.accessionNumber,
    StudyDescription: s.studyDescription,
    // Patient Study
    PatientAge: s.patientAge,
    PatientSize: ds(s.patientSizeM, 2),
    PatientWeight: ds(s.patientWeightKg, 1),
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: o.seriesInstanceUID,
    SeriesNumber: o.seriesNumber,
    SeriesDescription: o.seriesDescription,
    SeriesDate: o.contentDate,
    SeriesTime: o.contentTime,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment and Enhanced General Equipment
    Manufacturer: s.manufacturer,
    InstitutionName: s.institutionName,
    StationName: s.stationName,
    ManufacturerModelName: s.modelName,
    DeviceSerialNumber: s.deviceSerialNumber,
    SoftwareVersions: s.softwareVersions,
    // SR Document General
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: o.contentDate,
    ContentTime: o.contentTime,
    PerformedProcedureCodeSequence: [],
    // SR Document Content: TID 10011 CT Radiation Dose
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(c('113701', 'DCM', 'X-Ray Radiation Dose Report'))],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '10011' }],
    ContentSequence: [
      codeValue('HAS CONCEPT MOD', c('121058', 'DCM', 'Procedure reported'), c('77477000', 'SCT', 'Computed Tomography')),
      // TID 1002 Observer Context: the scanner is the observer (TID 1004 Device Observer).
      codeValue('HAS OBS CONTEXT', c('121005', 'DCM', 'Observer Type'), c('121007', 'DCM', 'Device')),
      uidValue('HAS OBS CONTEXT', c('121012', 'DCM', 'Device Observer UID'), o.deviceObserverUID),
      textValue('HAS OBS CONTEXT', c('121013', 'DCM', 'Device Observer Name'), s.stationName),
      textValue('HAS OBS CONTEXT', c('121014', 'DCM', 'Device Observer Manufacturer'), s.manufacturer),
      textValue('HAS OBS CONTEXT', c('121015', 'DCM', 'Device Observer Model Name'), s.modelName),
      textValue('HAS OBS CONTEXT', c('121016', 'DCM', 'Device Observer Serial Number'), s.deviceSerialNumber),
      codeValue('HAS OBS CONTEXT', c('113876', 'DCM', 'Device Role in Procedure'), c('113859', 'DCM', 'Irradiating Device')),
      node('HAS OBS CONTEXT', 'DATETIME', c('113809', 'DCM', 'Start of X-Ray Irradiation'), { DateTime: `${s.studyDate}${s.studyTime}` }),
      node('HAS OBS CONTEXT', 'DATETIME', c('113810', 'DCM', 'End of X-Ray Irradiation'), { DateTime: `${o.contentDate}${o.contentTime}` }),
      codeValue('HAS OBS CONTEXT', c('113705', 'DCM', 'Scope of Accumulation'), c('113014', 'DCM', 'Study')),
      // TID 10012 CT Accumulated Dose Data
      containerItem('CONTAINS', c('113811', 'DCM', 'CT Accumulated Dose Data'), [
        numValue('CONTAINS', c('113812', 'DCM', 'Total Number of Irradiation Events'), o.events.length, UNIT.events),
        numValue('CONTAINS', c('113813', 'DCM', 'CT Dose Length Product Total'), totalDlp, UNIT.mGyCm),
      ]),
      ...events,
      codeValue('CONTAINS', c('113854', 'DCM', 'Source of Dose Information'), c('113856', 'DCM', 'Automated Data Collection')),
    ],
  };
}
