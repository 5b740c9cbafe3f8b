import { SOP_CLASS, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readPart10Meta } from '../../../src/dicomweb/part10';
import { makeSimpleCtSeries } from '../../harness/simpleCtSeries';

describe('dicomweb/part10: File Meta Information without decoding the dataset', () => {
  it('reads class, instance and transfer syntax of a file we wrote', () => {
    const s = makeSimpleCtSeries({ seed: 'part10', slices: 1, rows: 8, columns: 8 });
    expect(readPart10Meta(s.instances[0].part10)).to.deep.equal({
      sopClassUID: SOP_CLASS.ctImageStorage,
      sopInstanceUID: s.instances[0].sopInstanceUID,
      transferSyntaxUID: TRANSFER_SYNTAX.explicitVrLittleEndian,
    });
  });

  it('reads a real scanner file (JPEG 2000 lossless)', () => {
    const meta = readPart10Meta(readFileSync(path.join(__dirname, '../../fixtures/realdata/pydicom-data/693_J2KR.dcm')));
    expect(meta?.transferSyntaxUID).to.equal('1.2.840.10008.1.2.4.90');
    expect(meta?.sopInstanceUID).to.match(/^[0-9.]+$/);
  });

  it('is undefined for what is not Part 10, and tolerates a truncated header', () => {
    expect(readPart10Meta(Buffer.from('not DICOM'))).to.equal(undefined);
    expect(readPart10Meta(Buffer.alloc(200))).to.equal(undefined);
    const s = makeSimpleCtSeries({ seed: 'part10', slices: 1, rows: 8, columns: 8 });
    expect(readPart10Meta(s.instances[0].part10.subarray(0, 150))).to.be.an('object');
  });
});
