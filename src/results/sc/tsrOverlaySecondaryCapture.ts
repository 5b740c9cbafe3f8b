/**
 * The overlay picture as Secondary Capture Image Storage (PS3.3 A.8.1, SC Image IOD): same patient
 * and study as the sources, a new series, DERIVED\SECONDARY, burned-in annotation. A pure builder:
 * typed options in, a naturalized dataset out.
 */
import { SOP_CLASS } from '../../dicom/dictionary';
import { jsonNumbers, jsonString } from '../../dicomweb/dicomJson';
import { CODES, codeItem, IHE_SCHEME } from '../codes';
import { checkSeriesDescription, commonModules, type ResultObjectOptions } from '../commonModules';
import { dicomDate, dicomTime } from '../dicomDateTime';
import type { NaturalizedDataset } from '../part10';
import { tsrResultLine } from '../resultText';
import type { RgbImage } from './overlayImage';

export interface TsrOverlayScOptions extends ResultObjectOptions {
  image: RgbImage;
  /** How the picture was made, for DerivationDescription. */
  window?: { centre: number; width: number };
}

/**
 * Patient Orientation (PS3.3 C.7.6.1.1.1) of the key slices from their Image Orientation
 * (Patient): the patient direction of the rows, then of the columns, e.g. "L\P" for a standard
 * axial slice. Each letter set lists the axes that contribute, strongest first.
 */
export function patientOrientation(imageOrientationPatient: number[]): [string, string] | undefined {
  if (imageOrientationPatient.length !== 6) return undefined;
  const letters = (direction: number[]): string => {
    const axes: Array<[string, string]> = [['L', 'R'], ['P', 'A'], ['H', 'F']];
    return direction
      .map((cosine, axis) => ({ cosine, axis }))
      .filter(({ cosine }) => Math.abs(cosine) > 0.25)
      .sort((first, second) => Math.abs(second.cosine) - Math.abs(first.cosine))
      .map(({ cosine, axis }) => (cosine > 0 ? axes[axis][0] : axes[axis][1]))
      .join('');
  };
  return [letters(imageOrientationPatient.slice(0, 3)), letters(imageOrientationPatient.slice(3, 6))];
}

/**
 * The picture's bytes as Pixel Data, which must have an even length (PS3.5 7.1.1): its own
 * memory when that holds exactly the bytes and their number is even (the usual case, without a
 * 2 MB copy), else a copy with a zero byte added.
 */
function pixelDataBuffer(rgb: Uint8Array): ArrayBuffer {
  if (rgb.length % 2 === 0 && rgb.byteOffset === 0 && rgb.byteLength === rgb.buffer.byteLength && rgb.buffer instanceof ArrayBuffer) return rgb.buffer;
  const padded = new Uint8Array(rgb.length + (rgb.length % 2));
  padded.set(rgb);
  return padded.buffer;
}

function checkOptions(options: TsrOverlayScOptions): void {
  const { image } = options;
  if (image.rgb.length !== image.columns * image.rows * 3) {
    throw new RangeError(`image.rgb: ${image.rgb.length} bytes, expected ${image.columns * image.rows * 3} (columns x rows x 3)`);
  }
  if (image.columns > 65535 || image.rows > 65535) throw new RangeError('image: at most 65535 rows and columns (US)');
  for (const phase of ['arterial', 'venous'] as const) {
    if (jsonString(options.sourceMetadata[phase], '0020000D') !== options.analysis.studyInstanceUID) {
      throw new RangeError(`sourceMetadata.${phase}: not from the analysed study ${options.analysis.studyInstanceUID}`);
    }
  }
  checkSeriesDescription(options.seriesDescription);
}

export function buildTsrOverlaySecondaryCapture(options: TsrOverlayScOptions): NaturalizedDataset {
  checkOptions(options);
  const { analysis, device, identity, image, now } = options;
  const window = options.window ?? { centre: 40, width: 400 };
  const orientation = patientOrientation(jsonNumbers(options.sourceMetadata.venous, '00200037'));
  const pixels = pixelDataBuffer(image.rgb);

  return {
    // SOP Common, Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial
    // Study, General Series, General Equipment. General Series's Laterality (Type 2C) is left
    // out: Image Laterality "U" below says the body part is unpaired.
    ...commonModules(options, {
      sopClassUID: SOP_CLASS.secondaryCaptureImageStorage,
      sopInstanceUID: identity.scSopInstanceUID,
      codingSchemeDesignators: [IHE_SCHEME.designator],
      modality: 'OT',
      seriesInstanceUID: identity.scSeriesInstanceUID,
      defaultSeriesNumber: 9002,
    }),
    // SC Equipment
    ConversionType: 'WSD',
    SecondaryCaptureDeviceManufacturer: device.manufacturer,
    SecondaryCaptureDeviceManufacturerModelName: device.modelName,
    SecondaryCaptureDeviceSoftwareVersions: device.softwareVersion,
    // General Image
    InstanceNumber: 1,
    ImageLaterality: 'U',
    PatientOrientation: orientation ?? '',
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    ImageType: ['DERIVED', 'SECONDARY'],
    DerivationDescription:
      `Key slices of the portal-venous (left) and arterial (right) phases at the tumour level, ` +
      `window W${window.width} L${window.centre}, model saliency heatmap, tumour outline and result burned in`,
    SourceImageSequence: (['venous', 'arterial'] as const).map((phase) => ({
      ReferencedSOPClassUID: analysis[phase].sopClassUID,
      ReferencedSOPInstanceUID: analysis[phase].keySopInstanceUID,
      PurposeOfReferenceCodeSequence: [codeItem(CODES.sourceImageForProcessing)],
    })),
    ImageComments: tsrResultLine(analysis),
    BurnedInAnnotation: 'YES',
    RecognizableVisualFeatures: 'NO',
    LossyImageCompression: '00',
    // SC Image
    DateOfSecondaryCapture: dicomDate(now),
    TimeOfSecondaryCapture: dicomTime(now),
    // Image Pixel
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: image.rows,
    Columns: image.columns,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [pixels],
    _vrMap: { PixelData: 'OB' },
  };
}
