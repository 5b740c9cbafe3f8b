/**
 * The study's radiation dose report: an X-Ray Radiation Dose SR (PS3.3 A.35.8) with the content
 * of TID 10011 "CT Radiation Dose", one TID 10013 "CT Irradiation Event Data" per acquisition, as
 * CT scanners store beside the images. A PACS study holds it; the node must skip it.
 *
 * Codes are those of PS3.16 (DCM, SCT, UCUM); comments name the concepts' template rows.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import { ds, type NaturalizedDataset } from './part10';
import { generalEquipmentModule, generalStudyModule, patientModule, patientStudyModule, type StudyAttributes } from './studyModules';

interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

const code = (value: string, scheme: string, meaning: string): Code => ({ value, scheme, meaning });
const codeItem = (concept: Code): NaturalizedDataset => ({ CodeValue: concept.value, CodingSchemeDesignator: concept.scheme, CodeMeaning: concept.meaning });

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
  mGy: code('mGy', 'UCUM', 'mGy'),
  mGyCm: code('mGy.cm', 'UCUM', 'mGy.cm'),
  s: code('s', 'UCUM', 's'),
  mm: code('mm', 'UCUM', 'mm'),
  kV: code('kV', 'UCUM', 'kV'),
  mA: code('mA', 'UCUM', 'mA'),
  ratio: code('{ratio}', 'UCUM', 'ratio'),
  events: code('{events}', 'UCUM', 'events'),
  count: code('1', 'UCUM', 'no units'),
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
export function doseLengthProduct(event: IrradiationEvent): number {
  return event.kind === 'localizer' ? 0 : (event.ctdiVolMGy * event.scanningLengthMm) / 10;
}

/** The X-Ray Radiation Dose SR: the modules of its IOD (PS3.3 A.35.8) and the TID 10011 content. */
export function doseReportDataset(options: DoseReportOptions): NaturalizedDataset {
  const study = options.study;
  return {
    // SOP Common
    SpecificCharacterSet: study.specificCharacterSet,
    SOPClassUID: SOP_CLASS.xRayRadiationDoseSrStorage,
    SOPInstanceUID: options.sopInstanceUID,
    InstanceCreationDate: options.contentDate,
    InstanceCreationTime: options.contentTime,
    ...patientModule(study),
    ...generalStudyModule(study),
    ...patientStudyModule(study),
    ...srDocumentSeriesModule(options),
    // General Equipment and Enhanced General Equipment
    ...generalEquipmentModule(study),
    ...srDocumentGeneralModule(options),
    ...ctRadiationDoseContent(options),
  };
}

/** SR Document Series (PS3.3 C.17.1). */
function srDocumentSeriesModule(options: DoseReportOptions): NaturalizedDataset {
  return {
    Modality: 'SR',
    SeriesInstanceUID: options.seriesInstanceUID,
    SeriesNumber: options.seriesNumber,
    SeriesDescription: options.seriesDescription,
    SeriesDate: options.contentDate,
    SeriesTime: options.contentTime,
    ReferencedPerformedProcedureStepSequence: [],
  };
}

/** SR Document General (PS3.3 C.17.2). */
function srDocumentGeneralModule(options: DoseReportOptions): NaturalizedDataset {
  return {
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: options.contentDate,
    ContentTime: options.contentTime,
    PerformedProcedureCodeSequence: [],
  };
}

/** SR Document Content: TID 10011 CT Radiation Dose, the root container and its content. */
function ctRadiationDoseContent(options: DoseReportOptions): NaturalizedDataset {
  const study = options.study;
  const totalDlp = options.events.reduce((sum, event) => sum + doseLengthProduct(event), 0);
  return {
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(code('113701', 'DCM', 'X-Ray Radiation Dose Report'))],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '10011' }],
    ContentSequence: [
      codeValue('HAS CONCEPT MOD', code('121058', 'DCM', 'Procedure reported'), code('77477000', 'SCT', 'Computed Tomography')),
      // TID 1002 Observer Context: the scanner is the observer (TID 1004 Device Observer).
      codeValue('HAS OBS CONTEXT', code('121005', 'DCM', 'Observer Type'), code('121007', 'DCM', 'Device')),
      uidValue('HAS OBS CONTEXT', code('121012', 'DCM', 'Device Observer UID'), options.deviceObserverUID),
      textValue('HAS OBS CONTEXT', code('121013', 'DCM', 'Device Observer Name'), study.stationName),
      textValue('HAS OBS CONTEXT', code('121014', 'DCM', 'Device Observer Manufacturer'), study.manufacturer),
      textValue('HAS OBS CONTEXT', code('121015', 'DCM', 'Device Observer Model Name'), study.modelName),
      textValue('HAS OBS CONTEXT', code('121016', 'DCM', 'Device Observer Serial Number'), study.deviceSerialNumber),
      codeValue('HAS OBS CONTEXT', code('113876', 'DCM', 'Device Role in Procedure'), code('113859', 'DCM', 'Irradiating Device')),
      node('HAS OBS CONTEXT', 'DATETIME', code('113809', 'DCM', 'Start of X-Ray Irradiation'), { DateTime: `${study.studyDate}${study.studyTime}` }),
      node('HAS OBS CONTEXT', 'DATETIME', code('113810', 'DCM', 'End of X-Ray Irradiation'), { DateTime: `${options.contentDate}${options.contentTime}` }),
      codeValue('HAS OBS CONTEXT', code('113705', 'DCM', 'Scope of Accumulation'), code('113014', 'DCM', 'Study')),
      // TID 10012 CT Accumulated Dose Data
      containerItem('CONTAINS', code('113811', 'DCM', 'CT Accumulated Dose Data'), [
        numValue('CONTAINS', code('113812', 'DCM', 'Total Number of Irradiation Events'), options.events.length, UNIT.events),
        numValue('CONTAINS', code('113813', 'DCM', 'CT Dose Length Product Total'), totalDlp, UNIT.mGyCm),
      ]),
      ...options.events.map(irradiationEventItem),
      codeValue('CONTAINS', code('113854', 'DCM', 'Source of Dose Information'), code('113856', 'DCM', 'Automated Data Collection')),
    ],
  };
}

