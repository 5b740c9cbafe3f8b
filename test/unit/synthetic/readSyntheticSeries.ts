/**
 * Test helper: decodes the Part 10 files of one series with dcmjs (independently of the
 * generator's code) into an HU volume sorted along the slice normal, with its Geometry.
 */
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../../../src/study/geometry';
import type { SyntheticFile } from '../../../src/synthetic';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer): { dict: unknown; meta: unknown } };
    DicomMetaDictionary: { naturalizeDataset(dict: unknown): Record<string, unknown> };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export function readDataset(bytes: Uint8Array): Record<string, unknown> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const message = dcmjs.data.DicomMessage.readFile(buffer);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
}

export interface DecodedSeries {
  geometry: Geometry;
  hu: Float32Array;
  datasets: Array<Record<string, unknown>>;
}

function huOf(ds: Record<string, unknown>): Float32Array {
  const rows = ds.Rows as number;
  const columns = ds.Columns as number;
  const raw = (ds.PixelData as ArrayBuffer[])[0];
  const words = (ds.PixelRepresentation as number) === 1 ? new Int16Array(raw, 0, rows * columns) : new Uint16Array(raw, 0, rows * columns);
  const slope = Number(ds.RescaleSlope);
  const intercept = Number(ds.RescaleIntercept);
  const out = new Float32Array(rows * columns);
  for (let i = 0; i < out.length; i++) out[i] = words[i] * slope + intercept;
  return out;
}

export function decodeSeries(files: SyntheticFile[]): DecodedSeries {
  const datasets = files.map((f) => readDataset(f.bytes));
  const first = datasets[0];
  const iop = (first.ImageOrientationPatient as number[]).map(Number);
  const row: Vec3 = [iop[0], iop[1], iop[2]];
  const col: Vec3 = [iop[3], iop[4], iop[5]];
  const normal: Vec3 = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
  const along = (ds: Record<string, unknown>): number => {
    const p = (ds.ImagePositionPatient as number[]).map(Number);
    return p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
  };
  datasets.sort((a, b) => along(a) - along(b));
  const rows = first.Rows as number;
  const columns = first.Columns as number;
  const spacing = (first.PixelSpacing as number[]).map(Number);
  const sliceSpacing = datasets.length > 1 ? along(datasets[1]) - along(datasets[0]) : 1;
  const hu = new Float32Array(rows * columns * datasets.length);
  datasets.forEach((ds, k) => hu.set(huOf(ds), k * rows * columns));
  const origin = (datasets[0].ImagePositionPatient as number[]).map(Number) as Vec3;
  return {
    geometry: { dims: [columns, rows, datasets.length], spacing: [spacing[1], spacing[0], sliceSpacing], origin, rowDirection: row, columnDirection: col, normal },
    hu,
    datasets,
  };
}

/** Mean HU of the voxels whose centres lie within `radiusMm` of the patient point. */
export function meanInSphere(series: DecodedSeries, centre: Vec3, radiusMm: number): { mean: number; count: number } {
  const g = series.geometry;
  const [nx, ny, nz] = g.dims;
  const c = patientToIndex(g, centre);
  const reach = [radiusMm / g.spacing[0] + 1, radiusMm / g.spacing[1] + 1, radiusMm / Math.abs(g.spacing[2]) + 1];
  let sum = 0;
  let count = 0;
  for (let k = Math.max(0, Math.floor(c[2] - reach[2])); k <= Math.min(nz - 1, Math.ceil(c[2] + reach[2])); k++) {
    for (let j = Math.max(0, Math.floor(c[1] - reach[1])); j <= Math.min(ny - 1, Math.ceil(c[1] + reach[1])); j++) {
      for (let i = Math.max(0, Math.floor(c[0] - reach[0])); i <= Math.min(nx - 1, Math.ceil(c[0] + reach[0])); i++) {
        const p = indexToPatient(g, i, j, k);
        const d2 = (p[0] - centre[0]) ** 2 + (p[1] - centre[1]) ** 2 + (p[2] - centre[2]) ** 2;
        if (d2 <= radiusMm * radiusMm) {
          sum += series.hu[k * nx * ny + j * nx + i];
          count++;
        }
      }
    }
  }
  if (count === 0) {
    // The sphere falls between voxel centres: take the nearest voxel.
    const [i, j, k] = [Math.round(c[0]), Math.round(c[1]), Math.round(c[2])];
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return { mean: NaN, count: 0 };
    return { mean: series.hu[k * nx * ny + j * nx + i], count: 1 };
  }
  return { mean: sum / count, count };
}

export function filesOfSeries(files: SyntheticFile[], seriesInstanceUID: string): SyntheticFile[] {
  return files.filter((f) => f.seriesInstanceUID === seriesInstanceUID);
}
