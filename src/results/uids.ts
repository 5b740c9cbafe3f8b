/**
 * Result identity (docs/decisions: "Result identity"): the UIDs of the SR, the SC and the SEG are derived
 * from the StudyInstanceUID, the selected input instances and the models' sha256, so that the same
 * input analysed by the same model always gives the same UIDs (a re-run adds nothing new to the
 * PACS), and new input or a new model gives new ones.
 *
 * Form: "2.25." + the decimal value of a UUID (PS3.5 B.2). The UUID is name-based: the first 128
 * bits of a SHA-256 over the inputs, with the version set to 8 and the RFC 9562 variant bits, as
 * RFC 9562 section 5.8 describes for hash-based UUIDs other than MD5/SHA-1.
 */
import { createHash } from 'node:crypto';

export interface ResultIdentityInput {
  studyInstanceUID: string;
  /** Every source instance that went into the analysis (both phases); order does not matter. */
  inputSopInstanceUIDs: readonly string[];
  /** sha256 (hex) of each model used (classifier, localiser); order does not matter. */
  modelSha256s: readonly string[];
}

export interface ResultIdentity {
  /** Hex digest over the inputs: the same for the same input and models. */
  key: string;
  srSeriesInstanceUID: string;
  srSopInstanceUID: string;
  scSeriesInstanceUID: string;
  scSopInstanceUID: string;
  segSeriesInstanceUID: string;
  segSopInstanceUID: string;
  /** Dimension Organization UID of the SEG's Multi-frame Dimension module. */
  segDimensionOrganizationUID: string;
  /** Tracking Unique Identifier (112040) of the TID 1501 measurement group. */
  trackingUID: string;
}

/** A 2.25 UID from a UUID version 8 built from SHA-256(text). At most 44 characters. */
export function uuidDerivedUid(text: string): string {
  const bytes = createHash('sha256').update(text, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10xx
  return '2.25.' + BigInt('0x' + bytes.toString('hex')).toString(10);
}

export function resultIdentity(input: ResultIdentityInput): ResultIdentity {
  if (!/^[0-9.]{1,64}$/.test(input.studyInstanceUID)) {
    throw new TypeError(`studyInstanceUID: not a UID: ${JSON.stringify(input.studyInstanceUID)}`);
  }
  if (input.inputSopInstanceUIDs.length === 0) throw new TypeError('inputSopInstanceUIDs: at least one source instance is needed');
  if (input.modelSha256s.length === 0 || input.modelSha256s.some((h) => !/^[0-9a-f]{64}$/i.test(h))) {
    throw new TypeError('modelSha256s: one or more sha256 hex digests are needed');
  }
  const inputs = [...new Set(input.inputSopInstanceUIDs)].sort();
  const models = [...new Set(input.modelSha256s.map((h) => h.toLowerCase()))].sort();
  const key = createHash('sha256')
    .update(['tsr-node/result/v1', input.studyInstanceUID, inputs.join('\\'), models.join('\\')].join('\n'))
    .digest('hex');
  const uid = (role: string): string => uuidDerivedUid(`${key}/${role}`);
  return {
    key,
    srSeriesInstanceUID: uid('sr-series'),
    srSopInstanceUID: uid('sr-instance'),
    scSeriesInstanceUID: uid('sc-series'),
    scSopInstanceUID: uid('sc-instance'),
    segSeriesInstanceUID: uid('seg-series'),
    segSopInstanceUID: uid('seg-instance'),
    segDimensionOrganizationUID: uid('seg-dimension-organization'),
    trackingUID: uid('tracking'),
  };
}
