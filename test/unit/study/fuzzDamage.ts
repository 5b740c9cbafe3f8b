/**
 * The damage the fuzz suite (fuzzDamage.test.ts) does to a small CT series (fuzzSeries.ts): each
 * kind is plain data (JSON), so that a failing case prints whole and can be kept as a fixed
 * regression case. `damagedSeries` writes the series with the damage applied to one slice or to
 * every slice.
 */
import { TAG, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import {
  dsText,
  metaElements,
  seriesUids,
  sliceElements,
  textElement,
  usElement,
  writePart10,
  type Element,
  type Part10File,
  type SeriesSpec,
} from './fuzzSeries';

export type Damage =
  /** An attribute set to a value (added when absent): a number for US, text otherwise. */
  | { kind: 'set'; tag: string; vr: string; value: number | string }
  /** BitsStored and HighBit changed together, consistently. */
  | { kind: 'bits'; bitsStored: number }
  /** An attribute left out (TransferSyntaxUID is in the File Meta Information). */
  | { kind: 'drop'; tag: string }
  /** The VR bytes of an element overwritten (explicit VR only; the layout stays). */
  | { kind: 'vr'; tag: string; vr: string }
  /** The length field of an element changed by `delta`, the bytes left as they are. */
  | { kind: 'length'; tag: string; delta: number }
  /** The file cut at `fraction` of its length. */
  | { kind: 'truncate'; fraction: number }
  /** Pixel data `delta` bytes longer (zeros) or shorter, its length field matching. */
  | { kind: 'pixelBytes'; delta: number }
  /** The File Meta Information's TransferSyntaxUID replaced; the data set stays as written. */
  | { kind: 'transferSyntax'; uid: string }
  /** Rows and Columns both set (e.g. exchanged: the same pixel count). */
  | { kind: 'size'; rows: number; columns: number }
  /** ImagePositionPatient moved by a vector, mm. */
  | { kind: 'move'; by: [number, number, number] }
  /** ImageOrientationPatient replaced. */
  | { kind: 'orientation'; cosines: readonly number[] }
  /** The SOPInstanceUID of another slice (`from`). */
  | { kind: 'copyUid'; from: number }
  /** Bytes after the pixel data, outside any element. */
  | { kind: 'trailing'; bytes: number[] };

export interface DamageCase {
  /** Index into ENCODINGS. */
  encoding: number;
  explicit: boolean;
  damage: Damage;
  /** The damaged slice, or every slice. */
  target: number | 'all';
  /** Arrival order of the slices: rotated by this many. */
  rotation: number;
}

function setElement(elements: Element[], element: Element): Element[] {
  const others = elements.filter((e) => e.tag !== element.tag);
  return [...others, element].sort((a, b) => a.tag.localeCompare(b.tag));
}

function valueOf(elements: Element[], tag: string): string {
  return elements.find((e) => e.tag === tag)?.value.toString('latin1').replace(/[\0 ]+$/, '') ?? '';
}

/** The data set and meta elements of slice k after an element-level damage. */
function damagedElements(spec: SeriesSpec, k: number, damage: Damage, syntax: string): { meta: Element[]; dataSet: Element[] } {
  let meta = metaElements(spec, k, syntax);
  let dataSet = sliceElements(spec, k);
  switch (damage.kind) {
    case 'set':
      dataSet = setElement(dataSet, typeof damage.value === 'number' ? usElement(damage.tag, damage.value) : textElement(damage.tag, damage.vr, damage.value));
      break;
    case 'bits':
      dataSet = setElement(setElement(dataSet, usElement(TAG.bitsStored, damage.bitsStored)), usElement(TAG.highBit, damage.bitsStored - 1));
      break;
    case 'drop':
      meta = meta.filter((e) => e.tag !== damage.tag);
      dataSet = dataSet.filter((e) => e.tag !== damage.tag);
      break;
    case 'transferSyntax':
      meta = setElement(meta, textElement(TAG.transferSyntaxUID, 'UI', damage.uid));
      break;
    case 'size':
      dataSet = setElement(setElement(dataSet, usElement(TAG.rows, damage.rows)), usElement(TAG.columns, damage.columns));
      break;
    case 'move': {
      const position = valueOf(dataSet, TAG.imagePositionPatient).split('\\').map(Number);
      dataSet = setElement(dataSet, textElement(TAG.imagePositionPatient, 'DS', dsText(position.map((value, i) => value + damage.by[i]))));
      break;
    }
    case 'orientation':
      dataSet = setElement(dataSet, textElement(TAG.imageOrientationPatient, 'DS', dsText(damage.cosines)));
      break;
    case 'copyUid':
      dataSet = setElement(dataSet, textElement(TAG.sopInstanceUID, 'UI', seriesUids(spec).instance(damage.from)));
      break;
    case 'pixelBytes': {
      const pixels = dataSet.find((e) => e.tag === TAG.pixelData)!.value;
      const value = damage.delta >= 0 ? Buffer.concat([pixels, Buffer.alloc(damage.delta)]) : pixels.subarray(0, pixels.length + damage.delta);
      dataSet = setElement(dataSet, { tag: TAG.pixelData, vr: 'OW', value });
      break;
    }
    default:
      break;
  }
  return { meta, dataSet };
}

/** Byte-level damage to a written file. */
function damagedBytes(file: Part10File, damage: Damage, explicit: boolean): Buffer {
  const bytes = Buffer.from(file.bytes);
  const at = (tag: string) => file.elements.find((e) => e.tag === tag);
  switch (damage.kind) {
    case 'vr': {
      const element = at(damage.tag);
      if (explicit && element?.vrOffset !== undefined) bytes.write(damage.vr.padEnd(2, ' ').slice(0, 2), element.vrOffset, 'latin1');
      return bytes;
    }
    case 'length': {
      const element = at(damage.tag);
      if (element === undefined) return bytes;
      if (element.lengthBytes === 2) bytes.writeUInt16LE((bytes.readUInt16LE(element.lengthOffset) + damage.delta) & 0xffff, element.lengthOffset);
      else bytes.writeUInt32LE((bytes.readUInt32LE(element.lengthOffset) + damage.delta) >>> 0, element.lengthOffset);
      return bytes;
    }
    case 'truncate':
      return bytes.subarray(0, Math.floor(damage.fraction * bytes.length));
    case 'trailing':
      return Buffer.concat([bytes, Buffer.from(damage.bytes)]);
    default:
      return bytes;
  }
}

/** Slice k as written, with the damage when it targets k. */
export function damagedSlice(spec: SeriesSpec, k: number, damageCase: DamageCase): Buffer {
  const { damage, explicit } = damageCase;
  const syntax = explicit ? TRANSFER_SYNTAX.explicitVrLittleEndian : TRANSFER_SYNTAX.implicitVrLittleEndian;
  const hit = damageCase.target === 'all' || damageCase.target === k;
  const { meta, dataSet } = hit ? damagedElements(spec, k, damage, syntax) : { meta: metaElements(spec, k, syntax), dataSet: sliceElements(spec, k) };
  const file = writePart10(meta, dataSet, explicit);
  return hit ? damagedBytes(file, damage, explicit) : file.bytes;
}

/** Every slice of the series, damaged as the case says, in its arrival order. */
export function damagedSeries(spec: SeriesSpec, damageCase: DamageCase): Buffer[] {
  const slices = Array.from({ length: spec.slices }, (_, k) => damagedSlice(spec, k, damageCase));
  const shift = damageCase.rotation % spec.slices;
  return [...slices.slice(shift), ...slices.slice(0, shift)];
}
