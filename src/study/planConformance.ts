/**
 * Whether an arriving instance has the geometry its volume was planned with (volumePlan.ts): the
 * plan comes from WADO-RS metadata, the pixels from the instance itself, and the two may differ
 * (the series changed in between, or the metadata and the file disagree). Size, pixel spacing and
 * orientation must match, and the position must be present; a mismatch is refused as
 * `instance-mismatch`, naming the instance, the attribute and both values.
 */
import { TAG } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import type { Geometry } from './geometry';
import type { ParsedInstance } from './instanceParser';
import { instanceLabel } from './pixelChecks';
import { attributeLabel } from './tagLabels';
import { DEFAULT_PLAN_TOLERANCES } from './volumePlan';

/** PixelSpacing values may differ by less than 0.00005 mm: planning compares them between slices rounded to 0.0001 mm. */
const PIXEL_SPACING_TOLERANCE_MM = 5e-5;

function mismatch(instance: ParsedInstance, message: string, tag: string): AnalysisRefusedError {
  return new AnalysisRefusedError('instance-mismatch', `${instanceLabel(instance)}: ${message}`, { sopInstanceUID: instance.sopInstanceUID, tag });
}

function describe(values: readonly number[]): string {
  return values.map((value) => Math.round(value * 1e6) / 1e6).join('\\');
}

/** Refuses an instance whose size, pixel spacing or orientation is not the plan's, or that has no position. */
export function checkInstanceGeometry(instance: ParsedInstance, geometry: Geometry): void {
  const [columns, rows] = geometry.dims;
  if (instance.rows !== rows || instance.columns !== columns) {
    const label = `${attributeLabel('Rows', TAG.rows)} x ${attributeLabel('Columns', TAG.columns)}`;
    throw mismatch(instance, `${label} is ${instance.rows} x ${instance.columns}, the plan says ${rows} x ${columns}`, TAG.rows);
  }
  const position = attributeLabel('ImagePositionPatient', TAG.imagePositionPatient);
  if (instance.imagePositionPatient === undefined) throw mismatch(instance, `no valid ${position}`, TAG.imagePositionPatient);

  const spacingLabel = attributeLabel('PixelSpacing', TAG.pixelSpacing);
  // PixelSpacing is [between rows, between columns] = [spacing along j, along i] (geometry.ts).
  const plannedSpacing = [geometry.spacing[1], geometry.spacing[0]];
  const spacing = instance.pixelSpacing;
  if (spacing === undefined) throw mismatch(instance, `no valid ${spacingLabel}`, TAG.pixelSpacing);
  if (spacing.some((value, i) => Math.abs(value - plannedSpacing[i]) > PIXEL_SPACING_TOLERANCE_MM)) {
    throw mismatch(instance, `${spacingLabel} is ${describe(spacing)}, the plan says ${describe(plannedSpacing)}`, TAG.pixelSpacing);
  }

  const orientationLabel = attributeLabel('ImageOrientationPatient', TAG.imageOrientationPatient);
  const plannedOrientation = [...geometry.rowDirection, ...geometry.columnDirection];
  const orientation = instance.imageOrientationPatient;
  if (orientation === undefined) throw mismatch(instance, `no valid ${orientationLabel}`, TAG.imageOrientationPatient);
  if (orientation.some((value, i) => Math.abs(value - plannedOrientation[i]) > DEFAULT_PLAN_TOLERANCES.orientationCosine)) {
    throw mismatch(instance, `${orientationLabel} is ${describe(orientation)}, the plan says ${describe(plannedOrientation)}`, TAG.imageOrientationPatient);
  }
}
