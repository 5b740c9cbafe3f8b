/**
 * `tsr-node synth --stow URL` into a real Orthanc (test/harness/orthanc.ts): every instance
 * arrives, the study, its series and descriptions are what the ground truth says.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { command } from '../../src/cli/commands/synth';
import type { SyntheticGroundTruth } from '../../src/synthetic';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';

describe('integration: tsr-node synth --stow into Orthanc', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let dir: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    orthanc = await startOrthanc();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-synth-stow-'));
    for (const key of ['TSR_ORTHANC_USERNAME', 'TSR_ORTHANC_PASSWORD', 'TSR_CONFIG']) saved[key] = process.env[key];
    process.env.TSR_ORTHANC_USERNAME = orthanc.username;
    process.env.TSR_ORTHANC_PASSWORD = orthanc.password;
    delete process.env.TSR_CONFIG;
  });

  after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores two studies completely, with the series the ground truth lists', async () => {
    const code = await command.run([
      '--stow', orthanc.dicomWebUrl,
      '--out', dir,
      '--seed', '900',
      '--count', '2',
      '--columns', '48',
      '--slices', '12',
      '--extras', 'all',
      '--naming', 'random',
      '--no-progress',
    ]);
    expect(code).to.equal(0);
    const truths = ['study-0001', 'study-0002'].map((s) => JSON.parse(readFileSync(path.join(dir, s, 'ground-truth.json'), 'utf8')) as SyntheticGroundTruth);
    const studies = await orthanc.rest<string[]>('GET', '/studies');
    expect(studies).to.have.length(2);
    for (const truth of truths) {
      const found = await orthanc.rest<Array<{ ID: string; Series: string[] }>>('POST', '/tools/find', { Level: 'Study', Query: { StudyInstanceUID: truth.studyInstanceUID }, Expand: true });
      expect(found, truth.studyInstanceUID).to.have.length(1);
      expect(found[0].Series).to.have.length(truth.series.length);
      for (const series of truth.series) {
        const hits = await orthanc.rest<Array<{ Instances: string[]; MainDicomTags: { SeriesDescription?: string } }>>('POST', '/tools/find', {
          Level: 'Series',
          Query: { SeriesInstanceUID: series.seriesInstanceUID },
          Expand: true,
        });
        expect(hits, series.role).to.have.length(1);
        expect(hits[0].Instances, series.role).to.have.length(series.instanceCount);
        expect(hits[0].MainDicomTags.SeriesDescription ?? '', series.role).to.equal(series.seriesDescription);
      }
    }
    // labels.csv lists both studies with the venous-phase tumour centre.
    const labels = readFileSync(path.join(dir, 'labels.csv'), 'utf8').trim().split('\n');
    expect(labels[0]).to.equal('StudyInstanceUID,label,centreX,centreY,centreZ');
    expect(labels.slice(1).map((l) => l.split(',')[0])).to.deep.equal(truths.map((t) => t.studyInstanceUID));
  });
});
