/**
 * Fills a planned HU volume one instance at a time, as the parts of a WADO-RS response arrive.
 * The volume is allocated once; each part is parsed in place, checked against the plan (it must
 * belong to it, once, at its planned position and size), converted to HU into its slice, and can
 * then be dropped. Peak memory is the volume plus the part in hand.
 *
 * Before a slice is claimed, its header passes the checks of pixelChecks.ts (pixel format, CT
 * rescale); the pixel data's length is checked as it is decoded. Every refusal names the series.
 *
 * Also `assembleVolumeFromFiles`: the same code path for Part-10 files on disk (the dataset
 * builder), so that training and serving see identical volumes.
 */
import { readFileSync } from 'node:fs';
import { TAG } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import { dot, type Vec3 } from './geometry';
import { storedToHu, type HuOptions } from './huConversion';
import { isEnhancedMultiframe, parseInstance, type ParseOptions, type ParsedInstance } from './instanceParser';
import { checkCtRescale, checkPixelAttributes, instanceLabel } from './pixelChecks';
import { attributeLabel } from './tagLabels';
import { decodePixels } from './pixelDecoding';
import { checkInstanceGeometry } from './planConformance';
import type { HuVolume } from './volume';
import type { VolumeBufferPool } from './volumeBuffers';
import { planVolumeOrThrow, type PlanTolerances, type SliceDescriptor, type VolumePlan } from './volumePlan';

export interface AssemblyOptions extends HuOptions {
  /** Largest distance, in mm, between an instance's position and its planned one. */
  positionToleranceMm?: number;
  /** Where the volume's memory comes from (default: new memory for each volume). */
  volumeBuffers?: VolumeBufferPool;
}

/**
 * parseInstance, with `where` (which part or file of which series) put before the message of a
 * refusal: the parser itself cannot name the series of an instance it failed to read.
 */
export function parseInstanceAt(part10: Buffer, where: string, options: ParseOptions = {}): ParsedInstance {
  try {
    return parseInstance(part10, options);
  } catch (err) {
    if (err instanceof AnalysisRefusedError) throw new AnalysisRefusedError(err.code, `${where}: ${err.message}`, err.details);
    throw err;
  }
}

/** The descriptor volume planning needs, from a parsed header. */
export function sliceDescriptorFromParsed(p: ParsedInstance): SliceDescriptor {
  const d: SliceDescriptor = {
    sopInstanceUID: p.sopInstanceUID,
    rows: p.rows,
    columns: p.columns,
    numberOfFrames: p.numberOfFrames,
    enhancedMultiframe: isEnhancedMultiframe(p),
  };
  if (p.studyInstanceUID !== undefined) d.studyInstanceUID = p.studyInstanceUID;
  if (p.seriesInstanceUID !== undefined) d.seriesInstanceUID = p.seriesInstanceUID;
  if (p.frameOfReferenceUID !== undefined) d.frameOfReferenceUID = p.frameOfReferenceUID;
  if (p.imagePositionPatient !== undefined) d.imagePositionPatient = p.imagePositionPatient;
  if (p.imageOrientationPatient !== undefined) d.imageOrientationPatient = p.imageOrientationPatient;
  if (p.pixelSpacing !== undefined) d.pixelSpacing = p.pixelSpacing;
  if (p.sliceThickness !== undefined) d.sliceThickness = p.sliceThickness;
  if (p.instanceNumber !== undefined) d.instanceNumber = p.instanceNumber;
  return d;
}

export class VolumeAssembly {
  readonly volume: HuVolume;
  private readonly filled: Uint8Array;
  private filledCount = 0;
  private partsSeen = 0;
  private readonly sliceSize: number;
  private readonly toleranceMm: number;

  constructor(
    readonly plan: VolumePlan,
    identity: { studyInstanceUID?: string; seriesInstanceUID?: string } = {},
    private readonly options: AssemblyOptions = {},
  ) {
    const [columns, rows, slices] = plan.geometry.dims;
    this.sliceSize = columns * rows;
    this.toleranceMm = options.positionToleranceMm ?? 0.05;
    this.filled = new Uint8Array(slices);
    this.volume = {
      geometry: plan.geometry,
      // One allocation for the whole series, left uninitialised (or holding an earlier study's
      // voxels): every slice is written before finish() hands the volume out (it refuses a volume
      // with a slice missing).
      data: options.volumeBuffers
        ? options.volumeBuffers.take(this.sliceSize * slices)
        : new Float32Array(Buffer.allocUnsafeSlow(this.sliceSize * slices * 4).buffer, 0, this.sliceSize * slices),
      sopInstanceUIDs: [...plan.sopInstanceUIDs],
      studyInstanceUID: identity.studyInstanceUID ?? plan.studyInstanceUID ?? '',
      seriesInstanceUID: identity.seriesInstanceUID ?? plan.seriesInstanceUID ?? '',
      frameOfReferenceUID: plan.frameOfReferenceUID ?? '',
    };
  }

  get slicesFilled(): number {
    return this.filledCount;
  }

