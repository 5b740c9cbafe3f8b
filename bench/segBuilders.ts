/**
 * The SEG two ways (docs/decisions.md "The SEG: our own builder, not dcmjs's derivation"): the
 * project's builder (src/results/seg) against dcmjs 0.51's `derivations.Segmentation`, on the same
 * tumour over a 512 x 512 x 80 CT series: bytes, dciodvfy errors and warnings, and time to a Part
 * 10 file. Both get the same masks (the frames the tumour touches); dcmjs also needs the source
 * series normalised into one multi-frame dataset first (its input), which is timed apart, and the
 * frame numbers of that dataset for each mask: found here by position (a wrong mapping still
 * passes dciodvfy, with the tumour on other slices).
 *
 *   npx tsx bench/segBuilders.ts          prints the figures
 *   npm run bench -- --only seg           the same, in the bench table (module `seg`)
 *
 * Without /usr/bin/dciodvfy (dicom3tools) the two dciodvfy figures are left out.
 */
import { existsSync } from 'node:fs';
import type { BenchContext, BenchModule, Figure } from './benchModule';
import { median } from './benchModule';
import { nodeDevice } from '../src/results/device';
import { writePart10 } from '../src/results/part10';
import { resultIdentity } from '../src/results/uids';
import { buildTumourSegmentation } from '../src/results/seg/tumourSegmentation';
import { tumourSegmentFrames } from '../src/results/seg/segmentFrames';
import { dicomLabFromRgb } from '../src/results/seg/segmentPixels';
import { indexToPatient, type Vec3 } from '../src/study/geometry';
import { dciodvfy } from '../test/harness/dciodvfy';
import { makeSimpleCtSeries } from '../test/harness/simpleCtSeries';
import { localisationBlob, part10ToDicomJson, seriesGeometry } from '../test/unit/results/tsrFixture';
import { makeTsrFixture } from '../test/unit/results/tsrFixture';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomMessage: { readFile(buffer: ArrayBuffer): { dict: unknown; meta: unknown } };
    DicomMetaDictionary: { naturalizeDataset(ds: unknown): Record<string, unknown> };
    datasetToBuffer(dataset: Record<string, unknown>): Buffer;
  };
  normalizers: { Normalizer: { normalizeToDataset(datasets: Array<Record<string, unknown>>): Record<string, unknown> } };
  derivations: {
    Segmentation: new (
      datasets: Array<Record<string, unknown>>,
      options?: Record<string, unknown>,
    ) => {
      dataset: Record<string, unknown>;
      setNumberOfFrames(n: number): void;
      addSegment(segment: Record<string, unknown>, pixels: Uint8Array, referencedFrameNumbers: number[]): void;
      bitPackPixelData(): void;
    };
  };
  log: { setLevel(level: string): void };
};
/* eslint-enable @typescript-eslint/no-require-imports */

