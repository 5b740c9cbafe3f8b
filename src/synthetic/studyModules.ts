/**
 * The IOD modules every object of a synthetic study shares, the CT images and the dose report
 * alike: Patient, General Study, Patient Study and General Equipment (PS3.3 C.7.1.1, C.7.2.1,
 * C.7.2.2, C.7.5.1), from the study's attributes.
 */
import { ds, type NaturalizedDataset } from './part10';

/** Attributes shared by every object of the study: Patient, General Study, Patient Study, Equipment. */
export interface StudyAttributes {
  specificCharacterSet: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  patientAge: string;
  patientWeightKg: number;
  patientSizeM: number;
  studyInstanceUID: string;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  studyId: string;
  studyDescription: string;
  frameOfReferenceUID: string;
  manufacturer: string;
  modelName: string;
  institutionName: string;
  stationName: string;
  deviceSerialNumber: string;
  softwareVersions: string;
}

/** Patient (PS3.3 C.7.1.1). */
export function patientModule(study: StudyAttributes): NaturalizedDataset {
  return {
    PatientName: study.patientName,
    PatientID: study.patientId,
    PatientBirthDate: study.patientBirthDate,
    PatientSex: study.patientSex,
  };
}

/** General Study (PS3.3 C.7.2.1). */
export function generalStudyModule(study: StudyAttributes): NaturalizedDataset {
  return {
    StudyInstanceUID: study.studyInstanceUID,
    StudyDate: study.studyDate,
    StudyTime: study.studyTime,
    ReferringPhysicianName: '',
    StudyID: study.studyId,
    AccessionNumber: study.accessionNumber,
    StudyDescription: study.studyDescription,
  };
}

/** Patient Study (PS3.3 C.7.2.2). */
export function patientStudyModule(study: StudyAttributes): NaturalizedDataset {
  return {
    PatientAge: study.patientAge,
    PatientSize: ds(study.patientSizeM, 2),
    PatientWeight: ds(study.patientWeightKg, 1),
  };
}

/** General Equipment (PS3.3 C.7.5.1), less the CT images' Pixel Padding Value. */
export function generalEquipmentModule(study: StudyAttributes): NaturalizedDataset {
  return {
    Manufacturer: study.manufacturer,
    InstitutionName: study.institutionName,
    StationName: study.stationName,
    ManufacturerModelName: study.modelName,
    DeviceSerialNumber: study.deviceSerialNumber,
    SoftwareVersions: study.softwareVersions,
  };
}
