/**
 * ROC curves of several models in one PNG (the figure `tsr-node evaluate` writes beside
 * evaluation.json), drawn with @napi-rs/canvas and Debian's DejaVu Sans.
 */
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
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

export function renderRocPlot(series: RocSeries[], options: RocPlotOptions): Buffer {
  registerFont();
  const size = options.sizePx ?? 800;
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  const margin = { left: size * 0.12, right: size * 0.05, top: size * 0.12, bottom: size * 0.11 };
  const plot = size - margin.left - margin.right;
  const plotH = size - margin.top - margin.bottom;
  const x = (fpr: number): number => margin.left + fpr * plot;
  const y = (tpr: number): number => margin.top + (1 - tpr) * plotH;

  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, size, size);

  // Title
  ctx.fillStyle = '#000000';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  ctx.font = `${Math.round(size * 0.03)}px "${FONT_FAMILY}"`;
  ctx.fillText(options.title, size / 2, margin.top * 0.45);
  if (options.subtitle) {
    ctx.font = `${Math.round(size * 0.02)}px "${FONT_FAMILY}"`;
    ctx.fillStyle = '#444444';
    ctx.fillText(options.subtitle, size / 2, margin.top * 0.78);
  }

  // Grid and axes
  ctx.strokeStyle = '#dddddd';
  ctx.lineWidth = 1;
  ctx.font = `${Math.round(size * 0.018)}px "${FONT_FAMILY}"`;
  ctx.fillStyle = '#333333';
  for (let t = 0; t <= 10; t++) {
    const v = t / 10;
    ctx.beginPath();
    ctx.moveTo(x(v), y(0));
    ctx.lineTo(x(v), y(1));
    ctx.moveTo(x(0), y(v));
    ctx.lineTo(x(1), y(v));
    ctx.stroke();
    if (t % 2 === 0) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(v.toFixed(1), x(v), y(0) + 6);
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(v.toFixed(1), x(0) - 6, y(v));
    }
  }
  ctx.strokeStyle = '#000000';
  ctx.strokeRect(x(0), y(1), plot, plotH);
  // Chance line
  ctx.setLineDash([6, 6]);
  ctx.strokeStyle = '#999999';
  ctx.beginPath();
  ctx.moveTo(x(0), y(0));
  ctx.lineTo(x(1), y(1));
  ctx.stroke();
  ctx.setLineDash([]);

  ctx.fillStyle = '#000000';
  ctx.font = `${Math.round(size * 0.022)}px "${FONT_FAMILY}"`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText('1 - specificity (false positive rate)', margin.left + plot / 2, size - size * 0.015);
  ctx.save();
  ctx.translate(size * 0.035, margin.top + plotH / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText('sensitivity (true positive rate)', 0, 0);
  ctx.restore();

  // Curves: the empirical ROC is a staircase; ties make diagonal steps.
  for (const s of series) {
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = Math.max(2, size / 300);
    ctx.setLineDash(s.dashed ? [10, 6] : []);
    ctx.beginPath();
    s.points.forEach((p, n) => {
      if (n === 0) ctx.moveTo(x(p.falsePositiveRate), y(p.truePositiveRate));
      else ctx.lineTo(x(p.falsePositiveRate), y(p.truePositiveRate));
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);

  // Legend, bottom right inside the plot
  const lineH = size * 0.035;
  ctx.font = `${Math.round(size * 0.02)}px "${FONT_FAMILY}"`;
  const legendW = size * 0.46;
  const legendX = x(1) - legendW - 10;
  const legendY = y(0) - lineH * series.length - 16;
  ctx.fillStyle = 'rgba(255,255,255,0.9)';
  ctx.fillRect(legendX, legendY, legendW, lineH * series.length + 10);
  ctx.strokeStyle = '#999999';
  ctx.lineWidth = 1;
  ctx.strokeRect(legendX, legendY, legendW, lineH * series.length + 10);
  series.forEach((s, n) => {
    const ly = legendY + 5 + lineH * (n + 0.5);
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 3;
    ctx.setLineDash(s.dashed ? [10, 6] : []);
    ctx.beginPath();
    ctx.moveTo(legendX + 10, ly);
    ctx.lineTo(legendX + 50, ly);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#000000';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(`${s.label}  AUC ${s.auc.toFixed(3)}`, legendX + 60, ly);
  });

  return canvas.toBuffer('image/png');
}
