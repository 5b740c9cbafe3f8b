/**
 * The localizer (scout, topogram): a coronal projection radiograph taken before the helical
 * scans. Made by rendering the unenhanced phantom on a coarse axial grid and integrating the
 * attenuation along y (anterior-posterior), which is what the X-ray projection measures. Values
 * are expressed on a HU-like scale (about -1000 in air, up to ~2000 behind bone) and stored with
 * the study's pixel encoding.
 */
import type { Anatomy } from './anatomyTypes';
import { SliceRenderer, type AxialGrid } from './render';
import type { PhaseHu } from './tissues';

export interface LocalizerImage {
  /** [columns (x), rows (z)] */
  columns: number;
  rows: number;
  /** Local coordinates of the centre of pixel (0, 0): x at the left column, z at the top row. */
  x0: number;
  zTop: number;
  columnSpacing: number;
  rowSpacing: number;
  values: Float32Array;
}

/** `columns` sets the detail: 256 gives a 2 mm scout; small test studies ask for fewer. */
export function renderLocalizer(anatomy: Anatomy, hu: PhaseHu, zCentre: number, columns = 256, lengthMm = 480, widthMm = 500): LocalizerImage {
  const columnSpacing = widthMm / columns;
  const rowSpacing = Math.max(2, Math.round(columnSpacing));
  const rows = Math.round(lengthMm / rowSpacing);
  const depthRows = Math.max(32, Math.round(columns * 0.375));
  const depth = 2 * anatomy.bodyHalfDepthMm + 60;
  // The axial grid is square-pixelled at the depth spacing; the projection is resampled in x.
  const depthSpacing = depth / depthRows;
  const axial: AxialGrid = { columns: Math.ceil(widthMm / depthSpacing), rows: depthRows, spacing: depthSpacing, x0: -widthMm / 2, y0: -depth / 2 };
  const renderer = new SliceRenderer(anatomy, hu, axial);
  const slice = new Float32Array(axial.columns * axial.rows);
  const texture = new Float32Array(axial.columns * axial.rows);
  const profile = new Float32Array(axial.columns);
  const values = new Float32Array(columns * rows);
  const zTop = zCentre + lengthMm / 2 - rowSpacing / 2;
  for (let r = 0; r < rows; r++) {
    const z = zTop - r * rowSpacing;
    renderer.render('non-contrast', z, [0, 0, 0], texture, slice);
    profile.fill(0);
    for (let j = 0; j < axial.rows; j++) {
      const o = j * axial.columns;
      for (let i = 0; i < axial.columns; i++) profile[i] = profile[i] + Math.max(0, slice[o + i] + 1000);
    }
    for (let c = 0; c < columns; c++) {
      const x = -widthMm / 2 + (c + 0.5) * columnSpacing;
      const u = Math.min(axial.columns - 1, Math.max(0, (x - axial.x0) / axial.spacing));
      const i0 = Math.floor(u);
      const i1 = Math.min(axial.columns - 1, i0 + 1);
      const f = u - i0;
      const waterMm = ((profile[i0] * (1 - f) + profile[i1] * f) * axial.spacing) / 1000;
      values[r * columns + c] = -1000 + waterMm * 9;
    }
  }
  return { columns, rows, x0: -widthMm / 2 + columnSpacing / 2, zTop, columnSpacing, rowSpacing, values };
}
