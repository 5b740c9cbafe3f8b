/**
 * Copies the Patient and Study level modules from a source instance's DICOM JSON (WADO-RS
 * metadata) into a new object, driven by one table of the modules' attributes, so that the SR and
 * the SC land in the same patient and study as their sources (PS3.3 C.7.1.1, C.7.1.3, C.7.2.1,
 * C.7.2.2, C.7.2.3; the Comprehensive 3D SR IOD A.35.13 and SC Image IOD A.8.1 use all five).
 *
 * Rules: a Type 1 attribute missing from the source is an error; a Type 2 attribute missing is
 * written empty; Type 1C/2C/3 are copied when present. An optional module (Clinical Trial) is
 * copied only when its key attribute is present, and left out whole when one of its Type 1
 * attributes is missing. Bulk data (BulkDataURI) is never copied: none of these attributes is
 * bulk data.
 *
 * Encode strictly, decode tolerantly: every copied value is made valid for its VR on the way
 * (validSourceValues.ts: clipped, control characters removed, invalid dates and codes dropped).
 * An attribute left with no valid value counts as missing, by the rules above, except that a
 * Type 2C one is written empty (the source had it, so its condition holds). What was changed is
 * returned, without the values, for the caller to log.
 */
import type { DicomJson, DicomJsonElement } from '../dicomweb/dicomJson';
import type { NaturalizedDataset } from './part10';
import { validElementValues, type SourceValueChange } from './validSourceValues';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const { DicomMetaDictionary } = (require('dcmjs') as {
  data: { DicomMetaDictionary: { naturalizeDataset(ds: unknown): NaturalizedDataset } };
}).data;
/* eslint-enable @typescript-eslint/no-require-imports */

export type AttributeType = '1' | '1C' | '2' | '2C' | '3';
export type CopiedModule = 'Patient' | 'Clinical Trial Subject' | 'General Study' | 'Patient Study' | 'Clinical Trial Study';

export interface CopiedAttribute {
  tag: string;
  keyword: string;
  vr: string;
  type: AttributeType;
  module: CopiedModule;
}

const row = (module: CopiedModule, tag: string, keyword: string, vr: string, type: AttributeType): CopiedAttribute => ({ tag, keyword, vr, type, module });

