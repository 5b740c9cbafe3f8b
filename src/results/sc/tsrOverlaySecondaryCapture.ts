/**
 * The overlay picture as Secondary Capture Image Storage (PS3.3 A.8.1, SC Image IOD): same patient
 * and study as the sources, a new series, DERIVED\SECONDARY, burned-in annotation. A pure builder:
 * typed options in, a naturalized dataset out.
 */
import { SOP_CLASS } from '../../dicom/dictionary';
import type { DicomJson } from '../../dicomweb/dicomJson';
import { jsonNumbers, jsonString } from '../../dicomweb/dicomJson';
import type { TsrAnalysis } from '../../inference/result';
import { CODES, codeItem, codingSchemeIdentification, IHE_SCHEME } from '../codes';
import type { DeviceIdentity } from '../device';
import { dicomDate, dicomTime, TIMEZONE_OFFSET_UTC } from '../dicomDateTime';
import type { NaturalizedDataset } from '../part10';
import { copyPatientStudy } from '../patientStudyCopier';
import { tsrResultLine } from '../resultText';
import { contributingEquipment, generalEquipment } from '../sr/tsrStructuredReport';
import type { ResultIdentity } from '../uids';
import type { RgbImage } from './overlayImage';

export interface TsrOverlayScOptions {
  analysis: TsrAnalysis;
  /** WADO-RS metadata of one source instance per phase (the key slice's is best). */
  sourceMetadata: { arterial: DicomJson; venous: DicomJson };
  image: RgbImage;
  identity: ResultIdentity;
  device: DeviceIdentity;
  /** config results.scSeriesDescription */
  seriesDescription: string;
  seriesNumber?: number;
  now: Date;
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
  const letters = (v: number[]): string => {
    const axes: Array<[string, string]> = [['L', 'R'], ['P', 'A'], ['H', 'F']];
    return v
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => Math.abs(c) > 0.25)
      .sort((p, q) => Math.abs(q.c) - Math.abs(p.c))
      .map(({ c, i }) => (c > 0 ? axes[i][0] : axes[i][1]))
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

function checkOptions(o: TsrOverlayScOptions): void {
  const { image } = o;
  if (image.rgb.length !== image.columns * image.rows * 3) {
    throw new RangeError(`image.rgb: ${image.rgb.length} bytes, expected ${image.columns * image.rows * 3} (columns x rows x 3)`);
  }
  if (image.columns > 65535 || image.rows > 65535) throw new RangeError('image: at most 65535 rows and columns (US)');
  for (const phase of ['arterial', 'venous'] as const) {
    if (jsonString(o.sourceMetadata[phase], '0020000D') !== o.analysis.studyInstanceUID) {
      throw new RangeError(`sourceMetadata.${phase}: not from the analysed study ${o.analysis.studyInstanceUID}`);
    }
  }
  if (o.seriesDescription.length === 0 || o.seriesDescription.length > 64) throw new RangeError('seriesDescription: 1 to 64 characters (LO)');
}

export function buildTsrOverlaySecondaryCapture(o: TsrOverlayScOptions): NaturalizedDataset {
  checkOptions(o);
  const { analysis: a, device, identity, image, now } = o;
  const window = o.window ?? { centre: 40, width: 400 };
  const orientation = patientOrientation(jsonNumbers(o.sourceMetadata.venous, '00200037'));
  const pixels = pixelDataBuffer(image.rgb);

  return {
    // SOP Common
    SOPClassUID: SOP_CLASS.secondaryCaptureImageStorage,
    SOPInstanceUID: identity.scSopInstanceUID,
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: dicomDate(now),
    InstanceCreationTime: dicomTime(now),
    InstanceCreatorUID: device.uid,
    TimezoneOffsetFromUTC: TIMEZONE_OFFSET_UTC,
    CodingSchemeIdentificationSequence: codingSchemeIdentification([IHE_SCHEME.designator]),
    ContributingEquipmentSequence: [contributingEquipment(device, now)],
    // Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial Study
    ...copyPatientStudy(o.sourceMetadata.venous),
    // General Series
    Modality: 'OT',
    SeriesInstanceUID: identity.scSeriesInstanceUID,
    SeriesNumber: o.seriesNumber ?? 9002,
    SeriesDate: dicomDate(now),
    SeriesTime: dicomTime(now),
    SeriesDescription: o.seriesDescription,
    // Laterality (Type 2C) is left out: Image Laterality "U" below says the body part is unpaired.
    // General Equipment
    ...generalEquipment(device),
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
      ReferencedSOPClassUID: a[phase].sopClassUID,
      ReferencedSOPInstanceUID: a[phase].keySopInstanceUID,
      PurposeOfReferenceCodeSequence: [codeItem(CODES.sourceImageForProcessing)],
    })),
    ImageComments: tsrResultLine(a),
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
