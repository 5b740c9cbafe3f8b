/**
 * The description patterns of the selection rules, compiled once per selection, and the phase a
 * SeriesDescription names with them.
 */
import type { Phase } from './phaseTypes';
import type { SelectionRules } from './selectionRules';

export interface CompiledPatterns {
  arterial: RegExp[];
  pancreatic: RegExp[];
  venous: RegExp[];
  delayed: RegExp[];
  nonContrast: RegExp[];
  localizer: RegExp[];
  reformat: RegExp[];
  doseReport: RegExp[];
}

export function compilePatterns(rules: SelectionRules): CompiledPatterns {
  const compileList = (list: string[]): RegExp[] => list.map((source) => new RegExp(source, 'iu'));
  const patterns = rules.patterns;
  return {
    arterial: compileList(patterns.arterial),
    pancreatic: compileList(patterns.pancreatic),
    venous: compileList(patterns.venous),
    delayed: compileList(patterns.delayed),
    nonContrast: compileList(patterns.nonContrast),
    localizer: compileList(patterns.localizer),
    reformat: compileList(patterns.reformat),
    doseReport: compileList(patterns.doseReport),
  };
}

/** The text the first matching pattern matched, if any. */
export function firstMatch(patterns: RegExp[], text: string): string | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return match[0];
  }
  return undefined;
}

/** The phase a series description names, if any (exported for tests and docs). */
export function phaseFromDescription(description: string, rules: SelectionRules): { phase?: Phase | 'contradictory'; detail: string } {
  return phaseNamedBy(description, compilePatterns(rules));
}

/** The phase a series description names with compiled patterns, and how. */
export function phaseNamedBy(description: string, patterns: CompiledPatterns): { phase?: Phase | 'contradictory'; detail: string } {
  const text = description.normalize('NFKC');
  if (text.trim() === '') return { detail: 'no SeriesDescription' };
  // Non-contrast and delayed terms win over phase terms: "venous delayed" is delayed.
  const nonContrast = firstMatch(patterns.nonContrast, text);
  if (nonContrast !== undefined) return { phase: 'non-contrast', detail: `"${description}" names a non-contrast series ("${nonContrast}")` };
  const delayed = firstMatch(patterns.delayed, text);
  if (delayed !== undefined) return { phase: 'delayed', detail: `"${description}" names a delayed phase ("${delayed}")` };
  const arterial = firstMatch(patterns.arterial, text);
  const venous = firstMatch(patterns.venous, text);
  if (arterial !== undefined && venous !== undefined) {
    return { phase: 'contradictory', detail: `"${description}" names both an arterial ("${arterial}") and a venous ("${venous}") phase` };
  }
  if (arterial !== undefined) return { phase: 'arterial', detail: `"${description}" names the arterial phase ("${arterial}")` };
  if (venous !== undefined) return { phase: 'venous', detail: `"${description}" names the portal-venous phase ("${venous}")` };
  return { detail: `"${description}" names no phase` };
}
