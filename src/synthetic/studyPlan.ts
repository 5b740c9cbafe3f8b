/**
 * StudyPlan: everything drawn about a study before its series are written (the patient's
 * biology, tissues and anatomy, the scan geometry, the series and their names, the patient and
 * study attributes, the acquisition protocol). The series writers and the ground truth read it.
 * The types the drawing files share live here too, so that they import this file and not each
 * other.
 */
import type { AcquisitionProtocol } from './acquisitionProtocol';
import type { Anatomy } from './anatomyTypes';
import type { TumourBiology } from './biology';
import type { PixelEncoding, PixelEncodingName } from './encoding';
import type { NamingStyle, SeriesRole } from './naming';
import type { SeededRandom } from './random';
import type { ScanGeometry } from './scanGeometry';
import type { StudyAttributes } from './studyModules';
import type { ImageStyle } from './imageStyle';
import type { CentreProfile } from './profiles';
import type { StudyRandomisation } from './randomisationTruth';
import type { PhaseHu } from './tissues';

export type ExtrasOption = 'none' | 'random' | 'all';

export type InstanceOrder = 'head-first' | 'feet-first' | 'shuffled';

export type InstanceOrderOption = 'random' | InstanceOrder;

export interface SeriesSelection {
  /** The study's series, in series-number order. */
  roles: SeriesRole[];
  /** 5 mm reconstructions of the arterial and venous phases. */
  thick: boolean;
  delayed: boolean;
  doseReport: boolean;
}

export interface SeriesDescriptions {
  bySeries: Map<SeriesRole, string>;
  /** StudyDescription. */
  study: string;
}

export interface SyntheticPatient {
  sex: 'F' | 'M';
  ageYears: number;
  weightKg: number;
  heightM: number;
  /** Days since 1970-01-01 of the birth and of the study. */
  birthDay: number;
  studyDay: number;
  /** Second of the day the study starts. */
  studyStartSeconds: number;
}

export interface SyntheticFile {
  /** Path of the Part 10 file relative to the study folder, e.g. `S003/I0001.dcm`. */
  relativePath: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  bytes: Uint8Array;
}

export interface StudyPlan {
  seed: number;
  /**
   * What the study's UIDs derive from: the seed for the baseline (the UIDs it always had), the
   * profile's name and the seed for the other profiles, so that one seed under two profiles (two
   * different studies) never shares a UID.
   */
  uidSeed: string | number;
  /** Image width = height. */
  columns: number;
  /** Thin slices per phase series. */
  slices: number;
  biology: TumourBiology;
  tissueHu: PhaseHu;
  anatomy: Anatomy;
  geometry: ScanGeometry;
  series: SeriesSelection;
  seriesNumbers: Map<SeriesRole, number>;
  naming: NamingStyle;
  descriptions: SeriesDescriptions;
  encodingName: PixelEncodingName;
  encoding: PixelEncoding;
  patient: SyntheticPatient;
  study: StudyAttributes;
  protocol: AcquisitionProtocol;
  instanceOrder: InstanceOrderOption;
  /**
   * The `acquisition` stream, which the series writer goes on drawing from, role by role: the
   * slice thickness and extra range of the non-contrast and delayed series, and the instance order
   * of each axial series (and of its 5 mm reconstruction).
   */
  acquisition: SeededRandom;
  /** Randomised profiles: the kernel's noise texture, blur and bias field. */
  imageStyle?: ImageStyle;
  /** Randomised profiles: the profile and every value drawn for the study. */
  randomisation?: { profile: CentreProfile; record: StudyRandomisation };
}
