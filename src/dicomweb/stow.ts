/**
 * STOW-RS (PS3.18 10.5 Store Transaction): the request body and the reading of the response.
 * Pure; client.ts sends it.
 *
 * The response is a DICOM JSON dataset (PS3.18 10.5.3) with ReferencedSOPSequence (0008,1199)
 * for stored instances, FailedSOPSequence (0008,1198) for refused ones, each item with
 * ReferencedSOPClassUID (0008,1150), ReferencedSOPInstanceUID (0008,1155) and a FailureReason
 * (0008,1197) or WarningReason (0008,1196). Orthanc always sends FailedSOPSequence, often
 * empty, so its items are what count, not its presence.
 */
import { randomUUID } from 'node:crypto';
import { TAG } from '../dicom/dictionary';
import type { DicomJson } from './dicomJson';
import { jsonNumber, jsonSequence, jsonString } from './dicomJson';
import type { StowFailed, StowReferenced, StowResult } from './types';

/** Meanings of common status codes (PS3.4 Annex B.2.3 and PS3.18 10.5.3), for messages. */
const REASONS: Record<number, string> = {
  0x0110: 'processing failure',
  0x0122: 'SOP class not supported',
  0x0124: 'not authorized',
  0xa700: 'out of resources',
  0xa900: 'data set does not match SOP class',
  0xc000: 'cannot understand',
  0xc122: 'transfer syntax not supported',
  0xb000: 'coercion of data elements',
  0xb006: 'elements discarded',
  0xb007: 'data set does not match SOP class',
};

export function describeStatusCode(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(4, '0') + 'H';
  const meaning = REASONS[code];
  return meaning ? `${hex} ${meaning}` : hex;
}

export interface StowBody {
  contentType: string;
  /** Framing and objects in order, to be written one after the other. */
  chunks: Uint8Array[];
}

/** multipart/related; type="application/dicom" with one part per Part 10 object (PS3.18 8.6.1.2). */
export function stowRequestBody(objects: Uint8Array[], boundary = `tsr-node-${randomUUID()}`): StowBody {
  const chunks: Uint8Array[] = [];
  const partHead = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
  objects.forEach((object, i) => {
    chunks.push(i === 0 ? partHead : Buffer.concat([Buffer.from('\r\n'), partHead]));
    chunks.push(object);
  });
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return { contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`, chunks };
}

/** The parts of a STOW-RS response dataset that matter; `response` may be empty (no body). */
export function parseStowResponse(httpStatus: number, response: DicomJson | undefined): StowResult {
  const dataset = response ?? {};
  const referenced: StowReferenced[] = jsonSequence(dataset, TAG.referencedSopSequence).map((item) => ({
    sopClassUID: jsonString(item, TAG.referencedSopClassUID),
    sopInstanceUID: jsonString(item, TAG.referencedSopInstanceUID),
    retrieveURL: jsonString(item, TAG.retrieveURL),
    warningReason: jsonNumber(item, TAG.warningReason),
  }));
  const failed: StowFailed[] = jsonSequence(dataset, TAG.failedSopSequence).map((item) => ({
    sopClassUID: jsonString(item, TAG.referencedSopClassUID),
    sopInstanceUID: jsonString(item, TAG.referencedSopInstanceUID),
    failureReason: jsonNumber(item, TAG.failureReason),
  }));
  return { httpStatus, referenced, failed, warningReason: jsonNumber(dataset, TAG.warningReason) };
}

/**
 * Why a store did not fully succeed, or undefined when every sent instance is referenced and
 * none failed. A partial success is a failure: the results in the PACS would be incomplete.
 */
export function stowProblem(result: StowResult, sentSopInstanceUIDs: Array<string | undefined>): string | undefined {
  const problems: string[] = [];
  for (const f of result.failed) {
    problems.push(`${f.sopInstanceUID ?? '(unknown instance)'} failed: ${f.failureReason === undefined ? 'no reason given' : describeStatusCode(f.failureReason)}`);
  }
  const stored = new Set(result.referenced.map((r) => r.sopInstanceUID));
  const known = sentSopInstanceUIDs.filter((uid): uid is string => uid !== undefined);
  const missing = known.filter((uid) => !stored.has(uid) && !result.failed.some((f) => f.sopInstanceUID === uid));
  if (missing.length > 0) {
    problems.push(`${missing.length} instance(s) neither stored nor reported failed: ${missing.slice(0, 3).join(', ')}`);
  } else if (result.referenced.length + result.failed.length < sentSopInstanceUIDs.length) {
    // Orthanc drops a part that is not DICOM at all without listing it.
    problems.push(`sent ${sentSopInstanceUIDs.length} object(s), ${result.referenced.length} stored`);
  }
  if (problems.length === 0 && (result.httpStatus < 200 || result.httpStatus >= 300)) problems.push(`HTTP ${result.httpStatus}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}
