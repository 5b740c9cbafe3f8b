/**
 * The overlay picture a radiologist sees: the key slices of both phases at the tumour level, side
 * by side (portal-venous left, arterial right), soft-tissue windowed, with the saliency heatmap,
 * the tumour outline, a legend, and a text band (result, probability, model, date, research-use
 * notice). Text is drawn by Skia through @napi-rs/canvas with registered system fonts.
 *
 * Pure apart from font registration and a scratch buffer kept between calls: the same options give
 * the same pixels.
 */
import { createCanvas, ImageData, type SKRSContext2D } from '@napi-rs/canvas';
import type { PhaseFinding, TsrAnalysis } from '../../inference/result';
import { isoDate } from '../dicomDateTime';
import { modelLine, RESEARCH_USE_NOTICE, tsrResultLine } from '../resultText';
import { registerResultFonts } from './fonts';

export interface OverlayOptions {
  analysis: TsrAnalysis;
  /** The injected clock's reading, printed as the date. */
  now: Date;
  /** Display window in HU; default soft tissue (W 400, L 40). */
  window?: { centre: number; width: number };
  /** Side of each phase's panel in pixels (the slice is scaled to fit, keeping its aspect). */
  panelSize?: number;
  /** Saliency below this is not painted. */
  saliencyFloor?: number;
}

export interface RgbImage {
  columns: number;
  rows: number;
  /** Interleaved R, G, B bytes, row-major (PlanarConfiguration 0). */
  rgb: Uint8Array;
}

/** Where each phase's key slice landed on the picture, for tests and for anyone annotating it. */
export interface PanelPlacement {
  phase: 'venous' | 'arterial';
  x: number;
  y: number;
  /** Picture pixels per key-slice pixel, horizontally and vertically. */
  scaleX: number;
  scaleY: number;
}

export interface OverlayRendering extends RgbImage {
  panels: PanelPlacement[];
  /** Top of the text band. */
  textBandY: number;
}

const MARGIN = 16;
const LABEL_HEIGHT = 30;
const TEXT_BAND = 130;
const OUTLINE_COLOUR = '#00ff66';

/** Heatmap colours from low to high saliency (blue, cyan, green, yellow, red). */
const HEAT_STOPS: Array<[number, [number, number, number]]> = [
  [0, [0, 0, 255]],
  [0.25, [0, 255, 255]],
  [0.5, [0, 255, 0]],
  [0.75, [255, 255, 0]],
  [1, [255, 0, 0]],
];

export function heatColour(s: number): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  heatColourInto(s, out);
  return out;
}

/** heatColour written into `out`, without allocating: the per-pixel loop calls it for every salient pixel. */
function heatColourInto(s: number, out: [number, number, number]): void {
  const v = Math.min(1, Math.max(0, s));
  for (let i = 1; i < HEAT_STOPS.length; i++) {
    const [t1, c1] = HEAT_STOPS[i];
    const [t0, c0] = HEAT_STOPS[i - 1];
    if (v <= t1) {
      const f = (v - t0) / (t1 - t0);
      for (let k = 0; k < 3; k++) out[k] = Math.round(c0[k] + f * (c1[k] - c0[k]));
      return;
    }
  }
  const last = HEAT_STOPS[HEAT_STOPS.length - 1][1];
  for (let k = 0; k < 3; k++) out[k] = last[k];
}

/** Opaque alpha, in a pixel read as one 32-bit word: little-endian (x64, arm64), so R is the low byte. */
const OPAQUE = 0xff000000;

/** The key slice, windowed to grey, with the saliency blended in, at the slice's own resolution, written as RGBA into `out`. */
function slicePixels(f: PhaseFinding, window: { centre: number; width: number }, floor: number, out: Uint8ClampedArray): void {
  const { columns, rows, data } = f.keySliceHu;
  const saliency = f.saliency.data;
  // A grey pixel is written as one word; a blended one byte by byte, rounded and clamped by `out`.
  const words = new Uint32Array(out.buffer, out.byteOffset, columns * rows);
  const low = window.centre - window.width / 2;
  const heat: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < columns * rows; i++) {
    const grey = Math.round((255 * Math.min(Math.max(data[i] - low, 0), window.width)) / window.width);
    const s = saliency[i] ?? 0;
    if (s > floor) {
      const alpha = 0.25 + 0.35 * s;
      heatColourInto(s, heat);
      out[4 * i] = (1 - alpha) * grey + alpha * heat[0];
      out[4 * i + 1] = (1 - alpha) * grey + alpha * heat[1];
      out[4 * i + 2] = (1 - alpha) * grey + alpha * heat[2];
      out[4 * i + 3] = 255;
    } else {
      words[i] = (OPAQUE | (grey * 0x010101)) >>> 0;
    }
  }
}

/**
 * The RGBA memory of the last tile size, kept from one overlay to the next: every pixel of it is
 * written each time, and fresh memory costs a page fault per page (drawing is synchronous, so
 * one is enough).
 */
let tileScratch: ImageData | undefined;

function tileImageData(columns: number, rows: number): ImageData {
  if (tileScratch?.width !== columns || tileScratch.height !== rows) tileScratch = new ImageData(columns, rows);
  return tileScratch;
}

