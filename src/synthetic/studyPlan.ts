/**
 * StudyPlan: everything drawn about a study before its series are written (the patient's
 * biology, tissues and anatomy, the scan geometry, the series and their names, the patient and
 * study attributes, the acquisition protocol). The series writers and the ground truth read it.
 */
import type { AcquisitionProtocol } from './acquisitionProtocol';
import type { Anatomy } from './anatomy';
import type { TumourBiology } from './biology';
import type { PixelEncoding, PixelEncodingName } from './encoding';
import type { NamingStyle, SeriesRole } from './naming';
import type { SyntheticPatient } from './patientAndStudy';
import type { SeededRandom } from './random';
import type { ScanGeometry } from './scanGeometry';
import type { InstanceOrderOption, SeriesDescriptions, SeriesSelection } from './seriesSettings';
import type { StudyAttributes } from './studyModules';
import type { PhaseHu } from './tissues';

export interface StudyPlan {
  seed: number;
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
}
