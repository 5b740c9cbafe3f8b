/**
 * A picture of a few synthetic studies side by side (`tsr-node synth --preview FILE`, and the
 * figure of docs/synthetic-data.md): per study, the axial slice of each phase nearest the
 * tumour's venous-phase centre, in an abdominal window, with the tumour's ground-truth centre of
 * that phase circled, and a caption with the profile's draws. Drawn with @napi-rs/canvas and
 * Debian's DejaVu Sans (fonts-dejavu-core, a system dependency of the node).
 */
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { existsSync } from 'node:fs';
import { storedToHu } from '../study/huConversion';
import { parseInstance } from '../study/instanceParser';
import { decodePixels } from '../study/pixelDecoding';
import type { SyntheticStudy } from './study';

const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT_FAMILY = 'DejaVu Sans';
/** Side of one image panel, and the caption's height (px). */
const PANEL = 256;
const CAPTION = 64;
const ROW_LABEL = 22;
/** Abdominal window: level 40 HU, width 400 HU. */
const WINDOW = { low: -160, high: 240 };

let fontRegistered = false;

function registerFont(): void {
  if (fontRegistered) return;
  if (!existsSync(FONT_FILE)) throw new Error(`font ${FONT_FILE} is missing: install the Debian package fonts-dejavu-core`);
  GlobalFonts.registerFromPath(FONT_FILE, FONT_FAMILY);
  fontRegistered = true;
}

interface PhaseSlice {
  hu: Float32Array;
  rows: number;
  columns: number;
  /** Patient x, y of pixel (0, 0) and the pixel spacing (mm); axial slices only. */
  origin: [number, number];
  spacing: [number, number];
}

/** The slice of a series nearest patient height z, in HU. */
async function sliceNear(study: SyntheticStudy, seriesInstanceUID: string, z: number): Promise<PhaseSlice> {
  const instances = study.files.filter((file) => file.seriesInstanceUID === seriesInstanceUID).map((file) => parseInstance(Buffer.from(file.bytes)));
  const nearest = instances.reduce((best, candidate) => (Math.abs(candidate.imagePositionPatient![2] - z) < Math.abs(best.imagePositionPatient![2] - z) ? candidate : best));
  const hu = new Float32Array(nearest.rows * nearest.columns);
  storedToHu(nearest, await decodePixels(nearest), hu, 0);
  const position = nearest.imagePositionPatient!;
  return { hu, rows: nearest.rows, columns: nearest.columns, origin: [position[0], position[1]], spacing: [nearest.pixelSpacing![1], nearest.pixelSpacing![0]] };
}

/** The slice scaled to the panel (nearest pixel), windowed, with the tumour centre circled. */
function drawSlice(ctx: SKRSContext2D, slice: PhaseSlice, left: number, top: number, centre: [number, number], radiusMm: number): void {
  const image = ctx.createImageData(PANEL, PANEL);
  for (let y = 0; y < PANEL; y++) {
    const j = Math.min(slice.rows - 1, Math.floor((y / PANEL) * slice.rows));
    for (let x = 0; x < PANEL; x++) {
      const i = Math.min(slice.columns - 1, Math.floor((x / PANEL) * slice.columns));
      const value = slice.hu[j * slice.columns + i];
      const grey = Math.round(255 * Math.min(1, Math.max(0, (value - WINDOW.low) / (WINDOW.high - WINDOW.low))));
      const p = 4 * (y * PANEL + x);
      image.data[p] = image.data[p + 1] = image.data[p + 2] = grey;
      image.data[p + 3] = 255;
    }
  }
  ctx.putImageData(image, left, top);
  const scale = PANEL / (slice.columns * slice.spacing[0]);
  ctx.strokeStyle = '#E69F00';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.arc(left + (centre[0] - slice.origin[0] + slice.spacing[0] / 2) * scale, top + (centre[1] - slice.origin[1] + slice.spacing[1] / 2) * scale, Math.max(6, (radiusMm + 6) * scale), 0, 2 * Math.PI);
  ctx.stroke();
}

/** Three caption lines: the profile and seed; the scanner draws; the tumour and misregistration. */
function captionLines(study: SyntheticStudy): string[] {
  const truth = study.groundTruth;
  const drawn = truth.randomisation;
  const a = truth.acquisition;
  const scanner = drawn
    ? `${drawn.acquisition.matrix}² ${drawn.acquisition.pixelSpacingMm.toFixed(2)} mm, ${drawn.acquisition.sliceThicknessMm}/${drawn.acquisition.sliceIntervalMm} mm, ${drawn.acquisition.kvp} kV, ${drawn.acquisition.kernelSharpness}`
    : `${a.columns}² ${a.pixelSpacingMm.toFixed(2)} mm, ${a.sliceThicknessMm} mm slices`;
  const shift = drawn ? `, phases ${Math.hypot(...drawn.misregistrationMm).toFixed(1)} mm apart` : '';
  const shape = drawn ? `${drawn.tumour.shape} ` : '';
  return [`${truth.profile ?? 'baseline'} #${truth.seed} (TSR ${truth.tumour.label})`, scanner, `${shape}${truth.tumour.diameterMm.toFixed(0)} mm ${truth.tumour.region}${shift}`];
}

/** The PNG: one column per study, the pancreatic phase above the portal-venous phase. */
export async function previewPng(studies: SyntheticStudy[]): Promise<Buffer> {
  if (studies.length === 0) throw new RangeError('no studies to preview');
  registerFont();
  const canvas = createCanvas(ROW_LABEL + studies.length * PANEL, CAPTION + 2 * PANEL);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000000';
  ctx.font = `13px "${FONT_FAMILY}"`;
  for (const [row, label] of ['pancreatic', 'portal venous'].entries()) {
    ctx.save();
    ctx.translate(15, CAPTION + row * PANEL + PANEL / 2 + 40);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(label, 0, 0);
    ctx.restore();
  }
  for (const [k, study] of studies.entries()) {
    const truth = study.groundTruth;
    const left = ROW_LABEL + k * PANEL;
    ctx.fillStyle = '#000000';
    ctx.font = `12px "${FONT_FAMILY}"`;
    captionLines(study).forEach((line, i) => ctx.fillText(line, left + 4, 16 + 18 * i, PANEL - 8));
    const z = truth.phases.venous.tumourCentre[2];
    for (const [row, phase] of (['arterial', 'venous'] as const).entries()) {
      const slice = await sliceNear(study, truth.phases[phase].seriesInstanceUID, z);
      const centre = truth.phases[phase].tumourCentre;
      drawSlice(ctx, slice, left, CAPTION + row * PANEL, [centre[0], centre[1]], truth.tumour.diameterMm / 2);
    }
  }
  return canvas.toBuffer('image/png');
}
