/**
 * NumPy .npy files (format version 1.0, as numpy.lib.format documents it): the 6-byte magic
 * "\x93NUMPY", version bytes 1 0, a little-endian uint16 header length, then a Python dict
 * literal `{'descr': ..., 'fortran_order': False, 'shape': (...), }` padded with spaces and a
 * final newline so that the data starts on a 64-byte boundary, then the raw C-order data.
 *
 * Only what the dataset needs: float32 little-endian ('<f4') and uint8 ('|u1').
 */
export type NpyArray = Float32Array | Uint8Array;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function descrOf(data: NpyArray): string {
  return data instanceof Float32Array ? '<f4' : '|u1';
}

function checkShape(shape: number[], length: number): void {
  if (!shape.every((n) => Number.isInteger(n) && n >= 0)) throw new RangeError(`npy shape must be non-negative integers, got (${shape.join(', ')})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) throw new RangeError(`npy shape (${shape.join(', ')}) holds ${count} values, the array has ${length}`);
}

/** Encodes a C-order array of the given shape. The host is little-endian (x86, arm64). */
export function encodeNpy(data: NpyArray, shape: number[]): Buffer {
  checkShape(shape, data.length);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = Buffer.from(header, 'latin1');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(headerBytes.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([prefix, headerBytes, body]);
}

export interface DecodedNpy {
  descr: '<f4' | '|u1';
  shape: number[];
  data: NpyArray;
}

/** Decodes what encodeNpy writes (and numpy's own '<f4' / '|u1' C-order files, versions 1-3). */
export function decodeNpy(bytes: Uint8Array): DecodedNpy {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error('not an .npy file (bad magic)');
  const major = buf[6];
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.subarray(headerStart, headerStart + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4' && descr !== '|u1') throw new Error(`unsupported .npy dtype ${descr ?? '(none)'}`);
  if (fortran !== 'False') throw new Error('unsupported .npy layout: Fortran order');
  if (shapeText === undefined) throw new Error('.npy header without a shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const dataStart = headerStart + headerLength;
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = descr === '<f4' ? 4 : 1;
  if (buf.length - dataStart !== count * itemSize) throw new Error(`.npy data holds ${buf.length - dataStart} bytes, shape (${shape.join(', ')}) needs ${count * itemSize}`);
  // Copy into a fresh, aligned buffer (the data offset need not be 4-aligned in the source).
  const raw = new Uint8Array(buf.subarray(dataStart));
  const data = descr === '<f4' ? new Float32Array(raw.buffer, 0, count) : raw;
  return { descr, shape, data };
}
