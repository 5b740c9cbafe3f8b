/**
 * The labels CSV of `tsr-node dataset build --labels FILE`:
 *
 *   StudyInstanceUID,label[,centreX,centreY,centreZ]
 *
 * label is `low` or `high` (TSR; see the label definition in the dataset manifest); the optional
 * centre is the tumour centre in patient coordinates (DICOM LPS, mm). A header line is
 * recognised by its first field "StudyInstanceUID"; blank lines and lines starting with # are
 * skipped. The synthetic cohort's labels.csv (tsr-node synth --count N) has this form.
 */
import type { Vec3 } from '../study/geometry';

export type TsrLabel = 'low' | 'high';

export interface LabelRow {
  studyInstanceUID: string;
  label: TsrLabel;
  centreMm?: Vec3;
  /** 1-based line number in the file, for messages. */
  line: number;
}

export class LabelsFileError extends Error {
  override readonly name = 'LabelsFileError';
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** Splits one CSV line (RFC 4180 quoting). */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

/** Parses the labels CSV; throws LabelsFileError naming the line of the first problem. */
export function parseLabelsCsv(text: string, source = 'labels CSV'): LabelRow[] {
  const rows: LabelRow[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = n + 1;
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    const fields = splitCsvLine(raw);
    if (fields[0].toLowerCase() === 'studyinstanceuid') return;
    const where = `${source} line ${line}`;
    if (fields.length !== 2 && fields.length !== 5) throw new LabelsFileError(`${where}: expected 2 or 5 fields (StudyInstanceUID,label[,centreX,centreY,centreZ]), got ${fields.length}`);
    const [uid, labelText] = fields;
    if (!UID.test(uid) || uid.length > 64) throw new LabelsFileError(`${where}: "${uid}" is not a DICOM UID`);
    const label = labelText.toLowerCase();
    if (label !== 'low' && label !== 'high') throw new LabelsFileError(`${where}: label must be "low" or "high", got "${labelText}"`);
    const previous = seen.get(uid);
    if (previous !== undefined) throw new LabelsFileError(`${where}: study ${uid} is already listed on line ${previous}`);
    seen.set(uid, line);
    const row: LabelRow = { studyInstanceUID: uid, label, line };
    if (fields.length === 5) {
      const centre = fields.slice(2).map((f) => (f === '' ? Number.NaN : Number(f)));
      const blank = fields.slice(2).every((f) => f === '');
      if (!blank) {
        if (!centre.every(Number.isFinite)) throw new LabelsFileError(`${where}: the centre must be three numbers (mm) or three empty fields, got ${fields.slice(2).join(',')}`);
        row.centreMm = centre as Vec3;
      }
    }
    rows.push(row);
  });
  return rows;
}
