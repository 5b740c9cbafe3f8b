/**
 * The words people read: the same result line in the SR's TEXT item and on the overlay image, so
 * that both say exactly the same thing.
 */
import type { TsrAnalysis } from '../inference/result';

export const RESEARCH_USE_NOTICE = 'Research use only - not for diagnostic use';

/** The tumour's Tracking Identifier: the SR's measurement group and the SEG's tumour segment. */
export const TUMOUR_TRACKING_IDENTIFIER = 'TSR pancreatic tumour';

/** "Low" or "High". */
export function tsrClassWord(label: TsrAnalysis['label']): string {
  return label === 'high' ? 'High' : 'Low';
}

/** Probabilities are shown with two decimals (the model is not calibrated finer than that). */
export function formatProbability(p: number): string {
  return p.toFixed(2);
}

/** e.g. "Tumour-stroma ratio: High (P(high) = 0.87, threshold 0.50)". */
export function tsrResultLine(analysis: Pick<TsrAnalysis, 'label' | 'probabilityHigh' | 'threshold'>): string {
  return (
    `Tumour-stroma ratio: ${tsrClassWord(analysis.label)} ` +
    `(P(high) = ${formatProbability(analysis.probabilityHigh)}, threshold ${formatProbability(analysis.threshold)})`
  );
}

/** e.g. "tsr-clip-fusion 1.0.0". */
export function modelLine(analysis: Pick<TsrAnalysis, 'classifier'>): string {
  return `${analysis.classifier.name} ${analysis.classifier.version}`;
}

/** e.g. "Tumour-stroma ratio: High (P(high) 0.87)": short enough for a viewer's measurement label. */
export function tsrShortResult(analysis: Pick<TsrAnalysis, 'label' | 'probabilityHigh'>): string {
  return `Tumour-stroma ratio: ${tsrClassWord(analysis.label)} (P(high) ${formatProbability(analysis.probabilityHigh)})`;
}
