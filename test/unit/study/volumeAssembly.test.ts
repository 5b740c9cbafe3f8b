import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInstance } from '../../../src/study/instanceParser';
import { indexToPatient } from '../../../src/study/geometry';
import { assembleVolumeFromFiles, assembleVolumeFromPaths, sliceDescriptorFromParsed, VolumeAssembly } from '../../../src/study/volumeAssembly';
import { planVolumeOrThrow } from '../../../src/study/volumePlan';
import { expectedPixel, makeSimpleCtSeries } from '../../harness/simpleCtSeries';
import { ctSlice } from './part10Builder';
import { refusal } from '../../harness/refusal';


describe('study/volumeAssembly', () => {
  const series = makeSimpleCtSeries({ seed: 'assembly', rows: 12, columns: 10, slices: 8, sliceThickness: 2 });
  const buffers = series.instances.map((i) => i.part10);

  it('assembles files given in any order into HU slices sorted along the normal', async () => {
    const shuffled = [buffers[5], buffers[0], buffers[7], buffers[2], buffers[1], buffers[6], buffers[3], buffers[4]];
    const v = await assembleVolumeFromFiles(shuffled);
    // The harness steps positions by -2 mm per instance, so volume slice k is instance 7 - k.
    expect(v.geometry.dims).to.deep.equal([10, 12, 8]);
    expect(v.geometry.spacing[2]).to.be.closeTo(2, 1e-9);
    expect(v.sopInstanceUIDs[0]).to.equal(series.instances[7].sopInstanceUID);
    expect(v.seriesInstanceUID).to.equal(series.seriesInstanceUID);
    expect(v.studyInstanceUID).to.equal(series.studyInstanceUID);
    for (const [i, j, k] of [[0, 0, 0], [9, 11, 7], [4, 3, 2]]) {
      expect(v.data[k * 120 + j * 10 + i]).to.equal(expectedPixel(i, j, 7 - k));
    }
    // Voxel (0,0,0) is at the first sorted slice's ImagePositionPatient.
    expect(indexToPatient(v.geometry, 0, 0, 0)[2]).to.be.closeTo(-14, 1e-9);
  });

  it('gives identical volumes from buffers and from files on disk (the dataset builder path)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-assembly-'));
    try {
      const paths = buffers.map((b, n) => {
        const file = path.join(dir, `${n}.dcm`);
        writeFileSync(file, b);
        return file;
      });
      const fromFiles = await assembleVolumeFromPaths(paths);
      const fromBuffers = await assembleVolumeFromFiles(buffers);
      expect(Buffer.from(fromFiles.data.buffer).equals(Buffer.from(fromBuffers.data.buffer))).to.equal(true);
      expect(fromFiles.geometry).to.deep.equal(fromBuffers.geometry);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams: fills slices as parts arrive, then finish() returns the volume', async () => {
    const plan = planVolumeOrThrow(buffers.map((b) => sliceDescriptorFromParsed(parseInstance(b, { headerOnly: true }))));
    const assembly = new VolumeAssembly(plan, { studyInstanceUID: series.studyInstanceUID, seriesInstanceUID: series.seriesInstanceUID });
    for (const b of buffers) await assembly.addInstance(b);
    expect(assembly.slicesFilled).to.equal(8);
    expect(assembly.finish().data.length).to.equal(8 * 120);
  });

  it('refuses an instance that is not in the plan, one sent twice, and a series with a slice that never came', async () => {
    const plan = planVolumeOrThrow(buffers.slice(0, 7).map((b) => sliceDescriptorFromParsed(parseInstance(b, { headerOnly: true }))));
    const assembly = new VolumeAssembly(plan);
    expect((await refusal(assembly.addInstance(buffers[7]))).code).to.equal('unexpected-instance');
    await assembly.addInstance(buffers[0]);
    expect((await refusal(assembly.addInstance(buffers[0]))).code).to.equal('duplicate-instance');
    const missing = await refusal(() => assembly.finish());
    expect(missing.code).to.equal('missing-instances');
    expect(missing.details?.missing).to.equal(6);
  });

  it('refuses an instance whose position or size differs from its metadata', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.1';
    const planned = ctSlice({ sopInstanceUID: uid, position: [0, 0, 10] });
    const plan = planVolumeOrThrow([sliceDescriptorFromParsed(parseInstance(planned, { headerOnly: true }))]);
    const moved = ctSlice({ sopInstanceUID: uid, position: [0, 0, 12] });
    expect((await refusal(new VolumeAssembly(plan).addInstance(moved))).code).to.equal('instance-mismatch');
    const bigger = ctSlice({ sopInstanceUID: uid, position: [0, 0, 10], rows: 8, columns: 8 });
    expect((await refusal(new VolumeAssembly(plan).addInstance(bigger))).code).to.equal('instance-mismatch');
  });

  it('refuses a missing slice before any pixel is read', async () => {
    const err = await refusal(assembleVolumeFromFiles(buffers.filter((_, n) => n !== 3)));
    expect(err.code).to.equal('slice-gap');
  });
});
