/**
 * The synthetic patient and the study's DICOM attributes: the pixel encoding, sex, age, size and
 * the study's day and time, drawn from the `metadata` stream; names and IDs made from the seed,
 * obviously synthetic.
 */
import { zeroPad, dicomDate, dicomTime } from './dicomDateTime';
import { PIXEL_ENCODING_NAMES, type PixelEncodingName } from './encoding';
import { isAscii } from './naming';
import type { SeededRandom } from './random';
import type { SeriesDescriptions } from './seriesSettings';
import type { StudyAttributes } from './studyModules';
import { syntheticUid } from './uid';
import type { SyntheticPatient } from './studyPlan';
import { GENERATOR_VERSION } from './version';

/** The pixel encoding of the whole study: as asked, or drawn. */
export function drawPixelEncoding(metadata: SeededRandom, asked: 'random' | PixelEncodingName | undefined): PixelEncodingName {
  return !asked || asked === 'random' ? metadata.pick(PIXEL_ENCODING_NAMES) : asked;
}

/** Sex, age, weight and height (a wider body is heavier), and the day and time of the study. */
export function drawPatient(metadata: SeededRandom, bodyHalfWidthMm: number): SyntheticPatient {
  const sex = metadata.pick(['F', 'M'] as const);
  const ageYears = Math.round(metadata.truncatedGaussian(67, 9, 40, 88));
  const studyDay = Math.floor(Date.UTC(2019, 0, 1) / 86400000) + metadata.int(0, 1800);
  const birthDay = studyDay - Math.floor(ageYears * 365.25) - metadata.int(1, 360);
  const weightKg = Math.max(42, 45 + (bodyHalfWidthMm - 135) * 0.9 + metadata.gaussian(0, 5) + (sex === 'M' ? 8 : 0));
  const heightM = metadata.truncatedGaussian(sex === 'M' ? 1.75 : 1.62, 0.07, 1.45, 1.98);
  const studyStartSeconds = metadata.int(7 * 3600 + 1800, 17 * 3600);
  return { sex, ageYears, weightKg, heightM, birthDay, studyDay, studyStartSeconds };
}

/**
 * The attributes every object of the study shares; UTF-8 (ISO_IR 192) when a description needs it.
 * The UIDs derive from `uidSeed` (StudyPlan.uidSeed), the patient's name and IDs from the seed.
 */
export function studyAttributes(seed: number, patient: SyntheticPatient, descriptions: SeriesDescriptions, uidSeed: string | number = seed): StudyAttributes {
  const needsUtf8 = [...descriptions.bySeries.values(), descriptions.study].some((description) => !isAscii(description));
  return {
    specificCharacterSet: needsUtf8 ? 'ISO_IR 192' : 'ISO_IR 100',
    patientName: `SYNTHETIC^TSR-${zeroPad(seed, 6)}`,
    patientId: `SYN-${zeroPad(seed, 6)}`,
    patientBirthDate: dicomDate(patient.birthDay),
    patientSex: patient.sex,
    patientAge: `${zeroPad(patient.ageYears, 3)}Y`,
    patientWeightKg: patient.weightKg,
    patientSizeM: patient.heightM,
    studyInstanceUID: syntheticUid(uidSeed, 'study'),
    studyDate: dicomDate(patient.studyDay),
    studyTime: dicomTime(patient.studyStartSeconds),
    accessionNumber: `SYNACC${zeroPad(seed % 100000000, 8)}`,
    studyId: `${zeroPad(seed % 10000, 4)}`,
    studyDescription: descriptions.study,
    frameOfReferenceUID: syntheticUid(uidSeed, 'frame-of-reference'),
    manufacturer: 'TSR-NODE SYNTHETIC',
    modelName: 'Virtual CT',
    institutionName: 'Synthetic Data Only',
    stationName: 'SYNCT01',
    deviceSerialNumber: 'SYN0001',
    softwareVersions: GENERATOR_VERSION.slice(0, 64),
  };
}
