/**
 * What an instance's Image Pixel and CT Image attributes (PS3.3 C.7.6.3, C.8.2.1) must say before
 * any of its pixels is used (issue 24): a pixel format the node reads, pixel data exactly as long
 * as Rows, Columns, SamplesPerPixel, BitsAllocated and NumberOfFrames say, BitsStored and HighBit
 * inside BitsAllocated, and a rescale that gives CT numbers. Each failure is an
 * AnalysisRefusedError with its own reason code and a message that names the instance, its series,
 * the attribute (keyword and tag) and the numbers; never patient data.
 *
 * Header checks only, once per instance: the HU conversion after them is the hot path and stays
 * free of per-pixel tests (docs/decisions.md).
 */
import { SOP_CLASS, TAG } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import type { ParsedInstance } from './instanceParser';
import { attributeLabel } from './tagLabels';

const ROWS = attributeLabel('Rows', TAG.rows);
const COLUMNS = attributeLabel('Columns', TAG.columns);
const SAMPLES_PER_PIXEL = attributeLabel('SamplesPerPixel', TAG.samplesPerPixel);
const PHOTOMETRIC_INTERPRETATION = attributeLabel('PhotometricInterpretation', TAG.photometricInterpretation);
const NUMBER_OF_FRAMES = attributeLabel('NumberOfFrames', TAG.numberOfFrames);
const BITS_ALLOCATED = attributeLabel('BitsAllocated', TAG.bitsAllocated);
const BITS_STORED = attributeLabel('BitsStored', TAG.bitsStored);
const HIGH_BIT = attributeLabel('HighBit', TAG.highBit);
const PIXEL_REPRESENTATION = attributeLabel('PixelRepresentation', TAG.pixelRepresentation);
const PIXEL_DATA = attributeLabel('PixelData', TAG.pixelData);
const RESCALE_SLOPE = attributeLabel('RescaleSlope', TAG.rescaleSlope);
const RESCALE_INTERCEPT = attributeLabel('RescaleIntercept', TAG.rescaleIntercept);

/**
 * The largest RescaleSlope accepted: CT numbers in steps of at most 10 HU. Scanners write 1 (a
 * few 0.5 or 2); a step of 10 HU is already too coarse to tell tumour from stroma, which differ
 * by tens of HU, so a larger slope is a damaged header, not a scanner's choice.
 */
export const MAX_RESCALE_SLOPE = 10;

/**
 * The CT numbers every CT scanner's stored values can express: air (-1000 HU, PS3.3 C.8.2.1's
 * Hounsfield scale) to dense bone and contrast, as on the classic 12-bit scale (-1024 to 3071).
 * A rescale that maps the whole stored range outside it cannot be CT in HU.
 */
export const CT_NUMBER_RANGE: readonly [number, number] = [-1024, 3071];

/**
 * What the stored range of a CT image for analysis must at least cover after rescale: air
 * (-1000 HU) to +1000 HU (soft tissue, contrast-filled vessels, bone). Every real scanner's
 * encoding does (signed 16 bits with intercept 0 or -1024; 12 bits unsigned with intercept -1024
 * gives -1024 to 3071); one that does not would clip the image, or reads the pixels wrongly
 * (e.g. signed pixels under PixelRepresentation 0 with intercept 0 start at 0 HU).
 */
export const CT_REQUIRED_RANGE: readonly [number, number] = [-1000, 1000];

/** A UID or code from the header as a message may show it: printable ASCII, at most 70 characters. */
function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 70);
}

/** "instance 1.2.3 of series 4.5.6": which instance a refusal is about. */
export function instanceLabel(instance: ParsedInstance): string {
  const series = instance.seriesInstanceUID === undefined ? '(no SeriesInstanceUID)' : printable(instance.seriesInstanceUID);
  return `instance ${printable(instance.sopInstanceUID)} of series ${series}`;
}

function refusal(code: ConstructorParameters<typeof AnalysisRefusedError>[0], instance: ParsedInstance, message: string, details: Record<string, unknown>): AnalysisRefusedError {
  return new AnalysisRefusedError(code, `${instanceLabel(instance)}: ${message}`, {
    sopInstanceUID: instance.sopInstanceUID,
    ...(instance.seriesInstanceUID !== undefined ? { seriesInstanceUID: instance.seriesInstanceUID } : {}),
    ...details,
  });
}

