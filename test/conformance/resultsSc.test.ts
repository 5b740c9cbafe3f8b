import { SOP_CLASS } from '../../src/dicom/dictionary';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { nodeDevice } from '../../src/results/device';
import { readPart10, writePart10 } from '../../src/results/part10';
import { renderTsrOverlay } from '../../src/results/sc/overlayImage';
import { buildTsrOverlaySecondaryCapture, patientOrientation } from '../../src/results/sc/tsrOverlaySecondaryCapture';
import { resultIdentity } from '../../src/results/uids';
import { dciodvfy } from '../harness/dciodvfy';
import { makeTsrFixture } from '../unit/results/tsrFixture';

/** The dciodvfy warnings we accept, each justified in docs/dicom-conformance.md. */
const ACCEPTED_SC_WARNINGS: RegExp[] = [/ContributingEquipmentSequence\(0018,a001\)\[1\]\/DeviceUID\(0018,1002\)> - Attribute is not present in standard DICOM IOD/];

const PYDICOM_READ = `
import json, sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
a = ds.pixel_array
x, y = int(sys.argv[2]), int(sys.argv[3])
print(json.dumps({'shape': list(a.shape), 'pixel': [int(v) for v in a[y, x]], 'imageType': list(ds.ImageType),
  'burnedIn': ds.BurnedInAnnotation, 'sources': [s.ReferencedSOPInstanceUID for s in ds.SourceImageSequence],
  'orientation': list(ds.PatientOrientation), 'series': ds.SeriesDescription, 'study': ds.StudyInstanceUID,
  'patient': str(ds.PatientName), 'photometric': ds.PhotometricInterpretation, 'conversion': ds.ConversionType}, ensure_ascii=False))
`;

describe('results: overlay Secondary Capture', () => {
  const f = makeTsrFixture({ size: 64, extra: { SpecificCharacterSet: 'ISO_IR 192', PatientName: [{ Alphabetic: 'Wang^Li', Ideographic: '王^力' }] } });
  const identity = resultIdentity({ studyInstanceUID: f.studyInstanceUID, inputSopInstanceUIDs: f.analysis.venous.sourceSopInstanceUIDs, modelSha256s: [f.analysis.classifier.sha256] });
  const now = new Date('2025-03-01T10:20:30Z');
  const image = renderTsrOverlay({ analysis: f.analysis, now, panelSize: 256 });
  const bytes = writePart10(
    buildTsrOverlaySecondaryCapture({ analysis: f.analysis, sourceMetadata: f.sourceMetadata, image, identity, device: nodeDevice('TSR-NODE'), seriesDescription: 'TSR AI overlay (research use)', now }),
  );

  it('passes dciodvfy with zero errors and only the documented warnings', () => {
    const report = dciodvfy(bytes);
    expect(report.iod).to.equal('SCImage');
    expect(report.errors, report.raw).to.deep.equal([]);
    expect(report.warnings.filter((w) => !ACCEPTED_SC_WARNINGS.some((re) => re.test(w))), report.raw).to.deep.equal([]);
  });

  it('reads back with dcmjs: SC attributes, same study, new series, the pixels as rendered', () => {
    const ds = readPart10(bytes);
    expect(ds.SOPClassUID).to.equal(SOP_CLASS.secondaryCaptureImageStorage);
    expect(ds.SOPInstanceUID).to.equal(identity.scSopInstanceUID);
    expect(ds.SeriesInstanceUID).to.equal(identity.scSeriesInstanceUID);
    expect(ds.StudyInstanceUID).to.equal(f.studyInstanceUID);
    expect(ds.ImageType).to.deep.equal(['DERIVED', 'SECONDARY']);
    expect(ds.BurnedInAnnotation).to.equal('YES');
    expect(ds.ConversionType).to.equal('WSD');
    expect(ds.PatientOrientation).to.deep.equal(['L', 'P']);
    expect(ds.SeriesDescription).to.equal('TSR AI overlay (research use)');
    expect(ds.Rows).to.equal(image.rows);
    expect(ds.Columns).to.equal(image.columns);
    expect(String(ds.DerivationDescription)).to.match(/saliency/);
    const sources = (ds.SourceImageSequence as Array<{ ReferencedSOPInstanceUID: string }>).map((s) => s.ReferencedSOPInstanceUID);
    expect(sources).to.deep.equal([f.analysis.venous.keySopInstanceUID, f.analysis.arterial.keySopInstanceUID]);
    const pixels = new Uint8Array((ds.PixelData as ArrayBuffer[])[0]);
    expect(Buffer.from(pixels.subarray(0, image.rgb.length)).equals(Buffer.from(image.rgb))).to.equal(true);
  });

  it('reads back with pydicom: an RGB pixel array of the right shape and pixels, and the same header', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-sc-'));
    try {
      const file = path.join(dir, 'sc.dcm');
      writeFileSync(file, bytes);
      const panel = image.panels[0];
      const [c, r] = f.analysis.venous.tumourCentrePixel;
      const x = Math.round(panel.x + (c + 0.5) * panel.scaleX);
      const y = Math.round(panel.y + (r + 0.5) * panel.scaleY);
      const run = spawnSync('/usr/bin/python3', ['-c', PYDICOM_READ, file, String(x), String(y)], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      const py = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(py.shape).to.deep.equal([image.rows, image.columns, 3]);
      const i = 3 * (y * image.columns + x);
      expect(py.pixel).to.deep.equal([image.rgb[i], image.rgb[i + 1], image.rgb[i + 2]]);
      expect(py.imageType).to.deep.equal(['DERIVED', 'SECONDARY']);
      expect(py.burnedIn).to.equal('YES');
      expect(py.photometric).to.equal('RGB');
      expect(py.conversion).to.equal('WSD');
      expect(py.orientation).to.deep.equal(['L', 'P']);
      expect(py.study).to.equal(f.studyInstanceUID);
      expect(py.patient).to.equal('Wang^Li=王^力');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives Patient Orientation from the direction cosines (PS3.3 C.7.6.1.1.1)', () => {
    const rows: Array<[number[], [string, string] | undefined, string]> = [
      [[1, 0, 0, 0, 1, 0], ['L', 'P'], 'standard axial'],
      [[-1, 0, 0, 0, -1, 0], ['R', 'A'], 'axial rotated 180 degrees'],
      [[0, 1, 0, 0, 0, -1], ['P', 'F'], 'sagittal'],
      [[0.866, 0.5, 0, -0.5, 0.866, 0], ['LP', 'PR'], 'oblique: strongest axis first'],
      [[1, 0, 0], undefined, 'malformed'],
    ];
    for (const [iop, expected, why] of rows) expect(patientOrientation(iop), why).to.deep.equal(expected);
  });
});
