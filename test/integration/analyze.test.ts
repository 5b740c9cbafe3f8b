/**
 * `tsr-node analyze` against a real Orthanc with the tiny fixture models: the result JSON, the
 * SR and SC stored once (a re-run adds nothing), --no-store writing nothing, and a refusal with
 * its reason code.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the printed JSON is checked field by field */
import { expect } from 'chai';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { generateStudy, type SyntheticStudy } from '../../src/synthetic';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';

const TINY_MODELS = path.resolve(__dirname, '../fixtures/tiny-models');

async function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  Object.assign(process.env, env);
  console.log = (s: string) => out.push(s);
  console.error = (s: string) => err.push(s);
  try {
    const code = await main(argv);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    for (const key of Object.keys(env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/**
 * The Part 10 file with one element of 16-bit length (explicit VR little endian) given a new
 * value, written by hand: the codec would refuse the values that issue 24 is about.
 */
function withElementValue(bytes: Uint8Array, group: number, element: number, vr: string, value: string): Uint8Array {
  const file = Buffer.from(bytes);
  const header = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8, vr.charCodeAt(0), vr.charCodeAt(1)]);
  const at = file.indexOf(header, 132);
  if (at < 0) throw new Error(`no (${group.toString(16)},${element.toString(16)}) ${vr} in the file`);
  const encoded = Buffer.from(value.length % 2 === 0 ? value : `${value} `, 'latin1');
  const length = Buffer.alloc(2);
  length.writeUInt16LE(encoded.length);
  return Buffer.concat([file.subarray(0, at + 6), length, encoded, file.subarray(at + 8 + file.readUInt16LE(at + 6))]);
}

describe('tsr-node analyze (real Orthanc, tiny fixture models)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let env: Record<string, string>;
  let study: SyntheticStudy;

  const instanceCount = async (uid: string): Promise<number> => {
    const studies = await orthanc.rest<Array<{ ID: string; MainDicomTags: { StudyInstanceUID: string } }>>('GET', '/studies?expand');
    const s = studies.find((x) => x.MainDicomTags.StudyInstanceUID === uid);
    if (!s) return 0;
    return (await orthanc.rest<unknown[]>('GET', `/studies/${s.ID}/instances`)).length;
  };

  before(async () => {
    orthanc = await startOrthanc();
    env = {
      TSR_ORTHANC_URL: orthanc.url,
      TSR_DICOMWEB_URL: orthanc.dicomWebUrl,
      TSR_ORTHANC_USERNAME: orthanc.username,
      TSR_ORTHANC_PASSWORD: orthanc.password,
      TSR_MODELS_DIR: TINY_MODELS,
      TSR_MODELS_THREADS: '1',
      TSR_LOG_LEVEL: 'error',
    };
    study = generateStudy({ seed: 601, columns: 128, slices: 36, naming: 'english' });
    for (const f of study.files) await orthanc.rest('POST', '/instances', Buffer.from(f.bytes));
  });
  after(async () => orthanc?.stop());

  it('--no-store prints the analysis and writes nothing to the PACS', async () => {
    const before = await instanceCount(study.studyInstanceUID);
    const { code, stdout } = await runCli(['analyze', study.studyInstanceUID, '--no-store'], env);
    expect(code).to.equal(0);
    const result = JSON.parse(stdout) as Record<string, any>;
    expect(result.studyInstanceUID).to.equal(study.studyInstanceUID);
    expect(result.probabilityHigh).to.be.within(0, 1);
    expect(result.label).to.be.oneOf(['low', 'high']);
    expect(result.classifier.name).to.equal('tsr-clip-fusion');
    expect(result.arterial.seriesInstanceUID).to.equal(study.groundTruth.phases.arterial.seriesInstanceUID);
    expect(result.venous.seriesInstanceUID).to.equal(study.groundTruth.phases.venous.seriesInstanceUID);
    expect(result.venous.sourceImageCount).to.equal(36);
    expect(result.venous).to.not.have.property('keySliceHu');
    expect(result.stored).to.equal(false);
    expect(result.timingsMs.total).to.be.a('number');
    expect(await instanceCount(study.studyInstanceUID)).to.equal(before);
  });

  it('stores the SR, the overlay SC and the tumour SEG once; a re-run adds nothing', async () => {
    const before = await instanceCount(study.studyInstanceUID);
    const first = await runCli(['analyze', study.studyInstanceUID], env);
    expect(first.code).to.equal(0);
    const stored = (JSON.parse(first.stdout) as { stored: { sr: string; sc: string; seg: string; sentNow: string[]; alreadyPresent: string[] } }).stored;
    expect(stored.sentNow).to.have.members([stored.sr, stored.sc, stored.seg]);
    expect(await instanceCount(study.studyInstanceUID)).to.equal(before + 3);
    const again = await runCli(['analyze', study.studyInstanceUID], env);
    expect(again.code).to.equal(0);
    const storedAgain = (JSON.parse(again.stdout) as { stored: { sentNow: string[]; alreadyPresent: string[] } }).stored;
    expect(storedAgain.sentNow).to.deep.equal([]);
    expect(storedAgain.alreadyPresent).to.have.members([stored.sr, stored.sc, stored.seg]);
    expect(await instanceCount(study.studyInstanceUID)).to.equal(before + 3);
  });

  it('stores the SR, SC and SEG of a study whose Patient\'s Name is 300 characters with control characters (issue 24)', async () => {
    const odd = generateStudy({ seed: 603, columns: 96, slices: 30, extras: 'none', naming: 'english' });
    for (const f of odd.files) {
      const longName = withElementValue(f.bytes, 0x0010, 0x0010, 'PN', `Doe\u0007${'x'.repeat(290)}^Jane\n`);
      await orthanc.rest('POST', '/instances', withElementValue(longName, 0x0010, 0x0030, 'DA', '20261399'));
    }
    const before = await instanceCount(odd.studyInstanceUID);
    const { code, stdout, stderr } = await runCli(['analyze', odd.studyInstanceUID], env);
    expect(code, stderr).to.equal(0);
    const stored = (JSON.parse(stdout) as { stored: { sr: string; sc: string; seg: string; sentNow: string[] } }).stored;
    expect(stored.sentNow).to.have.members([stored.sr, stored.sc, stored.seg]);
    expect(await instanceCount(odd.studyInstanceUID)).to.equal(before + 3);
  });

  it('exits 3 with the reason code when the study cannot be analysed', async () => {
    // Only the venous series of another study: a single phase.
    const other = generateStudy({ seed: 602, columns: 96, slices: 30, extras: 'none', naming: 'english' });
    for (const f of other.files.filter((x) => x.seriesInstanceUID === other.groundTruth.phases.venous.seriesInstanceUID)) {
      await orthanc.rest('POST', '/instances', Buffer.from(f.bytes));
    }
    const { code, stdout } = await runCli(['analyze', other.studyInstanceUID, '--no-store'], env);
    expect(code).to.equal(3);
    const refused = JSON.parse(stdout) as { analyzed: boolean; code: string };
    expect(refused.analyzed).to.equal(false);
    expect(refused.code).to.equal('single-phase');
  });

  it('exits 1 with a clear message when a model does not match its manifest', async () => {
    const { code, stderr } = await runCli(['analyze', study.studyInstanceUID, '--no-store'], { ...env, TSR_MODELS_DIR: path.resolve(__dirname, '../fixtures') });
    expect(code).to.equal(1);
    expect(stderr).to.match(/model .*tsr-localizer\.json: manifest not found/);
  });
});
