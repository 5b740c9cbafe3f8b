/**
 * ROC curves of several models in one PNG (the figure `tsr-node evaluate` writes beside
 * evaluation.json), drawn with @napi-rs/canvas and Debian's DejaVu Sans.
 */
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { existsSync } from 'node:fs';
import type { RocPoint } from '../statistics/roc';

/** fonts-dejavu-core (a system dependency of the node, scripts/ensure-system-deps.js). */
const FONT_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT_FAMILY = 'DejaVu Sans';
let fontRegistered = false;

function registerFont(): void {
  if (fontRegistered) return;
  if (!existsSync(FONT_FILE)) throw new Error(`font ${FONT_FILE} is missing: install the Debian package fonts-dejavu-core`);
  GlobalFonts.registerFromPath(FONT_FILE, FONT_FAMILY);
  fontRegistered = true;
}

export interface RocSeries {
  label: string;
  points: RocPoint[];
  auc: number;
  /** CSS colour. */
  colour: string;
  dashed?: boolean;
}

export interface RocPlotOptions {
  title: string;
  subtitle?: string;
  sizePx?: number;
}

/** Colour-blind-safe colours (Okabe-Ito) for the three models. */
export const MODEL_COLOURS = { fused: '#0072B2', arterial: '#D55E00', venous: '#009E73' } as const;

/** Where the plot area sits in the square image, and how rates map to pixels. */
interface PlotFrame {
  /** Width and height of the square image, in pixels. */
  size: number;
  margin: { left: number; right: number; top: number; bottom: number };
  plotWidth: number;
  plotHeight: number;
  /** Pixel column of a false positive rate. */
  x: (falsePositiveRate: number) => number;
  /** Pixel row of a true positive rate. */
  y: (truePositiveRate: number) => number;
}

function plotFrame(size: number): PlotFrame {
  const margin = { left: size * 0.12, right: size * 0.05, top: size * 0.12, bottom: size * 0.11 };
  const plotWidth = size - margin.left - margin.right;
  const plotHeight = size - margin.top - margin.bottom;
  return {
    size,
    margin,
    plotWidth,
    plotHeight,
    x: (falsePositiveRate) => margin.left + falsePositiveRate * plotWidth,
    y: (truePositiveRate) => margin.top + (1 - truePositiveRate) * plotHeight,
  };
}

function fontOfSize(px: number): string {
  return `${Math.round(px)}px "${FONT_FAMILY}"`;
}

function drawTitle(ctx: SKRSContext2D, frame: PlotFrame, options: RocPlotOptions): void {
  const { size, margin } = frame;
  ctx.fillStyle = '#000000';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  ctx.font = fontOfSize(size * 0.03);
  ctx.fillText(options.title, size / 2, margin.top * 0.45);
  if (options.subtitle) {
    ctx.font = fontOfSize(size * 0.02);
    ctx.fillStyle = '#444444';
    ctx.fillText(options.subtitle, size / 2, margin.top * 0.78);
  }
}

/** Grid lines every 0.1, tick labels every 0.2, the frame of the plot and the chance diagonal. */
function drawGridAndAxes(ctx: SKRSContext2D, frame: PlotFrame): void {
  const { x, y } = frame;
  ctx.strokeStyle = '#dddddd';
  ctx.lineWidth = 1;
  ctx.font = fontOfSize(frame.size * 0.018);
  ctx.fillStyle = '#333333';
  for (let tick = 0; tick <= 10; tick++) {
    const rate = tick / 10;
    ctx.beginPath();
    ctx.moveTo(x(rate), y(0));
    ctx.lineTo(x(rate), y(1));
    ctx.moveTo(x(0), y(rate));
    ctx.lineTo(x(1), y(rate));
    ctx.stroke();
    if (tick % 2 === 0) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(rate.toFixed(1), x(rate), y(0) + 6);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(rate.toFixed(1), x(0) - 6, y(rate));
    }
  }
  ctx.strokeStyle = '#000000';
  ctx.strokeRect(x(0), y(1), frame.plotWidth, frame.plotHeight);
  // Chance line
  ctx.setLineDash([6, 6]);
  ctx.strokeStyle = '#999999';
  ctx.beginPath();
  ctx.moveTo(x(0), y(0));
  ctx.lineTo(x(1), y(1));
  ctx.stroke();
  ctx.setLineDash([]);
}

function drawAxisTitles(ctx: SKRSContext2D, frame: PlotFrame): void {
  const { size, margin } = frame;
  ctx.fillStyle = '#000000';
  ctx.font = fontOfSize(size * 0.022);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText('1 - specificity (false positive rate)', margin.left + frame.plotWidth / 2, size - size * 0.015);
  ctx.save();
  ctx.translate(size * 0.035, margin.top + frame.plotHeight / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText('sensitivity (true positive rate)', 0, 0);
  ctx.restore();
}

/** The empirical ROC is a staircase; ties make diagonal steps. */
function drawCurves(ctx: SKRSContext2D, frame: PlotFrame, series: RocSeries[]): void {
  const { x, y } = frame;
  for (const model of series) {
    ctx.strokeStyle = model.colour;
    ctx.lineWidth = Math.max(2, frame.size / 300);
    ctx.setLineDash(model.dashed ? [10, 6] : []);
    ctx.beginPath();
    model.points.forEach((point, index) => {
      if (index === 0) ctx.moveTo(x(point.falsePositiveRate), y(point.truePositiveRate));
      else ctx.lineTo(x(point.falsePositiveRate), y(point.truePositiveRate));
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** Legend, bottom right inside the plot: a line sample and "label  AUC 0.000" per model. */
function drawLegend(ctx: SKRSContext2D, frame: PlotFrame, series: RocSeries[]): void {
  const { size } = frame;
  const lineHeight = size * 0.035;
  ctx.font = fontOfSize(size * 0.02);
  const legendWidth = size * 0.46;
  const legendX = frame.x(1) - legendWidth - 10;
  const legendY = frame.y(0) - lineHeight * series.length - 16;
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.fillRect(legendX, legendY, legendWidth, lineHeight * series.length + 10);
  ctx.strokeStyle = '#999999';
  ctx.lineWidth = 1;
  ctx.strokeRect(legendX, legendY, legendWidth, lineHeight * series.length + 10);
  series.forEach((model, index) => {
    const rowY = legendY + 5 + lineHeight * (index + 0.5);
    ctx.strokeStyle = model.colour;
    ctx.lineWidth = 3;
    ctx.setLineDash(model.dashed ? [10, 6] : []);
    ctx.beginPath();
    ctx.moveTo(legendX + 10, rowY);
    ctx.lineTo(legendX + 50, rowY);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#000000';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(`${model.label}  AUC ${model.auc.toFixed(3)}`, legendX + 60, rowY);
  });
}

/** Draws the ROC curves of `series` on one square plot with a legend of their AUCs; returns the PNG. */
export function renderRocPlot(series: RocSeries[], options: RocPlotOptions): Buffer {
  registerFont();
  const frame = plotFrame(options.sizePx ?? 800);
  const canvas = createCanvas(frame.size, frame.size);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, frame.size, frame.size);
  drawTitle(ctx, frame, options);
  drawGridAndAxes(ctx, frame);
  drawAxisTitles(ctx, frame);
  drawCurves(ctx, frame, series);
  drawLegend(ctx, frame, series);
  return canvas.toBuffer('image/png');
}