/** The image size and the number of frames: positive whole numbers. */
function checkImageSize(instance: ParsedInstance): void {
  if (!(instance.rows > 0) || !(instance.columns > 0)) {
    throw refusal('invalid-dicom', instance, `no image size: ${ROWS} ${instance.rows}, ${COLUMNS} ${instance.columns}`, {
      tags: [TAG.rows, TAG.columns],
      rows: instance.rows,
      columns: instance.columns,
    });
  }
  if (!Number.isInteger(instance.numberOfFrames) || instance.numberOfFrames < 1) {
    throw refusal('invalid-dicom', instance, `${NUMBER_OF_FRAMES} is ${instance.numberOfFrames}; a whole number of 1 or more is needed`, {
      tag: TAG.numberOfFrames,
      found: instance.numberOfFrames,
    });
  }
}

/**
 * Refuses pixel formats a CT HU volume cannot come from and Image Pixel attributes that contradict
 * each other: one greyscale sample per pixel, BitsAllocated 8 or 16, BitsStored from 1 to
 * BitsAllocated, HighBit = BitsStored - 1 (the CT Image module's rule, PS3.3 C.8.2.1; the node
 * reads the low BitsStored bits), PixelRepresentation 0 or 1.
 */
export function checkPixelAttributes(instance: ParsedInstance): void {
  checkImageSize(instance);
  const { samplesPerPixel, photometricInterpretation, bitsAllocated, bitsStored, highBit, pixelRepresentation } = instance;
  if (samplesPerPixel !== 1 || !/^MONOCHROME[12]$/.test(photometricInterpretation)) {
    throw refusal(
      'unsupported-pixel-format',
      instance,
      `not a greyscale image: ${SAMPLES_PER_PIXEL} ${samplesPerPixel}, ${PHOTOMETRIC_INTERPRETATION} "${printable(photometricInterpretation)}" (1 and MONOCHROME1 or MONOCHROME2 are read)`,
      { tags: [TAG.samplesPerPixel, TAG.photometricInterpretation], samplesPerPixel, photometricInterpretation: printable(photometricInterpretation) },
    );
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw refusal('unsupported-pixel-format', instance, `${BITS_ALLOCATED} ${bitsAllocated} is not read (8 or 16)`, { tag: TAG.bitsAllocated, found: bitsAllocated });
  }
  if (bitsStored > bitsAllocated) {
    throw refusal('bits-stored-exceed-allocated', instance, `${BITS_STORED} ${bitsStored} is more than ${BITS_ALLOCATED} ${bitsAllocated}`, {
      tags: [TAG.bitsStored, TAG.bitsAllocated],
      bitsStored,
      bitsAllocated,
    });
  }
  if (!(bitsStored >= 1)) {
    throw refusal('unsupported-pixel-format', instance, `${BITS_STORED} ${bitsStored}: no bit of a pixel is stored`, { tag: TAG.bitsStored, found: bitsStored });
  }
  if (highBit !== bitsStored - 1) {
    throw refusal('high-bit-mismatch', instance, `${HIGH_BIT} ${highBit} with ${BITS_STORED} ${bitsStored}: ${bitsStored - 1} expected`, {
      tags: [TAG.highBit, TAG.bitsStored],
      expected: bitsStored - 1,
      found: highBit,
    });
  }
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1) {
    throw refusal('unsupported-pixel-format', instance, `${PIXEL_REPRESENTATION} ${pixelRepresentation}; 0 (unsigned) or 1 (signed) expected`, {
      tag: TAG.pixelRepresentation,
      found: pixelRepresentation,
    });
  }
}

/**
 * Native pixel data must hold exactly Rows x Columns x SamplesPerPixel x NumberOfFrames values of
 * BitsAllocated bits (PS3.5 8.1.1), plus one padding byte when that count is odd (every value
 * has even length, PS3.5 7.1.1). Shorter is truncated; longer means a header that does not
 * describe the data (e.g. a wrong Rows or BitsAllocated), which would be read as noise.
 * Call after checkPixelAttributes.
 */
export function checkNativePixelLength(instance: ParsedInstance, bytes: Buffer): void {
  const expected = (instance.rows * instance.columns * instance.samplesPerPixel * instance.numberOfFrames * instance.bitsAllocated) / 8;
  const formula =
    `${ROWS} ${instance.rows} x ${COLUMNS} ${instance.columns} x ${SAMPLES_PER_PIXEL} ${instance.samplesPerPixel} x ` +
    `${NUMBER_OF_FRAMES} ${instance.numberOfFrames} x ${BITS_ALLOCATED} ${instance.bitsAllocated} bits = ${expected} bytes`;
  const details = { tag: TAG.pixelData, expectedBytes: expected, foundBytes: bytes.length };
  if (bytes.length < expected) {
    throw refusal('truncated-pixel-data', instance, `${PIXEL_DATA} holds ${bytes.length} bytes; ${formula}`, { ...details, have: bytes.length, needed: expected });
  }
  const allowed = expected % 2 === 1 ? expected + 1 : expected;
  if (bytes.length > allowed) {
    throw refusal('pixel-data-length-mismatch', instance, `${PIXEL_DATA} holds ${bytes.length} bytes, more than ${formula}`, details);
  }
}