/** The attributes copied, by module, as PS3.3 lists them. */
export const PATIENT_STUDY_ATTRIBUTES: readonly CopiedAttribute[] = [
  // Patient (PS3.3 C.7.1.1, Table C.7-1)
  row('Patient', '00100010', 'PatientName', 'PN', '2'),
  row('Patient', '00100020', 'PatientID', 'LO', '2'),
  row('Patient', '00100021', 'IssuerOfPatientID', 'LO', '3'),
  row('Patient', '00100024', 'IssuerOfPatientIDQualifiersSequence', 'SQ', '3'),
  row('Patient', '00100022', 'TypeOfPatientID', 'CS', '3'),
  row('Patient', '00100030', 'PatientBirthDate', 'DA', '2'),
  row('Patient', '00100032', 'PatientBirthTime', 'TM', '3'),
  row('Patient', '00100040', 'PatientSex', 'CS', '2'),
  row('Patient', '00100200', 'QualityControlSubject', 'CS', '3'),
  row('Patient', '00101002', 'OtherPatientIDsSequence', 'SQ', '3'),
  row('Patient', '00101001', 'OtherPatientNames', 'PN', '3'),
  row('Patient', '00102160', 'EthnicGroup', 'SH', '3'),
  row('Patient', '00104000', 'PatientComments', 'LT', '3'),
  row('Patient', '00102201', 'PatientSpeciesDescription', 'LO', '1C'),
  row('Patient', '00102202', 'PatientSpeciesCodeSequence', 'SQ', '1C'),
  row('Patient', '00102292', 'PatientBreedDescription', 'LO', '2C'),
  row('Patient', '00102293', 'PatientBreedCodeSequence', 'SQ', '2C'),
  row('Patient', '00102294', 'BreedRegistrationSequence', 'SQ', '2C'),
  row('Patient', '00102297', 'ResponsiblePerson', 'PN', '2C'),
  row('Patient', '00102298', 'ResponsiblePersonRole', 'CS', '1C'),
  row('Patient', '00102299', 'ResponsibleOrganization', 'LO', '2C'),
  row('Patient', '00120062', 'PatientIdentityRemoved', 'CS', '3'),
  row('Patient', '00120063', 'DeidentificationMethod', 'LO', '1C'),
  row('Patient', '00120064', 'DeidentificationMethodCodeSequence', 'SQ', '1C'),
  // Clinical Trial Subject (PS3.3 C.7.1.3), optional: copied when the sponsor is named
  row('Clinical Trial Subject', '00120010', 'ClinicalTrialSponsorName', 'LO', '1'),
  row('Clinical Trial Subject', '00120020', 'ClinicalTrialProtocolID', 'LO', '1'),
  row('Clinical Trial Subject', '00120021', 'ClinicalTrialProtocolName', 'LO', '2'),
  row('Clinical Trial Subject', '00120030', 'ClinicalTrialSiteID', 'LO', '2'),
  row('Clinical Trial Subject', '00120031', 'ClinicalTrialSiteName', 'LO', '2'),
  row('Clinical Trial Subject', '00120040', 'ClinicalTrialSubjectID', 'LO', '1C'),
  row('Clinical Trial Subject', '00120042', 'ClinicalTrialSubjectReadingID', 'LO', '1C'),
  // General Study (PS3.3 C.7.2.1, Table C.7-3)
  row('General Study', '0020000D', 'StudyInstanceUID', 'UI', '1'),
  row('General Study', '00080020', 'StudyDate', 'DA', '2'),
  row('General Study', '00080030', 'StudyTime', 'TM', '2'),
  row('General Study', '00080090', 'ReferringPhysicianName', 'PN', '2'),
  row('General Study', '00080096', 'ReferringPhysicianIdentificationSequence', 'SQ', '3'),
  row('General Study', '0008009C', 'ConsultingPhysicianName', 'PN', '3'),
  row('General Study', '00200010', 'StudyID', 'SH', '2'),
  row('General Study', '00080050', 'AccessionNumber', 'SH', '2'),
  row('General Study', '00080051', 'IssuerOfAccessionNumberSequence', 'SQ', '3'),
  row('General Study', '00081030', 'StudyDescription', 'LO', '3'),
  row('General Study', '00081048', 'PhysiciansOfRecord', 'PN', '3'),
  row('General Study', '00081060', 'NameOfPhysiciansReadingStudy', 'PN', '3'),
  row('General Study', '00081110', 'ReferencedStudySequence', 'SQ', '3'),
  row('General Study', '00081032', 'ProcedureCodeSequence', 'SQ', '3'),
  row('General Study', '00401012', 'ReasonForPerformedProcedureCodeSequence', 'SQ', '3'),
  // Patient Study (PS3.3 C.7.2.2, Table C.7-4a)
  row('Patient Study', '00081080', 'AdmittingDiagnosesDescription', 'LO', '3'),
  row('Patient Study', '00101010', 'PatientAge', 'AS', '3'),
  row('Patient Study', '00101020', 'PatientSize', 'DS', '3'),
  row('Patient Study', '00101030', 'PatientWeight', 'DS', '3'),
  row('Patient Study', '00102203', 'PatientSexNeutered', 'CS', '2C'),
  row('Patient Study', '00102180', 'Occupation', 'SH', '3'),
  row('Patient Study', '001021B0', 'AdditionalPatientHistory', 'LT', '3'),
  row('Patient Study', '00380010', 'AdmissionID', 'LO', '3'),
  row('Patient Study', '001021C0', 'PregnancyStatus', 'US', '3'),
  row('Patient Study', '00102000', 'MedicalAlerts', 'LO', '3'),
  row('Patient Study', '00102110', 'Allergies', 'LO', '3'),
  row('Patient Study', '001021A0', 'SmokingStatus', 'CS', '3'),
  row('Patient Study', '00380500', 'PatientState', 'LO', '3'),
  // Clinical Trial Study (PS3.3 C.7.2.3), optional: copied when the time point is given
  row('Clinical Trial Study', '00120050', 'ClinicalTrialTimePointID', 'LO', '2'),
  row('Clinical Trial Study', '00120051', 'ClinicalTrialTimePointDescription', 'ST', '3'),
];

