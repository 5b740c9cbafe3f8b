/**
 * Real scanner files (test/fixtures/realdata, with their licences and README) and pydicom's test
 * files from Debian's python3-pydicom (a system dependency, scripts/ensure-system-deps.js): each
 * decodes correctly or is refused with a specific code.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../src/paths';
import { storedToHu } from '../../../src/study/huConversion';
import { parseInstance } from '../../../src/study/instanceParser';
import { decodePixels } from '../../../src/study/pixelDecoding';
import { selectPhases } from '../../../src/study/phaseSelection';
import { defaultSelectionRules } from '../../../src/study/selectionRules';
import { assembleVolumeFromFiles, assembleVolumeFromPaths, sliceDescriptorFromParsed } from '../../../src/study/volumeAssembly';
import { summarizeSeries } from '../../../src/study/seriesSummary';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { refusal } from '../../harness/refusal';

const REAL = path.join(PROJECT_ROOT, 'test/fixtures/realdata');
const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const GE_DIR = path.join(REAL, 'ge-head-gantry-tilt');
const geFiles = (): string[] =>
  readdirSync(GE_DIR)
    .filter((f) => f.endsWith('.dcm'))
    .map((f) => path.join(GE_DIR, f));


async function huOf(file: string): Promise<Float32Array> {
  const p = parseInstance(readFileSync(file));
  const out = new Float32Array(p.rows * p.columns);
  storedToHu(p, await decodePixels(p), out, 0);
  return out;
}

/**
 * A DICOM JSON object (PS3.18 F.2) of a parsed header, as WADO-RS metadata would give it, so the
 * real files can go through summarizeSeries and selection.
 */
function metadataOf(file: string): DicomJson {
  const p = parseInstance(readFileSync(file), { headerOnly: true });
  const json: DicomJson = {
    '00080016': { vr: 'UI', Value: [p.sopClassUID ?? ''] },
    '00080018': { vr: 'UI', Value: [p.sopInstanceUID] },
    '00080060': { vr: 'CS', Value: [p.modality ?? ''] },
    '00080008': { vr: 'CS', Value: p.imageType },
    '0020000D': { vr: 'UI', Value: [p.studyInstanceUID ?? ''] },
    '0020000E': { vr: 'UI', Value: [p.seriesInstanceUID ?? ''] },
    '00280010': { vr: 'US', Value: [p.rows] },
    '00280011': { vr: 'US', Value: [p.columns] },
    '00280008': { vr: 'IS', Value: [p.numberOfFrames] },
  };
  if (p.imagePositionPatient) json['00200032'] = { vr: 'DS', Value: p.imagePositionPatient };
  if (p.imageOrientationPatient) json['00200037'] = { vr: 'DS', Value: p.imageOrientationPatient };
  if (p.pixelSpacing) json['00280030'] = { vr: 'DS', Value: p.pixelSpacing };
  if (p.sliceThickness !== undefined) json['00180050'] = { vr: 'DS', Value: [p.sliceThickness] };
  if (p.frameOfReferenceUID) json['00200052'] = { vr: 'UI', Value: [p.frameOfReferenceUID] };
  if (p.hasFunctionalGroups) json['52009229'] = { vr: 'SQ', Value: [] };
  return json;
}