/** The range of values BitsStored bits hold, in the sign of PixelRepresentation. */
function storedRange(instance: ParsedInstance): [number, number] {
  const bits = Math.min(Math.max(instance.bitsStored, 1), 32);
  return instance.pixelRepresentation === 1 ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

/** The CT numbers of the stored range after rescale, lowest first (the slope is positive here). */
function rescaledRange(instance: ParsedInstance): [number, number] {
  const [low, high] = storedRange(instance);
  return [low * instance.rescaleSlope + instance.rescaleIntercept, high * instance.rescaleSlope + instance.rescaleIntercept];
}

function rescaleText(instance: ParsedInstance): string {
  return `${RESCALE_SLOPE} ${instance.rescaleSlope}, ${RESCALE_INTERCEPT} ${instance.rescaleIntercept}`;
}

function rescaleDetails(instance: ParsedInstance): Record<string, unknown> {
  return { tags: [TAG.rescaleSlope, TAG.rescaleIntercept], rescaleSlope: instance.rescaleSlope, rescaleIntercept: instance.rescaleIntercept };
}

/**
 * Refuses a rescale (PS3.3 C.11.1.1.2) that cannot turn stored values into CT numbers: a slope
 * that is not a number, not positive or above MAX_RESCALE_SLOPE, an intercept that is not a
 * finite number, or a stored range that lands wholly outside CT_NUMBER_RANGE. For any image
 * converted to HU; a CT image for analysis also passes checkCtRescale.
 */
export function checkRescale(instance: ParsedInstance): void {
  const { rescaleSlope: slope, rescaleIntercept: intercept } = instance;
  if (!Number.isFinite(slope) || slope <= 0 || slope > MAX_RESCALE_SLOPE) {
    throw refusal('implausible-rescale', instance, `${rescaleText(instance)}: the slope must be a number above 0 and at most ${MAX_RESCALE_SLOPE}`, rescaleDetails(instance));
  }
  if (!Number.isFinite(intercept)) {
    throw refusal('implausible-rescale', instance, `${rescaleText(instance)}: the intercept is not a finite number`, rescaleDetails(instance));
  }
  const [low, high] = rescaledRange(instance);
  if (high < CT_NUMBER_RANGE[0] || low > CT_NUMBER_RANGE[1]) {
    throw refusal(
      'implausible-rescale',
      instance,
      `${rescaleText(instance)} turn the stored values (${storedRange(instance).join(' to ')}) into ${low} to ${high} HU, wholly outside the CT range ${CT_NUMBER_RANGE.join(' to ')} HU`,
      { ...rescaleDetails(instance), huRange: [low, high] },
    );
  }
}

function isCtImage(instance: ParsedInstance): boolean {
  return instance.modality === 'CT' || instance.sopClassUID === SOP_CLASS.ctImageStorage;
}

/**
 * The rescale of a slice of a CT volume for analysis: checkRescale, both attributes present (type
 * 1 in the CT Image module, PS3.3 C.8.2.1: without them the node cannot know the CT numbers) and
 * a stored range that covers CT_REQUIRED_RANGE.
 */
export function checkCtRescale(instance: ParsedInstance): void {
  checkRescale(instance);
  const absent = instance.rescaleAbsent ?? [];
  if (absent.length > 0 && isCtImage(instance)) {
    const named = absent.map((keyword) => (keyword === 'RescaleSlope' ? RESCALE_SLOPE : RESCALE_INTERCEPT));
    throw refusal('implausible-rescale', instance, `${named.join(' and ')} missing; a CT image must have both (PS3.3 C.8.2.1)`, {
      tags: [TAG.rescaleSlope, TAG.rescaleIntercept],
      missing: absent,
    });
  }
  const [low, high] = rescaledRange(instance);
  if (low > CT_REQUIRED_RANGE[0] || high < CT_REQUIRED_RANGE[1]) {
    throw refusal(
      'implausible-rescale',
      instance,
      `${rescaleText(instance)} with ${BITS_STORED} ${instance.bitsStored} and ${PIXEL_REPRESENTATION} ${instance.pixelRepresentation} give CT numbers ` +
        `from ${low} to ${high} HU; a CT image must reach from ${CT_REQUIRED_RANGE[0]} (air) to ${CT_REQUIRED_RANGE[1]} HU`,
      { ...rescaleDetails(instance), huRange: [low, high] },
    );
  }
}
