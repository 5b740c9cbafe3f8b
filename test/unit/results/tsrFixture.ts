/**
 * Test inputs for the result builders: a small dual-phase CT study made with the simple CT
 * harness (real Part 10 files, real DICOM JSON from them) and a hand-written TsrAnalysis over it.
 * The key-slice images are a plain phantom (body ellipse, pancreas-like band, hypodense tumour) so
 * that the overlay looks like something a person can check.
 */
import { SOP_CLASS } from '../../../src/dicom/dictionary';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../../harness/simpleCtSeries';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import type { PhaseFinding, SliceImage, TsrAnalysis, TumourLocalisation } from '../../../src/inference/result';
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';
import type { Phase } from '../../../src/inference/manifest';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as { data: { DicomMessage: { readFile(b: ArrayBuffer): { dict: DicomJson } } }; log: { setLevel(l: string): void } };
/* eslint-enable @typescript-eslint/no-require-imports */

// The simple CT harness writes positions that dcmjs shortens to 16 characters, with a log line each.
dcmjs.log.setLevel('error');

export interface TsrFixture {
  studyInstanceUID: string;
  series: Record<Phase, SimpleCtSeries>;
  analysis: TsrAnalysis;
  /** DICOM JSON of each phase's key instance, as WADO-RS metadata would give it. */
  sourceMetadata: Record<Phase, DicomJson>;
}

export interface TsrFixtureOptions {
  seed?: string;
  size?: number;
  slices?: number;
  label?: 'low' | 'high';
  probabilityHigh?: number;
  /** Extra naturalized attributes for the source images (e.g. a CJK PatientName). */
  extra?: Record<string, unknown>;
  classifierSha256?: string;
}

/** DICOM JSON (PS3.18 F.2) of a Part 10 file, via dcmjs's denaturalized form (same shape). */
export function part10ToDicomJson(part10: Uint8Array): DicomJson {
  const copy = part10.buffer.slice(part10.byteOffset, part10.byteOffset + part10.byteLength) as ArrayBuffer;
  const dict = dcmjs.data.DicomMessage.readFile(copy).dict;
  delete dict['7FE00010'];
  return dict;
}

function phantom(size: number, tumour: [number, number], radius: number, enhancement: number): SliceImage {
  const data = new Float32Array(size * size);
  const c = size / 2;
  for (let r = 0; r < size; r++) {
    for (let col = 0; col < size; col++) {
      const body = ((col - c) / (0.45 * size)) ** 2 + ((r - c) / (0.35 * size)) ** 2 <= 1;
      const band = Math.abs(r - (c + 0.05 * size) - 0.25 * (col - c)) < 0.06 * size && Math.abs(col - c) < 0.3 * size;
      const inTumour = (col - tumour[0]) ** 2 + (r - tumour[1]) ** 2 <= radius ** 2;
      data[r * size + col] = !body ? -1000 : inTumour ? 30 : band ? 60 + enhancement : 40;
    }
  }
  return { columns: size, rows: size, data };
}

function saliency(size: number, centre: [number, number], sigma: number): SliceImage {
  const data = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let col = 0; col < size; col++) {
      data[r * size + col] = Math.exp(-((col - centre[0]) ** 2 + (r - centre[1]) ** 2) / (2 * sigma * sigma));
    }
  }
  return { columns: size, rows: size, data };
}

function circle(centre: [number, number], radius: number, points = 24): Array<[number, number]> {
  return Array.from({ length: points }, (_, k) => {
    const t = (2 * Math.PI * k) / points;
    return [Math.round((centre[0] + radius * Math.cos(t)) * 100) / 100, Math.round((centre[1] + radius * Math.sin(t)) * 100) / 100] as [number, number];
  });
}

/**
 * The grid of the simple CT harness's series (slices in instance order): ImagePositionPatient
 * [-columns * spacing / 2, -rows * spacing / 2, -k * thickness], axial. Its slices run feet-wards, so
 * the normal is -z (what volume assembly would sort the other way round; the fixture keeps the
 * instance order, and every position follows the normal it states).
 */
export function seriesGeometry(size: number, slices: number, pixelSpacingMm: number, thicknessMm: number): Geometry {
  return {
    dims: [size, size, slices],
    spacing: [pixelSpacingMm, pixelSpacingMm, thicknessMm],
    origin: [-(size * pixelSpacingMm) / 2, -(size * pixelSpacingMm) / 2, 0],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, -1],
  };
}

/**
 * A localiser output on a 4 mm grid over the fixture's volume: one Gaussian blob of peak 0.95 whose
 * half-maximum surface is the sphere of `radiusMm` around `centreMm`, the peak on the voxel nearest it.
 */