  /** Parses one Part-10 instance and writes its slice; a refusal rejects the promise, never throws. */
  async addInstance(part10: Buffer): Promise<void> {
    this.partsSeen++;
    const series = this.volume.seriesInstanceUID === '' ? 'the series' : `series ${this.volume.seriesInstanceUID}`;
    await this.addParsed(parseInstanceAt(part10, `part ${this.partsSeen} of ${series}`));
  }

  /** Checks a parsed instance against the plan and writes its HU into its slice. */
  async addParsed(p: ParsedInstance): Promise<void> {
    const k = this.reserve(p);
    storedToHu(p, await decodePixels(p), this.volume.data, k * this.sliceSize, this.options);
  }

  /**
   * Checks an instance (its header is enough) against the plan and the pixel checks, and claims
   * its slice: the index k whose voxels start at k * rows * columns. The caller then writes them
   * (here or in a worker).
   */
  reserve(p: ParsedInstance): number {
    const k = this.checkAgainstPlan(p);
    checkPixelAttributes(p);
    checkCtRescale(p);
    this.filled[k] = 1;
    this.filledCount++;
    return k;
  }

  private checkAgainstPlan(p: ParsedInstance): number {
    const where = instanceLabel(p);
    const k = this.plan.sliceIndex.get(p.sopInstanceUID);
    if (k === undefined) {
      throw new AnalysisRefusedError('unexpected-instance', `${where} is not in the planned series (it changed since its metadata was read?)`);
    }
    if (this.filled[k] === 1) throw new AnalysisRefusedError('duplicate-instance', `${where} arrived twice`);
    const series = this.volume.seriesInstanceUID;
    if (series !== '' && p.seriesInstanceUID !== undefined && p.seriesInstanceUID !== series) {
      throw new AnalysisRefusedError('mixed-series', `${where} arrived in the retrieval of series ${series}`);
    }
    if (isEnhancedMultiframe(p)) {
      throw new AnalysisRefusedError('enhanced-multiframe-unsupported', `${where} is multi-frame (${attributeLabel('NumberOfFrames', TAG.numberOfFrames)} ${p.numberOfFrames})`);
    }
    checkInstanceGeometry(p, this.plan.geometry);
    const planned = this.plan.positions[k];
    const at = p.imagePositionPatient!;
    const d: Vec3 = [at[0] - planned[0], at[1] - planned[1], at[2] - planned[2]];
    if (Math.sqrt(dot(d, d)) > this.toleranceMm) {
      throw new AnalysisRefusedError('instance-mismatch', `${where} is at ${attributeLabel('ImagePositionPatient', TAG.imagePositionPatient)} ${at.join('\\')}, its metadata said ${planned.join('\\')}`);
    }
    return k;
  }

  /** The finished volume; AnalysisRefusedError('missing-instances') if a planned slice never arrived. */
  finish(): HuVolume {
    const slices = this.plan.geometry.dims[2];
    if (this.filledCount !== slices) {
      const missing: number[] = [];
      for (let k = 0; k < slices && missing.length < 10; k++) if (this.filled[k] === 0) missing.push(k);
      throw new AnalysisRefusedError('missing-instances', `${slices - this.filledCount} of ${slices} planned slices did not arrive (first at k = ${missing.join(', ')})`, {
        missing: slices - this.filledCount,
      });
    }
    return this.volume;
  }
}

export interface AssembleFilesOptions extends AssemblyOptions {
  tolerances?: PlanTolerances;
}

/**
 * Assembles one series from its Part-10 files (all of one series, in any order): parse the
 * headers, plan, fill. Throws AnalysisRefusedError with the same codes as retrieval.
 */
export async function assembleVolumeFromFiles(buffers: Buffer[], options: AssembleFilesOptions = {}): Promise<HuVolume> {
  const parsed = buffers.map((b, n) => parseInstanceAt(b, `file ${n + 1} of ${buffers.length}`));
  const plan = planVolumeOrThrow(parsed.map(sliceDescriptorFromParsed), options.tolerances);
  const assembly = new VolumeAssembly(plan, {}, options);
  for (const p of parsed) await assembly.addParsed(p);
  return assembly.finish();
}

/**
 * Like assembleVolumeFromFiles, reading each file twice (headers, then pixels) so that peak memory
 * is the volume plus one file, whatever the series' size.
 */
export async function assembleVolumeFromPaths(paths: string[], options: AssembleFilesOptions = {}): Promise<HuVolume> {
  const where = (n: number): string => `file ${n + 1} of ${paths.length}`;
  const headers = paths.map((file, n) => sliceDescriptorFromParsed(parseInstanceAt(readFileSync(file), where(n), { headerOnly: true })));
  const plan = planVolumeOrThrow(headers, options.tolerances);
  const assembly = new VolumeAssembly(plan, {}, options);
  for (const [n, file] of paths.entries()) await assembly.addParsed(parseInstanceAt(readFileSync(file), where(n)));
  return assembly.finish();
}