/** The attribute whose presence in the source means the optional module is there. */
const OPTIONAL_MODULE_KEY: Partial<Record<CopiedModule, string>> = {
  'Clinical Trial Subject': '00120010',
  'Clinical Trial Study': '00120050',
};

function hasValue(element: DicomJsonElement | undefined): boolean {
  return element !== undefined && Array.isArray(element.Value) && element.Value.length > 0;
}

/** The copied attributes, naturalized, and what was changed to make their values valid. */
export interface CopiedPatientStudy {
  attributes: NaturalizedDataset;
  changes: SourceValueChange[];
}

/** The valid values of one attribute of the table in `source`: none when it is missing or has none valid. */
function validValuesOf(source: DicomJson, attr: CopiedAttribute, changes: SourceValueChange[]): unknown[] {
  const element = source[attr.tag];
  if (!hasValue(element) || element?.BulkDataURI !== undefined) return [];
  const valid = validElementValues(element!, attr.vr, { keyword: attr.keyword, tag: attr.tag });
  changes.push(...valid.changes);
  return valid.values;
}

/** The optional modules of `source` that are there (key attribute present) and complete (every Type 1 attribute valid). */
function presentOptionalModules(source: DicomJson, changes: SourceValueChange[]): Set<CopiedModule> {
  const present = new Set<CopiedModule>();
  for (const [module, keyTag] of Object.entries(OPTIONAL_MODULE_KEY) as Array<[CopiedModule, string]>) {
    if (!hasValue(source[keyTag])) continue;
    const incomplete = PATIENT_STUDY_ATTRIBUTES.find((attr) => attr.module === module && attr.type === '1' && validValuesOf(source, attr, []).length === 0);
    if (incomplete === undefined) present.add(module);
    else changes.push({ keyword: incomplete.keyword, tag: incomplete.tag, vr: incomplete.vr, change: 'module-left-out' });
  }
  return present;
}

/**
 * The Patient and Study attributes of `source`, naturalized (dcmjs keywords), ready to spread into
 * a new dataset, and what was changed to make them valid. Throws a TypeError naming the attribute
 * when a Type 1 attribute of a mandatory module is missing or has no valid value.
 */
export function copyPatientStudy(source: DicomJson): CopiedPatientStudy {
  const changes: SourceValueChange[] = [];
  const optionalModules = presentOptionalModules(source, changes);
  const picked: Record<string, DicomJsonElement> = {};
  const empties: NaturalizedDataset = {};
  for (const attr of PATIENT_STUDY_ATTRIBUTES) {
    if (OPTIONAL_MODULE_KEY[attr.module] !== undefined && !optionalModules.has(attr.module)) continue;
    const values = validValuesOf(source, attr, changes);
    if (values.length > 0) {
      picked[attr.tag] = { vr: source[attr.tag]!.vr, Value: values };
    } else if (attr.type === '1') {
      const problem = hasValue(source[attr.tag]) ? 'has no valid value' : 'is missing';
      throw new TypeError(`source metadata: ${attr.keyword} (${attr.tag}) is Type 1 in the ${attr.module} module and ${problem}`);
    } else if (attr.type === '2' || (attr.type === '2C' && hasValue(source[attr.tag]))) {
      empties[attr.keyword] = attr.vr === 'SQ' ? [] : '';
    }
  }
  // naturalizeDataset adds a _vrMap for ambiguous VRs; none of these attributes has one.
  const { _vrMap: _unused, ...naturalized } = DicomMetaDictionary.naturalizeDataset(picked);
  return { attributes: { ...empties, ...naturalized }, changes };
}