const SIZE = 512;
const SLICES = 80;
const REPEATS = 5;
/** Where test/harness/dciodvfy.ts runs it (Debian's dicom3tools). */
const DCIODVFY = '/usr/bin/dciodvfy';

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = process.hrtime.bigint();
  const value = run();
  return { value, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

/** The fixture's analysis moved onto a 512 x 512 x 80 venous series with a 40 mm tumour. */
function scenario(): { options: Parameters<typeof buildTumourSegmentation>[0]; part10s: Buffer[] } {
  const small = makeTsrFixture({ size: 32, slices: 6 });
  const venous = makeSimpleCtSeries({ seed: 'seg-bench', rows: SIZE, columns: SIZE, slices: SLICES, seriesNumber: 3, studyInstanceUID: small.studyInstanceUID });
  const geometry = seriesGeometry(SIZE, SLICES, 0.7, 2.5);
  const analysis = {
    ...small.analysis,
    venous: { ...small.analysis.venous, seriesInstanceUID: venous.seriesInstanceUID, sourceSopInstanceUIDs: venous.instances.map((i) => i.sopInstanceUID), volumeGeometry: geometry },
    tumourLocalisation: localisationBlob([20, 10, -100], 20),
  };
  const identity = resultIdentity({ studyInstanceUID: small.studyInstanceUID, inputSopInstanceUIDs: analysis.venous.sourceSopInstanceUIDs, modelSha256s: ['a'.repeat(64)] });
  return {
    options: {
      analysis,
      sourceMetadata: { arterial: small.sourceMetadata.arterial, venous: part10ToDicomJson(venous.instances[40].part10) },
      identity,
      device: nodeDevice('TSR-NODE'),
      seriesDescription: 'TSR AI tumour segmentation (research use)',
      now: new Date('2025-03-01T10:20:30Z'),
    },
    part10s: venous.instances.map((i) => i.part10),
  };
}

/** The 1-based frame of the normalised dataset at a patient position (its per-frame Plane Position). */
function multiframeFrameAt(multiframe: Record<string, unknown>, position: Vec3): number {
  const groups = multiframe.PerFrameFunctionalGroupsSequence as Array<{ PlanePositionSequence: { ImagePositionPatient: number[] } | Array<{ ImagePositionPatient: number[] }> }>;
  const index = groups.findIndex((group) => {
    const plane = Array.isArray(group.PlanePositionSequence) ? group.PlanePositionSequence[0] : group.PlanePositionSequence;
    return plane.ImagePositionPatient.every((x, a) => Math.abs(Number(x) - position[a]) < 1e-3);
  });
  if (index < 0) throw new Error(`no frame of the normalised series at ${position.join(', ')}`);
  return index + 1;
}

/** dcmjs's way: the series normalised to one multi-frame dataset, then the derivation, one segment added. */
function dcmjsSegmentation(multiframe: Record<string, unknown>, options: Parameters<typeof buildTumourSegmentation>[0]): Buffer {
  const frames = tumourSegmentFrames(options.analysis.tumourLocalisation, options.analysis.venous.volumeGeometry);
  const seg = new dcmjs.derivations.Segmentation([multiframe], { SOPInstanceUID: options.identity.segSopInstanceUID, SeriesInstanceUID: options.identity.segSeriesInstanceUID });
  seg.setNumberOfFrames(frames.length);
  const pixels = new Uint8Array(frames.length * SIZE * SIZE);
  frames.forEach((frame, n) => pixels.set(frame.mask, n * SIZE * SIZE));
  const localiser = options.analysis.models.find((model) => model.role === 'localizer')!;
  seg.addSegment(
    {
      SegmentLabel: 'Tumour',
      SegmentedPropertyCategoryCodeSequence: { CodeValue: '49755003', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Morphologically Abnormal Structure' },
      SegmentedPropertyTypeCodeSequence: { CodeValue: '372087000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Neoplasm, Primary' },
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: localiser.name,
      RecommendedDisplayCIELabValue: dicomLabFromRgb([0, 255, 102]),
    },
    pixels,
    // The derivation wants the frame numbers of the normalised multi-frame dataset (1-based), in
    // whatever order the normaliser put the slices: found by position, the caller's job with dcmjs.
    frames.map((frame) => multiframeFrameAt(multiframe, indexToPatient(options.analysis.venous.volumeGeometry, 0, 0, frame.sliceIndex))),
  );
  seg.bitPackPixelData();
  return dcmjs.data.datasetToBuffer(seg.dataset);
}

/** dciodvfy's errors and warnings; undefined without dicom3tools (the figures that need it are left out). */
function describeValidation(bytes: Uint8Array): { errors: string[]; warnings: string[] } | undefined {
  if (!existsSync(DCIODVFY)) return undefined;
  const report = dciodvfy(bytes);
  return { errors: report.errors, warnings: report.warnings };
}

export async function benchSegBuilders(context: BenchContext): Promise<Figure[]> {
  dcmjs.log.setLevel('error');
  const { options, part10s } = scenario();
  const naturalized = part10s.map((bytes) => {
    const message = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    return { ...dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict), _meta: dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.meta) };
  });
  const ours: number[] = [];
  const theirs: number[] = [];
  const normalise: number[] = [];
  let ourBytes: Uint8Array = new Uint8Array(0);
  let theirBytes: Buffer = Buffer.alloc(0);
  for (let i = 0; i < REPEATS; i++) {
    const own = timed(() => writePart10(buildTumourSegmentation(options)));
    ours.push(own.ms);
    ourBytes = own.value;
    const multiframe = timed(() => dcmjs.normalizers.Normalizer.normalizeToDataset(naturalized.map((ds) => ({ ...ds }))));
    normalise.push(multiframe.ms);
    const derived = timed(() => dcmjsSegmentation(multiframe.value, options));
    theirs.push(derived.ms);
    theirBytes = derived.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The same input twice: the same bytes? (dcmjs draws a Dimension Organization UID and reads the clock.)
  const ourAgain = writePart10(buildTumourSegmentation(options));
  const theirAgain = dcmjsSegmentation(dcmjs.normalizers.Normalizer.normalizeToDataset(naturalized.map((ds) => ({ ...ds }))), options);
  const same = (a: Uint8Array, b: Uint8Array): number => (Buffer.from(a).equals(Buffer.from(b)) ? 1 : 0);
  const dcmjsBaseline = (value: number): { name: string; value: number } => ({ name: 'dcmjs derivations.Segmentation', value });
  const figures: Figure[] = [
    { id: 'seg_own_build_ms', name: 'SEG, own builder: masks to Part 10 bytes (frames computed inside)', value: median(ours), unit: 'ms', baseline: dcmjsBaseline(median(theirs)), samples: ours },
    { id: 'seg_dcmjs_normalise_ms', name: 'dcmjs: 80 CT instances normalised to one multi-frame dataset (its input)', value: median(normalise), unit: 'ms', samples: normalise },
    { id: 'seg_own_bytes', name: 'SEG, own builder: Part 10 size', value: ourBytes.length, unit: 'bytes', baseline: dcmjsBaseline(theirBytes.length) },
    { id: 'seg_own_same_bytes_twice', name: 'SEG, own builder: the same bytes from the same input (1 yes, 0 no)', value: same(ourBytes, ourAgain), unit: 'yes', baseline: dcmjsBaseline(same(theirBytes, theirAgain)) },
  ];
  const own = describeValidation(ourBytes);
  const other = describeValidation(theirBytes);
  if (!own || !other) {
    context.log(`${DCIODVFY} is missing: no dciodvfy figures (apt-get install dicom3tools)`);
    return figures;
  }
  context.log(`ours: ${ourBytes.length} bytes, dciodvfy ${own.errors.length} errors, ${own.warnings.length} warnings`);
  context.log(`dcmjs: ${theirBytes.length} bytes, dciodvfy ${other.errors.length} errors, ${other.warnings.length} warnings`);
  for (const line of [...other.errors, ...other.warnings]) context.log(`  dcmjs: ${line}`);
  for (const line of [...own.errors, ...own.warnings]) context.log(`  ours: ${line}`);
  figures.push(
    { id: 'seg_own_dciodvfy_errors', name: 'SEG, own builder: dciodvfy errors', value: own.errors.length, unit: 'errors', baseline: dcmjsBaseline(other.errors.length) },
    { id: 'seg_own_dciodvfy_warnings', name: 'SEG, own builder: dciodvfy warnings', value: own.warnings.length, unit: 'warnings', baseline: dcmjsBaseline(other.warnings.length) },
  );
  return figures;
}

export const segBuildersBench: BenchModule = { name: 'seg', run: benchSegBuilders };

if (require.main === module) {
  void benchSegBuilders({ log: (message) => console.error(message) }).then((figures) => {
    for (const f of figures) console.log(`${f.name}: ${f.value.toFixed(1)} ${f.unit}${f.baseline ? ` (${f.baseline.name}: ${f.baseline.value.toFixed(1)})` : ''}`);
  });
}
