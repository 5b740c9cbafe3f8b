/**
 * Test helper: a DICOMweb client over one synthetic study held in memory, so the node's own
 * discovery, phase selection (with image evidence) and volume assembly run on generated studies
 * without an Orthanc. QIDO-RS series and WADO-RS metadata come from the files' headers (DICOM
 * JSON, as Orthanc returns them); WADO-RS of an instance returns its bytes.
 */
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import type { DicomWebClient, RetrievedPart } from '../../../src/dicomweb/types';
import type { SyntheticStudy } from '../../../src/synthetic';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: { untilTag?: string }): { dict: DicomJson; meta: DicomJson } } };
};
/* eslint-enable @typescript-eslint/no-require-imports */

function header(bytes: Uint8Array): DicomJson {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const { dict, meta } = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: '7FE00010' });
  const transferSyntax = meta['00020010'];
  return transferSyntax ? { ...dict, '00020010': transferSyntax } : dict;
}

export function memoryStudyClient(study: SyntheticStudy): DicomWebClient {
  const headers = new Map(study.files.map((file) => [file.sopInstanceUID, header(file.bytes)]));
  const ofSeries = (seriesInstanceUID: string): DicomJson[] => study.files.filter((file) => file.seriesInstanceUID === seriesInstanceUID).map((file) => headers.get(file.sopInstanceUID)!);
  const unsupported = (): Promise<never> => Promise.reject(new Error('not supported by the in-memory test client'));
  return {
    searchStudies: unsupported,
    searchInstances: unsupported,
    retrieveSeries: unsupported,
    store: unsupported,
    searchSeries: () => Promise.resolve([...new Set(study.files.map((file) => file.seriesInstanceUID))].map((uid) => ofSeries(uid)[0])),
    retrieveSeriesMetadata: (_study, seriesInstanceUID) => Promise.resolve(ofSeries(seriesInstanceUID)),
    retrieveInstance: (_study, _series, sopInstanceUID): Promise<RetrievedPart> => {
      const file = study.files.find((candidate) => candidate.sopInstanceUID === sopInstanceUID);
      return file ? Promise.resolve({ contentType: 'application/dicom', body: Buffer.from(file.bytes) }) : Promise.reject(new Error(`no instance ${sopInstanceUID}`));
    },
  };
}
