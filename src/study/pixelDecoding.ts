/**
 * The stored pixel values of one parsed instance (instanceParser.ts): a typed view over native
 * pixel data, or the first frame of JPEG 2000 pixel data decoded with the OpenJPEG WASM build
 * (@cornerstonejs/codec-openjpeg, loaded on first use). Pixel formats a CT HU volume cannot come
 * from are refused with AnalysisRefusedError.
 */
import { AnalysisRefusedError } from '../errors';
import type { ParsedInstance } from './instanceParser';

/** Stored pixel values of one frame, one sample per pixel. */
export type StoredPixels = Int16Array | Uint16Array | Int8Array | Uint8Array;

/** Refuses pixel formats a CT HU volume cannot come from (PS3.3 C.7.6.3, C.8.2.1). */
export function checkPixelFormat(instance: ParsedInstance): void {
  if (instance.rows <= 0 || instance.columns <= 0) {
    throw new AnalysisRefusedError('invalid-dicom', `the instance has no image size (Rows ${instance.rows}, Columns ${instance.columns})`);
  }
  if (instance.samplesPerPixel !== 1 || !/^MONOCHROME[12]$/.test(instance.photometricInterpretation)) {
    throw new AnalysisRefusedError(
      'unsupported-pixel-format',
      `not a greyscale image (SamplesPerPixel ${instance.samplesPerPixel}, PhotometricInterpretation "${instance.photometricInterpretation}")`,
    );
  }
  if (instance.bitsAllocated !== 8 && instance.bitsAllocated !== 16) {
    throw new AnalysisRefusedError('unsupported-pixel-format', `BitsAllocated ${instance.bitsAllocated} is not supported (8 or 16)`);
  }
  if (instance.bitsStored < 1 || instance.bitsStored > instance.bitsAllocated) {
    throw new AnalysisRefusedError('unsupported-pixel-format', `BitsStored ${instance.bitsStored} does not fit BitsAllocated ${instance.bitsAllocated}`);
  }
}

/**
 * Stored values of the first frame of native (uncompressed) pixel data, as a typed view over the
 * instance's bytes when they are aligned, otherwise an aligned copy.
 */
export function nativePixels(instance: ParsedInstance): StoredPixels {
  checkPixelFormat(instance);
  if (instance.pixelData === undefined) throw new AnalysisRefusedError('no-pixel-data', 'the instance has no pixel data (7FE0,0010)');
  if (instance.pixelData.encapsulated) throw new Error('nativePixels called on encapsulated pixel data');
  const count = instance.rows * instance.columns;
  const bytesPerSample = instance.bitsAllocated / 8;
  const bytes = instance.pixelData.bytes;
  if (bytes.length < count * bytesPerSample) {
    throw new AnalysisRefusedError(
      'truncated-pixel-data',
      `pixel data holds ${bytes.length} bytes; ${instance.rows}x${instance.columns} at ${instance.bitsAllocated} bits needs ${count * bytesPerSample}`,
      { have: bytes.length, needed: count * bytesPerSample },
    );
  }
  const signed = instance.pixelRepresentation === 1;
  if (bytesPerSample === 1) {
    return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count);
  }
  let source = bytes;
  if (bytes.byteOffset % 2 !== 0) {
    source = Buffer.allocUnsafe(count * 2);
    bytes.copy(source, 0, 0, count * 2);
  }
  return signed ? new Int16Array(source.buffer, source.byteOffset, count) : new Uint16Array(source.buffer, source.byteOffset, count);
}

interface J2kDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  /** Frees the embind object's WASM memory. */
  delete(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
}
interface OpenJpegModule {
  J2KDecoder: new () => J2kDecoder;
}

let openJpeg: Promise<OpenJpegModule> | undefined;

function loadOpenJpeg(): Promise<OpenJpegModule> {
  if (openJpeg === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package ships a CommonJS factory without types
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (module: object) => Promise<OpenJpegModule>;
    // OpenJPEG prints [INFO] lines through Emscripten's print: keep stdout clean for command output.
    openJpeg = factory({ print: () => undefined, printErr: () => undefined });
  }
  return openJpeg;
}

/** Decodes the first frame of JPEG 2000 pixel data (PS3.5 A.4.4) to stored values. */
async function decodeJpeg2000(instance: ParsedInstance, fragments: Buffer[]): Promise<StoredPixels> {
  checkPixelFormat(instance);
  if (fragments.length === 0) throw new AnalysisRefusedError('truncated-pixel-data', 'encapsulated pixel data without fragments');
  // A single-frame image may be split over several fragments; they concatenate to one codestream.
  const codestream = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
  const module = await loadOpenJpeg();
  const decoder = new module.J2KDecoder();
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    try {
      decoder.decode();
    } catch (err) {
      throw new AnalysisRefusedError('corrupt-pixel-data', `JPEG 2000 decoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = decoder.getFrameInfo();
    if (info.width !== instance.columns || info.height !== instance.rows || info.componentCount !== 1) {
      throw new AnalysisRefusedError(
        'corrupt-pixel-data',
        `JPEG 2000 codestream is ${info.width}x${info.height}x${info.componentCount}, the header says ${instance.columns}x${instance.rows}x1`,
      );
    }
    const count = instance.rows * instance.columns;
    // Copy out of the WASM heap, which the next decode reuses.
    const bytes = Buffer.from(decoder.getDecodedBuffer().slice(0, count * (info.bitsPerSample > 8 ? 2 : 1)));
    // The codestream's own signedness wins over PixelRepresentation (they can disagree, PS3.5 8.2.4).
    if (info.bitsPerSample > 8) {
      return info.isSigned ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    }
    return info.isSigned ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count);
  } finally {
    decoder.delete();
  }
}

/** Stored values of the first frame, decoding JPEG 2000 when needed. */
export async function decodePixels(instance: ParsedInstance): Promise<StoredPixels> {
  if (instance.pixelData === undefined) throw new AnalysisRefusedError('no-pixel-data', 'the instance has no pixel data (7FE0,0010)');
  if (!instance.pixelData.encapsulated) return nativePixels(instance);
  return decodeJpeg2000(instance, instance.pixelData.fragments);
}
