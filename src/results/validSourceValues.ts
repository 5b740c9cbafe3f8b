/**
 * DICOM JSON elements copied from a source object, made valid for their VR value by value
 * (vrValues.ts), items of sequences included, so that the codec never refuses what the results
 * copy and readers get valid objects. What was changed is listed per attribute (keyword, tag, VR,
 * change), never with the value: the list can be logged without PHI.
 */
import type { DicomJson, DicomJsonElement } from '../dicomweb/dicomJson';
import { validVrValue, type VrValueChange } from './vrValues';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const { DicomMetaDictionary } = (require('dcmjs') as {
  data: { DicomMetaDictionary: { dictionary: Record<string, { vr?: string; vm?: string; name?: string } | undefined> } };
}).data;
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * What was done to an attribute: one of the value changes (vrValues.ts), or, for the attribute as
 * a whole, values beyond the one it takes dropped, or the optional module that the attribute is
 * Type 1 in left out because the attribute is missing or has no valid value.
 */
export type SourceValueChangeKind = VrValueChange | 'extra-values-dropped' | 'module-left-out';

/** A change to one attribute's values, without the values. */
export interface SourceValueChange {
  /** The attribute's keyword; inside a sequence, the path from the top, e.g. `ProcedureCodeSequence>CodeMeaning`. */
  keyword: string;
  /** The tag, the same way: `00081032>00080104`. */
  tag: string;
  vr: string;
  change: SourceValueChangeKind;
}

/** Where an element sits: the keyword and tag paths of its parents, empty at the top. */
interface ElementPath {
  keyword: string;
  tag: string;
}

/** The data dictionary's entry for a tag (the codec writes by it), if it has one. */
function dictionaryEntry(tag: string): { vr?: string; vm?: string; name?: string } | undefined {
  return DicomMetaDictionary.dictionary[`(${tag.slice(0, 4)},${tag.slice(4, 8)})`.toUpperCase()];
}

const joined = (parent: string, child: string): string => (parent === '' ? child : `${parent}>${child}`);

/**
 * The values of `element` made valid for `vr`: values that cannot be made valid are left out,
 * and so are values beyond the first when the attribute takes one value only (VM 1). An empty
 * result means nothing valid was left; the caller decides by the attribute's type what follows.
 */
export function validElementValues(element: DicomJsonElement, vr: string, where: ElementPath): { values: unknown[]; changes: SourceValueChange[] } {
  const changes: SourceValueChange[] = [];
  const note = (change: SourceValueChange['change']): void => {
    if (!changes.some((known) => known.change === change)) changes.push({ keyword: where.keyword, tag: where.tag, vr, change });
  };
  const values = element.Value ?? [];
  if (vr === 'SQ') return { values: values.map((item) => validItem(item as DicomJson, where, changes)), changes };
  let validValues: unknown[] = [];
  let changed = false;
  for (const value of values) {
    const valid = validVrValue(vr, value);
    valid.changes.forEach(note);
    if (valid.changes.length > 0) changed = true;
    if (valid.value !== undefined) validValues.push(valid.value);
  }
  if (dictionaryEntry(where.tag.split('>').pop()!)?.vm === '1' && validValues.length > 1) {
    validValues = validValues.slice(0, 1);
    note('extra-values-dropped');
    changed = true;
  }
  // The very array when nothing changed, so that a valid source is copied as it is.
  return { values: changed ? validValues : values, changes };
}

/**
 * One sequence item with each element's values made valid. An element that had values and has
 * none left is written empty (its type inside the item is not known here; empty is valid for
 * Type 2 and 3). Bulk data cannot be copied, so an element that refers to it is left out.
 */
function validItem(item: DicomJson, parent: ElementPath, changes: SourceValueChange[]): DicomJson {
  const validItemElements: DicomJson = {};
  for (const [tag, element] of Object.entries(item)) {
    if (element === undefined) continue;
    const entry = dictionaryEntry(tag);
    const where = { keyword: joined(parent.keyword, entry?.name ?? tag), tag: joined(parent.tag, tag) };
    const vr = entry?.vr !== undefined && /^[A-Z]{2}$/.test(entry.vr) ? entry.vr : element.vr;
    if (element.BulkDataURI !== undefined) {
      changes.push({ ...where, vr, change: 'invalid-dropped' });
      continue;
    }
    if (element.Value === undefined) {
      validItemElements[tag] = element;
      continue;
    }
    const valid = validElementValues(element, vr, where);
    changes.push(...valid.changes);
    validItemElements[tag] = valid.values === element.Value ? element : { ...element, Value: valid.values };
  }
  return validItemElements;
}

/**
 * The first value of a string attribute of `source` made valid for `vr` (e.g. a Frame of
 * Reference UID for an SR content item), or undefined when it has none or none that is valid.
 */
export function validSourceString(source: DicomJson, tag: string, vr: string): { value?: string; changes: SourceValueChange[] } {
  const element = source[tag];
  if (element?.Value === undefined || element.Value.length === 0) return { changes: [] };
  const valid = validElementValues({ ...element, Value: element.Value.slice(0, 1) }, vr, { keyword: dictionaryEntry(tag)?.name ?? tag, tag });
  const value = valid.values[0];
  return typeof value === 'string' && value !== '' ? { value, changes: valid.changes } : { changes: valid.changes };
}

/** The changes once each (per attribute and kind of change), in the order first seen. */
export function distinctChanges(changes: SourceValueChange[]): SourceValueChange[] {
  const seen = new Set<string>();
  return changes.filter((change) => {
    const key = `${change.tag} ${change.change}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