describe('study: real scanner data', () => {
  before(() => {
    if (!existsSync(PYDICOM)) throw new Error(`${PYDICOM} is missing: apt-get install -y python3-pydicom`);
  });

  it('the JPEG 2000 lossless slice decodes to exactly the HU of its uncompressed original (693_J2KR vs 693_UNCR)', async () => {
    const j2k = await huOf(path.join(REAL, 'pydicom-data/693_J2KR.dcm'));
    const raw = await huOf(path.join(REAL, 'pydicom-data/693_UNCR.dcm'));
    expect(j2k.length).to.equal(512 * 512);
    let differences = 0;
    for (let i = 0; i < raw.length; i++) if (j2k[i] !== raw[i]) differences++;
    expect(differences).to.equal(0);
    // Padding (-2000 stored) became air, and the image is not blank.
    expect(raw[0]).to.equal(-1024);
    expect(Math.max(...raw.subarray(200 * 512, 201 * 512))).to.be.greaterThan(0);
  });

  it('the lossy JPEG 2000 slice of pydicom (693_J2KI) decodes to the same HU as its uncompressed copy (693_UNCI)', async () => {
    const j2k = await huOf(path.join(PYDICOM, '693_J2KI.dcm'));
    const raw = await huOf(path.join(REAL, 'pydicom-data/693_UNCI.dcm'));
    let differences = 0;
    for (let i = 0; i < raw.length; i++) if (j2k[i] !== raw[i]) differences++;
    expect(differences).to.equal(0);
  });

  it('a single real slice assembles into a one-slice volume with its geometry', async () => {
    const v = await assembleVolumeFromFiles([readFileSync(path.join(REAL, 'pydicom-data/693_J2KR.dcm'))]);
    expect(v.geometry.dims).to.deep.equal([512, 512, 1]);
    expect(v.geometry.origin).to.deep.equal([-122.5, -112.4, 47]);
    expect(v.geometry.spacing[0]).to.be.closeTo(0.478516, 1e-9);
  });

  it('the gantry-tilted GE head CT is refused by assembly: gantry-tilt, and the uneven spacing is reported too', async () => {
    const err = await refusal(assembleVolumeFromPaths(geFiles()));
    expect(err.code).to.equal('gantry-tilt');
    const problems = (err.details?.problems ?? []) as { code: string; details?: { degrees?: number } }[];
    expect(problems.map((p) => p.code)).to.deep.equal(['gantry-tilt', 'uneven-spacing']);
    expect(problems[0].details?.degrees).to.be.closeTo(18.5, 0.1);
  });

  it('the GE head CT is turned away by selection: head, and no contrast', () => {
    const metadata = geFiles().map(metadataOf);
    const qido: DicomJson = { ...metadata[0], '00180015': { vr: 'CS', Value: ['HEAD'] }, '00201209': { vr: 'IS', Value: [metadata.length] } };
    const selection = selectPhases([summarizeSeries(qido, metadata)], defaultSelectionRules());
    expect(selection.analyzable).to.equal(false);
    expect(selection.reasonCode).to.equal('wrong-body-part');
    const [candidate] = selection.candidates;
    expect(candidate.details.failed.map((f) => f.rule)).to.include('body-part');
    // Nothing in it says contrast: no agent, no bolus time, no phase in its (absent) description.
    expect(candidate.evidence.filter((e) => e.phase === 'arterial' || e.phase === 'venous')).to.have.length(0);
  });

  it('the GE head CT without its BodyPartExamined is still refused, for its tilted grid', () => {
    const metadata = geFiles().map(metadataOf);
    const selection = selectPhases([summarizeSeries(metadata[0], metadata)], defaultSelectionRules());
    expect(selection.reasonCode).to.equal('gantry-tilt');
  });

  it('the Enhanced CT (multi-frame, functional groups) is refused clearly by assembly and by selection', async () => {
    const file = path.join(REAL, 'pydicom-data/eCT_Supplemental.dcm');
    const parsed = parseInstance(readFileSync(file));
    expect(parsed.numberOfFrames).to.equal(2);
    expect(parsed.hasFunctionalGroups).to.equal(true);
    expect(sliceDescriptorFromParsed(parsed).enhancedMultiframe).to.equal(true);
    const err = await refusal(assembleVolumeFromFiles([readFileSync(file)]));
    expect(err.code).to.equal('enhanced-multiframe-unsupported');
    const meta = metadataOf(file);
    const selection = selectPhases([summarizeSeries(meta, [meta])], defaultSelectionRules());
    expect(selection.reasonCode).to.equal('enhanced-multiframe-unsupported');
  });

  // pydicom's test files: each decodes or is refused with a specific code.
  const pydicomRows: { file: string; why: string; code?: string; check?: (hu: Float32Array) => void }[] = [
    { file: 'CT_small.dcm', why: 'a 128x128 signed CT slice decodes', check: (v) => expect([v.length, v[0]]).to.deep.equal([128 * 128, -849]) },
    { file: 'MR_small_implicit.dcm', why: 'implicit VR little endian decodes', check: (v) => expect(v[0]).to.equal(905) },
    { file: 'MR_small_jp2klossless.dcm', why: 'JPEG 2000 lossless decodes like the uncompressed MR_small', check: (v) => expect(v[0]).to.equal(905) },
    { file: 'MR_small_jpeg_ls_lossless.dcm', why: 'JPEG-LS is refused', code: 'unsupported-transfer-syntax' },
    { file: 'MR_small_RLE.dcm', why: 'RLE Lossless is refused', code: 'unsupported-transfer-syntax' },
    { file: 'MR_small_bigendian.dcm', why: 'explicit VR big endian is refused', code: 'unsupported-transfer-syntax' },
    { file: 'JPEG-lossy.dcm', why: 'JPEG Extended (12-bit lossy) is refused', code: 'unsupported-transfer-syntax' },
    { file: 'MR_truncated.dcm', why: 'a file that ends inside its pixel data is refused', code: 'truncated-pixel-data' },
    { file: 'no_meta.dcm', why: 'a data set without Part-10 header is refused', code: 'not-part10' },
    { file: 'SC_rgb_small_odd.dcm', why: 'an RGB image is refused', code: 'unsupported-pixel-format' },
  ];
  for (const row of pydicomRows) {
    it(`pydicom ${row.file}: ${row.why}`, async () => {
      const file = path.join(PYDICOM, row.file);
      if (row.code === undefined) {
        row.check!(await huOf(file));
      } else {
        const err = await refusal(huOf(file));
        expect(err.code).to.equal(row.code);
      }
    });
  }

  it('MR_small decodes to the same values from explicit, implicit and JPEG 2000 encodings', async () => {
    const base = await huOf(path.join(PYDICOM, 'MR_small.dcm'));
    for (const other of ['MR_small_implicit.dcm', 'MR_small_jp2klossless.dcm']) {
      expect(Array.from(await huOf(path.join(PYDICOM, other)))).to.deep.equal(Array.from(base));
    }
  });
});
