/**
 * The stored pixel values of one parsed instance (instanceParser.ts): a typed view over native
 * pixel data, or the first frame of JPEG 2000 pixel data decoded with the OpenJPEG WASM build
 * (@cornerstonejs/codec-openjpeg, loaded on first use). Before any pixel is read, the instance's
 * pixel attributes and the length of its pixel data pass pixelChecks.ts; pixel formats a CT HU
 * volume cannot come from, and headers that do not describe the data, are refused with
 * AnalysisRefusedError.
 */
import { TAG } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import type { ParsedInstance } from './instanceParser';
import { checkNativePixelLength, checkPixelAttributes, instanceLabel } from './pixelChecks';
import { attributeLabel } from './tagLabels';

/** Stored pixel values of one frame, one sample per pixel. */
export type StoredPixels = Int16Array | Uint16Array | Int8Array | Uint8Array;

const PIXEL_DATA = attributeLabel('PixelData', TAG.pixelData);

function noPixelData(instance: ParsedInstance): AnalysisRefusedError {
  return new AnalysisRefusedError('no-pixel-data', `${instanceLabel(instance)} has no ${PIXEL_DATA}`, { sopInstanceUID: instance.sopInstanceUID, tag: TAG.pixelData });
}

/**
 * Stored values of the first frame of native (uncompressed) pixel data, as a typed view over the
 * instance's bytes when they are aligned, otherwise an aligned copy.
 */
export function nativePixels(instance: ParsedInstance): StoredPixels {
  checkPixelAttributes(instance);
  if (instance.pixelData === undefined) throw noPixelData(instance);
  if (instance.pixelData.encapsulated) {
    throw new AnalysisRefusedError('invalid-dicom', `${instanceLabel(instance)}: ${PIXEL_DATA} is encapsulated under a native transfer syntax`);
  }
  const bytes = instance.pixelData.bytes;
  checkNativePixelLength(instance, bytes);
  const count = instance.rows * instance.columns;
  const bytesPerSample = instance.bitsAllocated / 8;
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
  checkPixelAttributes(instance);
  if (fragments.length === 0) throw new AnalysisRefusedError('truncated-pixel-data', `${instanceLabel(instance)}: encapsulated ${PIXEL_DATA} without fragments`);
  // A single-frame image may be split over several fragments; they concatenate to one codestream.
  const codestream = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
  const module = await loadOpenJpeg();
  const decoder = new module.J2KDecoder();
  try {
    try {
      // Inside the try: a codestream too large for the WASM heap is refused like one that does not decode.
      decoder.getEncodedBuffer(codestream.length).set(codestream);
      decoder.decode();
    } catch (err) {
      throw new AnalysisRefusedError('corrupt-pixel-data', `${instanceLabel(instance)}: JPEG 2000 decoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = decoder.getFrameInfo();
    const count = instance.rows * instance.columns;
    const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
    const decoded = decoder.getDecodedBuffer();
    if (info.width !== instance.columns || info.height !== instance.rows || info.componentCount !== 1 || info.bitsPerSample > instance.bitsAllocated) {
      throw new AnalysisRefusedError(
        'corrupt-pixel-data',
        `${instanceLabel(instance)}: the JPEG 2000 codestream is ${info.width}x${info.height}x${info.componentCount} at ${info.bitsPerSample} bits, ` +
          `the header says Columns ${instance.columns} x Rows ${instance.rows} x 1 at BitsAllocated ${instance.bitsAllocated}`,
      );
    }
    if (decoded.length < count * bytesPerSample) {
      throw new AnalysisRefusedError('corrupt-pixel-data', `${instanceLabel(instance)}: JPEG 2000 decoding gave ${decoded.length} bytes, ${count * bytesPerSample} expected`);
    }
    // Copy out of the WASM heap, which the next decode reuses.
    const bytes = Buffer.from(decoded.slice(0, count * bytesPerSample));
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
  if (instance.pixelData === undefined) throw noPixelData(instance);
  if (!instance.pixelData.encapsulated) return nativePixels(instance);
  return decodeJpeg2000(instance, instance.pixelData.fragments);
}