function checkOptions(o: OverlayOptions): void {
  for (const phase of ['venous', 'arterial'] as const) {
    const f = o.analysis[phase];
    const n = f.keySliceHu.columns * f.keySliceHu.rows;
    if (f.keySliceHu.data.length !== n) throw new RangeError(`analysis.${phase}.keySliceHu: data has ${f.keySliceHu.data.length} values, expected ${n}`);
    if (f.saliency.columns !== f.keySliceHu.columns || f.saliency.rows !== f.keySliceHu.rows) {
      throw new RangeError(`analysis.${phase}.saliency: must be on the key slice's grid (${f.keySliceHu.columns}x${f.keySliceHu.rows})`);
    }
  }
  if (o.window && !(o.window.width > 0)) throw new RangeError('window.width: must be > 0');
}

function drawPanel(ctx: SKRSContext2D, f: PhaseFinding, label: string, x: number, y: number, size: number, o: OverlayOptions, font: string): PanelPlacement {
  const { columns, rows } = f.keySliceHu;
  // Physical aspect: PixelSpacing is [row spacing, column spacing].
  const widthMm = columns * f.pixelSpacingMm[1];
  const heightMm = rows * f.pixelSpacingMm[0];
  const mmToPx = size / Math.max(widthMm, heightMm);
  const w = widthMm * mmToPx;
  const h = heightMm * mmToPx;
  const ox = x + (size - w) / 2;
  const oy = y + LABEL_HEIGHT + (size - h) / 2;

  const tile = createCanvas(columns, rows);
  const tctx = tile.getContext('2d');
  const imageData = tileImageData(columns, rows);
  slicePixels(f, o.window ?? { centre: 40, width: 400 }, o.saliencyFloor ?? 0.15, imageData.data);
  tctx.putImageData(imageData, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tile, ox, oy, w, h);

  const scaleX = w / columns;
  const scaleY = h / rows;
  ctx.strokeStyle = OUTLINE_COLOUR;
  ctx.lineWidth = 2;
  ctx.beginPath();
  f.outlinePixels.forEach(([c, r], k) => {
    const px = ox + (c + 0.5) * scaleX;
    const py = oy + (r + 0.5) * scaleY;
    if (k === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.closePath();
  ctx.stroke();

  ctx.fillStyle = '#ffffff';
  ctx.font = `bold 18px ${font}`;
  ctx.textBaseline = 'middle';
  ctx.fillText(label, x, y + LABEL_HEIGHT / 2);
  return { phase: f.phase, x: ox, y: oy, scaleX, scaleY };
}

function drawLegend(ctx: SKRSContext2D, x: number, y: number, width: number, font: string): void {
  ctx.fillStyle = '#ffffff';
  ctx.font = `14px ${font}`;
  ctx.textBaseline = 'top';
  ctx.fillText('Model saliency', x, y);
  const barY = y + 20;
  for (let i = 0; i < width; i++) {
    const [r, g, b] = heatColour(i / (width - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x + i, barY, 1, 14);
  }
  ctx.fillStyle = '#ffffff';
  ctx.fillText('low', x, barY + 18);
  const high = 'high';
  ctx.fillText(high, x + width - ctx.measureText(high).width, barY + 18);
  ctx.strokeStyle = OUTLINE_COLOUR;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x, barY + 50);
  ctx.lineTo(x + 28, barY + 50);
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'middle';
  ctx.fillText('Tumour outline', x + 36, barY + 50);
}

export function renderTsrOverlay(o: OverlayOptions): OverlayRendering {
  checkOptions(o);
  const font = registerResultFonts();
  const panel = o.panelSize ?? 512;
  const columns = 2 * panel + 3 * MARGIN;
  const textBandY = MARGIN + LABEL_HEIGHT + panel + MARGIN;
  const rows = textBandY + TEXT_BAND;
  const canvas = createCanvas(columns, rows);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#000000';
  ctx.fillRect(0, 0, columns, rows);

  const a = o.analysis;
  const panels = [
    drawPanel(ctx, a.venous, 'Portal-venous phase', MARGIN, MARGIN, panel, o, font),
    drawPanel(ctx, a.arterial, 'Arterial (pancreatic) phase', 2 * MARGIN + panel, MARGIN, panel, o, font),
  ];

  // Text band: the result first, then provenance, then the notice.
  ctx.fillStyle = '#1b1b1b';
  ctx.fillRect(0, textBandY, columns, TEXT_BAND);
  const legendWidth = Math.min(220, Math.floor(columns / 4));
  const textWidth = columns - 3 * MARGIN - legendWidth;
  ctx.textBaseline = 'top';
  ctx.fillStyle = a.label === 'high' ? '#ff8c66' : '#8fd4ff';
  ctx.font = `bold 24px ${font}`;
  ctx.fillText(tsrResultLine(a), MARGIN, textBandY + 14, textWidth);
  ctx.fillStyle = '#ffffff';
  ctx.font = `17px ${font}`;
  ctx.fillText(`Model: ${modelLine(a)}    Date: ${isoDate(o.now)}    Tumour diameter: ${a.tumour.diameterMm.toFixed(1)} mm`, MARGIN, textBandY + 56, textWidth);
  ctx.fillStyle = '#ffd24d';
  ctx.font = `bold 18px ${font}`;
  ctx.fillText(RESEARCH_USE_NOTICE, MARGIN, textBandY + 92, textWidth);
  drawLegend(ctx, columns - MARGIN - legendWidth, textBandY + 14, legendWidth, font);

  const rgba = ctx.getImageData(0, 0, columns, rows).data;
  const rgb = new Uint8Array(columns * rows * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { columns, rows, rgb, panels, textBandY };
}