/** TID 10013 CT Irradiation Event Data: one acquisition. */
function irradiationEventItem(event: IrradiationEvent): NaturalizedDataset {
  const spiral = event.kind === 'spiral';
  return containerItem('CONTAINS', code('113819', 'DCM', 'CT Acquisition'), [
    textValue('CONTAINS', code('125203', 'DCM', 'Acquisition Protocol'), event.protocol),
    codeValue('CONTAINS', code('123014', 'DCM', 'Target Region'), code('818981001', 'SCT', 'Abdomen')),
    codeValue(
      'CONTAINS',
      code('113820', 'DCM', 'CT Acquisition Type'),
      spiral ? code('116152004', 'SCT', 'Spiral Acquisition') : code('113805', 'DCM', 'Constant Angle Acquisition'),
    ),
    uidValue('CONTAINS', code('113769', 'DCM', 'Irradiation Event UID'), event.uid),
    containerItem('CONTAINS', code('113822', 'DCM', 'CT Acquisition Parameters'), [
      numValue('CONTAINS', code('113824', 'DCM', 'Exposure Time'), event.exposureTimeS, UNIT.s),
      numValue('CONTAINS', code('113825', 'DCM', 'Scanning Length'), event.scanningLengthMm, UNIT.mm),
      numValue('CONTAINS', code('113826', 'DCM', 'Nominal Single Collimation Width'), 0.625, UNIT.mm),
      numValue('CONTAINS', code('113827', 'DCM', 'Nominal Total Collimation Width'), event.collimationMm, UNIT.mm),
      ...(spiral ? [numValue('CONTAINS', code('113828', 'DCM', 'Pitch Factor'), event.pitch, UNIT.ratio)] : []),
      numValue('CONTAINS', code('113823', 'DCM', 'Number of X-Ray Sources'), 1, UNIT.count),
      // TID 10013 row: CT X-Ray Source Parameters
      containerItem('CONTAINS', code('113831', 'DCM', 'CT X-Ray Source Parameters'), [
        textValue('CONTAINS', code('113832', 'DCM', 'Identification of the X-Ray Source'), 'A'),
        numValue('CONTAINS', code('113733', 'DCM', 'KVP'), event.kvp, UNIT.kV),
        numValue('CONTAINS', code('113833', 'DCM', 'Maximum X-Ray Tube Current'), event.tubeCurrentMa, UNIT.mA),
        numValue('CONTAINS', code('113734', 'DCM', 'X-Ray Tube Current'), event.tubeCurrentMa, UNIT.mA),
        ...(spiral ? [numValue('CONTAINS', code('113834', 'DCM', 'Exposure Time per Rotation'), 0.5, UNIT.s)] : []),
      ]),
    ]),
    ...(spiral
      ? [
          // TID 10013 row: CT Dose
          containerItem('CONTAINS', code('113829', 'DCM', 'CT Dose'), [
            numValue('CONTAINS', code('113830', 'DCM', 'Mean CTDIvol'), event.ctdiVolMGy, UNIT.mGy),
            codeValue('CONTAINS', code('113835', 'DCM', 'CTDIw Phantom Type'), code('113691', 'DCM', 'IEC Body Dosimetry Phantom')),
            numValue('CONTAINS', code('113838', 'DCM', 'DLP'), doseLengthProduct(event), UNIT.mGyCm),
          ]),
        ]
      : []),
  ]);
}