export function localisationBlob(centreMm: Vec3, radiusMm: number): TumourLocalisation {
  const geometry: Geometry = {
    dims: [24, 24, 16],
    spacing: [4, 4, 4],
    origin: [centreMm[0] - 48, centreMm[1] - 48, centreMm[2] - 32],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    normal: [0, 0, 1],
  };
  const sigma = radiusMm / Math.sqrt(2 * Math.LN2);
  const data = new Float32Array(24 * 24 * 16);
  for (let k = 0; k < 16; k++) {
    for (let j = 0; j < 24; j++) {
      for (let i = 0; i < 24; i++) {
        const p = indexToPatient(geometry, i, j, k);
        const d2 = (p[0] - centreMm[0]) ** 2 + (p[1] - centreMm[1]) ** 2 + (p[2] - centreMm[2]) ** 2;
        data[(k * 24 + j) * 24 + i] = 0.95 * Math.exp(-d2 / (2 * sigma * sigma));
      }
    }
  }
  return { grid: { geometry, data }, peakIndex: [12, 12, 8], level: 0.475 };
}

export function makeTsrFixture(options: TsrFixtureOptions = {}): TsrFixture {
  const seed = options.seed ?? 'tsr-results';
  const size = options.size ?? 96;
  const slices = options.slices ?? 20;
  const keySliceIndex = Math.floor(slices / 2);
  const arterial = makeSimpleCtSeries({ seed, rows: size, columns: size, slices, seriesNumber: 2, seriesDescription: 'Pancreatic phase 1.0 mm', extra: options.extra });
  const venous = makeSimpleCtSeries({
    seed,
    rows: size,
    columns: size,
    slices,
    seriesNumber: 3,
    seriesDescription: 'Portal venous phase 1.0 mm',
    studyInstanceUID: arterial.studyInstanceUID,
    extra: options.extra,
  });
  const tumourPx: [number, number] = [Math.round(size * 0.58), Math.round(size * 0.55)];
  const radiusPx = size * 0.08;
  const spacing: [number, number] = [0.7, 0.7];
  const volumeGeometry = seriesGeometry(size, slices, spacing[0], 2.5);
  const tumourCentreMm = indexToPatient(volumeGeometry, tumourPx[0], tumourPx[1], keySliceIndex);
  const finding = (phase: Phase, s: SimpleCtSeries, enhancement: number): PhaseFinding => ({
    phase,
    seriesInstanceUID: s.seriesInstanceUID,
    keySopInstanceUID: s.instances[keySliceIndex].sopInstanceUID,
    keySliceIndex,
    tumourCentreMm: [0, 0, -keySliceIndex * 2.5],
    tumourCentrePixel: tumourPx,
    outlinePixels: circle(tumourPx, radiusPx),
    pixelSpacingMm: spacing,
    keySliceHu: phantom(size, tumourPx, radiusPx, enhancement),
    saliency: saliency(size, tumourPx, radiusPx * 1.2),
    sourceSopInstanceUIDs: s.instances.map((i) => i.sopInstanceUID),
    sopClassUID: SOP_CLASS.ctImageStorage,
    volumeGeometry,
  });
  const label = options.label ?? 'high';
  const analysis: TsrAnalysis = {
    studyInstanceUID: arterial.studyInstanceUID,
    probabilityHigh: options.probabilityHigh ?? (label === 'high' ? 0.8734 : 0.2125),
    label,
    threshold: 0.5,
    classifier: { name: 'tsr-clip-fusion', version: '0.3.1', sha256: options.classifierSha256 ?? 'a'.repeat(64) },
    models: [
      { role: 'localizer', name: 'tsr-localizer', version: '0.2.0', sha256: 'b'.repeat(64) },
      { role: 'classifier', name: 'tsr-clip-fusion', version: '0.3.1', sha256: options.classifierSha256 ?? 'a'.repeat(64) },
    ],
    tumour: { centreMm: [0, 0, -keySliceIndex * 2.5], diameterMm: 2 * radiusPx * spacing[0], confidence: 0.91 },
    arterial: finding('arterial', arterial, 80),
    venous: finding('venous', venous, 40),
    tumourLocalisation: localisationBlob(tumourCentreMm, radiusPx * spacing[0]),
    timingsMs: { localise: 10, crop: 2, classify: 5 },
  };
  return {
    studyInstanceUID: arterial.studyInstanceUID,
    series: { arterial, venous },
    analysis,
    sourceMetadata: {
      arterial: part10ToDicomJson(arterial.instances[keySliceIndex].part10),
      venous: part10ToDicomJson(venous.instances[keySliceIndex].part10),
    },
  };
}
