/**
 * The DICOM JSON model (PS3.18 Annex F.2), as QIDO-RS and WADO-RS metadata return it, and small
 * pure readers for it. Tags are 8 upper-case hex digits, e.g. "0020000D" (StudyInstanceUID).
 */
export interface DicomJsonElement {
  vr: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}

export type DicomJson = Record<string, DicomJsonElement | undefined>;

/** First value of a string-like element (UI, CS, LO, SH, DA, TM, DS as text...), or undefined. */
export function jsonString(ds: DicomJson, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  // Person Name: { Alphabetic: "..." }
  if (v !== null && typeof v === 'object') return (v as { Alphabetic?: string }).Alphabetic;
  return undefined;
}

/** All values of a string-like element (e.g. ImageType), or []. */
export function jsonStrings(ds: DicomJson, tag: string): string[] {
  return (ds[tag]?.Value ?? [])
    .filter((v) => v !== null && v !== undefined)
    .map((v) => (typeof v === 'object' ? ((v as { Alphabetic?: string }).Alphabetic ?? '') : String(v as string | number)));
}

/** All numeric values (DS, IS, US, FD, ...), or []. Non-numeric values are dropped. */
export function jsonNumbers(ds: DicomJson, tag: string): number[] {
  return (ds[tag]?.Value ?? []).map((v) => (typeof v === 'number' ? v : Number(v))).filter((n) => Number.isFinite(n));
}

export function jsonNumber(ds: DicomJson, tag: string): number | undefined {
  return jsonNumbers(ds, tag)[0];
}

/** Items of a sequence (SQ), or []. */
export function jsonSequence(ds: DicomJson, tag: string): DicomJson[] {
  return (ds[tag]?.Value ?? []) as DicomJson[];
}
