/**
 * Deterministic UIDs for synthetic objects: "2.25." followed by the decimal value of the first
 * 128 bits of a SHA-256 of a text (PS3.5 B.2, UUID-derived UIDs), at most 44 characters. The text
 * names the seed and the object, so the same seed always gives the same UIDs and no two objects
 * share one.
 */
import { createHash } from 'node:crypto';

export function syntheticUid(...parts: Array<string | number>): string {
  const digest = createHash('sha256').update(`tsr-node/synthetic/${parts.join('/')}`).digest();
  const value = BigInt('0x' + digest.subarray(0, 16).toString('hex'));
  return '2.25.' + value.toString(10);
}
