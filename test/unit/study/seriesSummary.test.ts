import { expect } from 'chai';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { parseDicomTime, summarizeSeries } from '../../../src/study/seriesSummary';

describe('study/seriesSummary', () => {
  const times: [string | undefined, number | undefined, string][] = [
    ['101530', 10 * 3600 + 15 * 60 + 30, 'HHMMSS'],
    ['101530.25', 10 * 3600 + 15 * 60 + 30.25, 'with fraction'],
    ['1015', 10 * 3600 + 15 * 60, 'HHMM'],
    ['10', 10 * 3600, 'HH'],
    ['10:15:30', 10 * 3600 + 15 * 60 + 30, 'the old colon form (ACR-NEMA)'],
    ['251530', undefined, 'hour out of range'],
    ['noon', undefined, 'not a time'],
    [undefined, undefined, 'absent'],
  ];
  for (const [tm, seconds, why] of times) {
    it(`parseDicomTime ${JSON.stringify(tm)}: ${why}`, () => {
      expect(parseDicomTime(tm)).to.equal(seconds);
    });
  }

  const qido: DicomJson = {
    '0020000D': { vr: 'UI', Value: ['1.2.3'] },
    '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
    '00080060': { vr: 'CS', Value: ['CT'] },
    '0008103E': { vr: 'LO', Value: ['Venous 70s'] },
    '00200011': { vr: 'IS', Value: [3] },
    '00201209': { vr: 'IS', Value: [2] },
    '00180015': { vr: 'CS', Value: ['abdomen'] },
  };
  const instance = (n: number, acq: string): DicomJson => ({
    ...qido,
    '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
    '00080018': { vr: 'UI', Value: [`1.2.3.4.${n}`] },
    '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] },
    '00080032': { vr: 'TM', Value: [acq] },
    '00181042': { vr: 'TM', Value: ['101500'] },
    '00180012': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['C-B0322'] }, '00080104': { vr: 'LO', Value: ['Iohexol'] } }] },
    '00200032': { vr: 'DS', Value: [-100, -100, n * 1.25] },
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '00200052': { vr: 'UI', Value: ['1.2.3.9'] },
    '00180050': { vr: 'DS', Value: [1.25] },
    '00280030': { vr: 'DS', Value: [0.7, 0.7] },
    '00280010': { vr: 'US', Value: [512] },
    '00280011': { vr: 'US', Value: [512] },
    '00181210': { vr: 'SH', Value: ['B30f'] },
  });

  it('summarises QIDO + metadata: geometry, contrast, earliest acquisition time', () => {
    const s = summarizeSeries(qido, [instance(1, '101611.5'), instance(2, '101610')]);
    expect(s.seriesDescription).to.equal('Venous 70s');
    expect(s.seriesNumber).to.equal(3);
    expect(s.bodyPartExamined).to.equal('ABDOMEN');
    expect(s.instanceCount).to.equal(2);
    expect(s.imageTypes).to.deep.equal([['ORIGINAL', 'PRIMARY', 'AXIAL']]);
    expect(s.orientations).to.deep.equal([[1, 0, 0, 0, 1, 0]]);
    expect(s.sliceThicknesses).to.deep.equal([1.25]);
    expect(s.pixelSpacings).to.deep.equal([[0.7, 0.7]]);
    expect(s.imageSizes).to.deep.equal([{ rows: 512, columns: 512 }]);
    expect(s.frameOfReferenceUIDs).to.deep.equal(['1.2.3.9']);
    expect(s.contrast.agentCodes).to.deep.equal(['Iohexol']);
    expect(s.contrast.startSeconds).to.equal(10 * 3600 + 15 * 60);
    // The acquisition began with its earliest slice: 70 s after the bolus.
    expect(s.acquisitionSeconds! - s.contrast.startSeconds!).to.equal(70);
    expect(s.convolutionKernels).to.deep.equal(['B30f']);
    expect(s.instances.map((i) => i.sopInstanceUID)).to.deep.equal(['1.2.3.4.1', '1.2.3.4.2']);
    expect(s.hasMetadata).to.equal(true);
  });

  it('summarises a series from QIDO alone (no metadata read): count from NumberOfSeriesRelatedInstances', () => {
    const s = summarizeSeries({ ...qido, '00080060': { vr: 'CS', Value: ['SR'] }, '0008103E': { vr: 'LO' } });
    expect(s.modality).to.equal('SR');
    expect(s.seriesDescription).to.equal('');
    expect(s.instanceCount).to.equal(2);
    expect(s.instances).to.deep.equal([]);
    expect(s.hasMetadata).to.equal(false);
  });
});
