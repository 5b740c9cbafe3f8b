/**
 * Test helpers: flatten an SR content tree into rows "concept path -> value", from dcmjs's
 * naturalized dataset and, independently, from pydicom (Debian's python3-pydicom).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SrRow {
  /** Concept code values from the root down, e.g. "126000/126010/125007/TSR". */
  path: string;
  relationship: string;
  valueType: string;
  /** CODE: code value; TEXT/UIDREF: the text; NUM: numeric value and unit code; IMAGE: SOP Instance UID; SCOORD: graphic type. */
  value: string;
}

type Item = Record<string, unknown>;
const first = (v: unknown): Item | undefined => (Array.isArray(v) ? (v[0] as Item | undefined) : (v as Item | undefined));

function valueOf(it: Item): string {
  switch (it.ValueType) {
    case 'CODE':
      return String(first(it.ConceptCodeSequence)?.CodeValue);
    case 'TEXT':
      return String(it.TextValue);
    case 'UIDREF':
      return String(it.UID);
    case 'NUM': {
      const mv = first(it.MeasuredValueSequence);
      return `${String(mv?.NumericValue)} ${String(first(mv?.MeasurementUnitsCodeSequence)?.CodeValue)}`;
    }
    case 'IMAGE':
      return String(first(it.ReferencedSOPSequence)?.ReferencedSOPInstanceUID);
    case 'SCOORD':
      return String(it.GraphicType);
    default:
      return '';
  }
}

/** Rows of a dcmjs-naturalized SR (the root is the dataset itself). */
export function flattenNaturalized(root: Item): SrRow[] {
  const rows: SrRow[] = [];
  const walk = (it: Item, parent: string): void => {
    const code = first(it.ConceptNameCodeSequence)?.CodeValue as string | undefined;
    const here = `${parent}${parent ? '/' : ''}${code ?? '-'}`;
    rows.push({ path: here, relationship: (it.RelationshipType as string | undefined) ?? '', valueType: String(it.ValueType), value: valueOf(it) });
    for (const child of (it.ContentSequence as Item[] | undefined) ?? []) walk(child, here);
  };
  walk(root, '');
  return rows;
}

const PYDICOM_FLATTEN = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
rows = []
def value(it):
    vt = it.ValueType
    if vt == 'CODE': return it.ConceptCodeSequence[0].CodeValue
    if vt == 'TEXT': return str(it.TextValue)
    if vt == 'UIDREF': return str(it.UID)
    if vt == 'NUM':
        mv = it.MeasuredValueSequence[0]
        return '%s %s' % (mv.NumericValue.original_string if hasattr(mv.NumericValue, 'original_string') else str(mv.NumericValue), mv.MeasurementUnitsCodeSequence[0].CodeValue)
    if vt == 'IMAGE': return it.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    if vt == 'SCOORD': return it.GraphicType
    return ''
def walk(it, parent):
    code = it.ConceptNameCodeSequence[0].CodeValue if 'ConceptNameCodeSequence' in it else '-'
    here = parent + ('/' if parent else '') + code
    rows.append({'path': here, 'relationship': it.get('RelationshipType', ''), 'valueType': it.ValueType, 'value': value(it)})
    for child in it.get('ContentSequence', []):
        walk(child, here)
walk(ds, '')
out = {'rows': rows, 'patientName': str(ds.PatientName), 'sopClassUID': ds.SOPClassUID, 'charset': ds.SpecificCharacterSet,
       'completion': ds.CompletionFlag, 'verification': ds.VerificationFlag,
       'evidence': sum(len(s.ReferencedSOPSequence) for e in ds.CurrentRequestedProcedureEvidenceSequence for s in e.ReferencedSeriesSequence),
       'purpose': ds.ContributingEquipmentSequence[0].PurposeOfReferenceCodeSequence[0].CodeValue}
print(json.dumps(out, ensure_ascii=False))
`;

export interface PydicomSr {
  rows: SrRow[];
  patientName: string;
  sopClassUID: string;
  charset: string;
  completion: string;
  verification: string;
  evidence: number;
  purpose: string;
}

/** Reads Part 10 bytes with pydicom (Debian's /usr/bin/python3) and returns its view of the SR. */
export function readSrWithPydicom(bytes: Uint8Array): PydicomSr {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-pydicom-'));
  try {
    const file = path.join(dir, 'sr.dcm');
    writeFileSync(file, bytes);
    const run = spawnSync('/usr/bin/python3', ['-c', PYDICOM_FLATTEN, file], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`pydicom failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as PydicomSr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
