/**
 * Reading one study from a folder of Part-10 files (any layout below it): index the files by
 * series from their headers, then assemble the chosen series with the node's own volume assembly
 * (src/study/volumeAssembly.ts), so a dataset built from files holds exactly what the node would
 * compute from the same instances retrieved with WADO-RS.
 *
 * Which series are the arterial and venous phase: from the synthetic ground truth when there is
 * one (ground-truth.json beside the files), otherwise by the node's own phase selection
 * (src/study/phaseSelection.ts) on the files' headers in their DICOM JSON form (PS3.18 F.2), the
 * same function the node runs on QIDO-RS and WADO-RS metadata.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AnalysisRefusedError } from '../errors';
import type { DicomJson } from '../dicomweb/dicomJson';
import type { Phase } from '../inference/manifest';
import { parseInstance } from '../study/instanceParser';
import { selectPhases, type PhaseSelection } from '../study/phaseSelection';
import { defaultSelectionRules, type SelectionRules } from '../study/selectionRules';
import { summarizeSeries } from '../study/seriesSummary';
import { assembleVolumeFromPaths } from '../study/volumeAssembly';
import type { HuVolume } from '../study/volume';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: { untilTag?: string; ignoreErrors?: boolean }): { dict: DicomJson; meta: DicomJson } } };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const GROUND_TRUTH_FILE = 'ground-truth.json';

/** Every regular file below `dir` except the ground-truth sidecar and dot-files, sorted. */
export function listStudyFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && name !== GROUND_TRUTH_FILE && !name.endsWith('.json') && !name.endsWith('.csv')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export interface FileIndexEntry {
  path: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
}

/** Series of each file from its header; files that are not readable DICOM instances are left out. */
export function indexFilesBySeries(files: string[]): Map<string, string[]> {
  const bySeries = new Map<string, string[]>();
  for (const file of files) {
    let series: string | undefined;
    try {
      series = parseInstance(readFileSync(file), { headerOnly: true }).seriesInstanceUID;
    } catch {
      continue; // not an image we can read (e.g. a dose report): never a phase candidate
    }
    if (!series) continue;
    const list = bySeries.get(series) ?? [];
    list.push(file);
    bySeries.set(series, list);
  }
  return bySeries;
}

/** Assembles the given series of a folder study. */
export async function assembleSeriesFromFiles(bySeries: Map<string, string[]>, seriesInstanceUIDs: Record<Phase, string>): Promise<Record<Phase, HuVolume>> {
  const volume = async (phase: Phase): Promise<HuVolume> => {
    const files = bySeries.get(seriesInstanceUIDs[phase]);
    if (!files || files.length === 0) throw new AnalysisRefusedError('series-not-found', `no files of the ${phase} series ${seriesInstanceUIDs[phase]}`);
    return assembleVolumeFromPaths(files);
  };
  return { arterial: await volume('arterial'), venous: await volume('venous') };
}

/** Header of a Part-10 file in the DICOM JSON model (what WADO-RS metadata returns), pixel data left out. */
export function headerAsDicomJson(file: string): DicomJson {
  const bytes = readFileSync(file);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const { dict, meta } = dcmjs.data.DicomMessage.readFile(ab, { untilTag: '7FE00010' });
  const ts = meta['00020010'];
  return ts ? { ...dict, '00020010': ts } : dict;
}

/** The node's phase selection on a folder study's headers. */
export function selectPhasesFromFiles(bySeries: Map<string, string[]>, rules: SelectionRules = defaultSelectionRules()): PhaseSelection {
  const summaries = [...bySeries.values()].map((files) => {
    const metadata = files.map(headerAsDicomJson);
    return summarizeSeries(metadata[0], metadata);
  });
  return selectPhases(summaries, rules);
}
