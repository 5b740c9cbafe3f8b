/**
 * The content fingerprint of a study: a SHA-256 over its sorted, de-duplicated SOP Instance
 * UIDs. A study that becomes stable again with the same instances has the same fingerprint and
 * is recognised; one that gained (or lost) series or instances has a new one and is new work.
 * The same value comes out whether the UIDs were read from Orthanc's REST API or from QIDO-RS.
 */
import { createHash } from 'node:crypto';

export function studyContentFingerprint(sopInstanceUIDs: readonly string[]): string {
  const unique = [...new Set(sopInstanceUIDs.map((u) => u.trim()).filter((u) => u !== ''))].sort();
  const hash = createHash('sha256');
  for (const uid of unique) hash.update(uid + '\n');
  return `sha256:${unique.length}:${hash.digest('hex')}`;
}
