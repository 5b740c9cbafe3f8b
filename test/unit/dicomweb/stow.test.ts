import { expect } from 'chai';
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { MultipartParser, boundaryFromContentType } from '../../../src/dicomweb/multipart';
import { describeStatusCode, parseStowResponse, stowProblem, stowRequestBody } from '../../../src/dicomweb/stow';

const ref = (sop: string, warning?: number): DicomJson => ({
  '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.88.33'] },
  '00081155': { vr: 'UI', Value: [sop] },
  ...(warning !== undefined ? { '00081196': { vr: 'US', Value: [warning] } } : {}),
});
const failed = (sop: string, reason: number): DicomJson => ({
  '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] },
  '00081155': { vr: 'UI', Value: [sop] },
  '00081197': { vr: 'US', Value: [reason] },
});

describe('dicomweb/stow: STOW-RS request body and response', () => {
  it('frames every object as one application/dicom part that the multipart parser reads back', () => {
    const objects = [Buffer.from('first object'), Buffer.from('second\r\n--object')];
    const body = stowRequestBody(objects, 'fixed-boundary');
    const parser = new MultipartParser(boundaryFromContentType(body.contentType));
    const parts = body.chunks.flatMap((c) => parser.push(Buffer.from(c)));
    parser.end();
    expect(parts.map((p) => p.body.toString())).to.deep.equal(['first object', 'second\r\n--object']);
    expect(parts.every((p) => p.headers['content-type'] === 'application/dicom')).to.equal(true);
  });

  // Each row: response, instances sent, the problem expected (undefined = success), why.
  const rows: Array<[number, DicomJson | undefined, string[], RegExp | undefined, string]> = [
    [200, { '00081198': { vr: 'SQ' }, '00081199': { vr: 'SQ', Value: [ref('1.1'), ref('1.2')] } }, ['1.1', '1.2'], undefined, 'all stored; an empty FailedSOPSequence (Orthanc always sends it) is no failure'],
    [202, { '00081199': { vr: 'SQ', Value: [ref('1.1', 0xb000)] } }, ['1.1'], undefined, 'stored with a coercion warning is stored'],
    [409, { '00081198': { vr: 'SQ', Value: [failed('1.2', 0xa900)] }, '00081199': { vr: 'SQ', Value: [ref('1.1')] } }, ['1.1', '1.2'], /1\.2 failed: A900H data set does not match SOP class/, 'partial failure is a failure, with its reason'],
    [400, { '00081198': { vr: 'SQ' }, '00081199': { vr: 'SQ', Value: [ref('1.1')] } }, ['1.1', '1.2'], /neither stored nor reported failed: 1\.2/, 'an instance the server silently dropped'],
    [200, { '00081199': { vr: 'SQ', Value: [ref('1.1')] } }, ['1.1', 'x'].map((u) => (u === 'x' ? (undefined as unknown as string) : u)), /sent 2 object\(s\), 1 stored/, 'a non-DICOM object (no UID known) that was dropped'],
    [400, undefined, ['1.1'], /neither stored/, 'no response body at all'],
    [400, { '00081199': { vr: 'SQ', Value: [ref('1.1')] } }, ['1.1'], /HTTP 400/, 'everything referenced but the status says otherwise'],
  ];
  for (const [status, response, sent, problem, why] of rows) {
    it(why, () => {
      const result = parseStowResponse(status, response);
      const found = stowProblem(result, sent);
      if (problem === undefined) expect(found).to.equal(undefined);
      else expect(found).to.match(problem);
    });
  }

  it('keeps warning reasons and retrieve URLs of referenced instances', () => {
    const result = parseStowResponse(202, {
      '00081196': { vr: 'US', Value: [0xb006] },
      '00081199': { vr: 'SQ', Value: [{ ...ref('1.1', 0xb007), '00081190': { vr: 'UR', Value: ['http://pacs/x'] } }] },
    });
    expect(result.warningReason).to.equal(0xb006);
    expect(result.referenced).to.deep.equal([{ sopClassUID: '1.2.840.10008.5.1.4.1.1.88.33', sopInstanceUID: '1.1', retrieveURL: 'http://pacs/x', warningReason: 0xb007 }]);
    expect(describeStatusCode(0xc122)).to.equal('C122H transfer syntax not supported');
    expect(describeStatusCode(0xfe00)).to.equal('FE00H');
  });
});
