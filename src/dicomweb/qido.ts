/**
 * QIDO-RS URLs (PS3.18 10.6 Search Transaction): /studies, /studies/{study}/series,
 * /studies/{study}[/series/{series}]/instances, with attribute matching and `includefield`.
 * Pure.
 *
 * Orthanc's DICOMweb plugin 1.7 does not URL-decode query values before matching: a
 * percent-encoded value matches nothing, and raw non-ASCII in the URL is refused with 400. So
 * values are sent literally where URL syntax allows (ASCII letters, digits, wildcards `*` `?`,
 * the `,` of UID lists, `-` of ranges, `.` `^` `_` `:`), and anything else is percent-encoded as
 * PS3.18 requires (a conformant server decodes it; Orthanc 1.7 then matches nothing). The node
 * selects series on the client from what QIDO returns and never filters descriptions here.
 * `includefield` values are joined with literal commas, which Orthanc 1.7 accepts.
 */
import { PermanentError } from '../errors';

/** A DICOM UID (PS3.5 9.1): digits and dots, at most 64 characters. Keeps paths unambiguous. */
export function assertUid(uid: string, what: string): string {
  if (!/^[0-9]+(\.[0-9]+)*$/.test(uid) || uid.length > 64) throw new PermanentError(`${what} is not a DICOM UID: "${uid.slice(0, 80)}"`);
  return uid;
}

const LITERAL = /^[A-Za-z0-9*?,\-._^:~]$/;

export function encodeQueryValue(value: string): string {
  let out = '';
  for (const ch of value) {
    out += LITERAL.test(ch) ? ch : Array.from(Buffer.from(ch, 'utf8'), (b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return out;
}

/** `?key=value&…&includefield=a,b`, or '' when there is nothing to send. */
export function qidoQueryString(query: Record<string, string> = {}, includeFields: string[] = []): string {
  const pairs = Object.entries(query).map(([key, value]) => `${encodeQueryValue(key)}=${encodeQueryValue(value)}`);
  if (includeFields.length > 0) pairs.push(`includefield=${includeFields.map(encodeQueryValue).join(',')}`);
  return pairs.length > 0 ? '?' + pairs.join('&') : '';
}

export function studiesPath(): string {
  return '/studies';
}

export function seriesPath(studyInstanceUID: string): string {
  return `/studies/${assertUid(studyInstanceUID, 'StudyInstanceUID')}/series`;
}

export function instancesPath(studyInstanceUID: string, seriesInstanceUID?: string): string {
  const study = `/studies/${assertUid(studyInstanceUID, 'StudyInstanceUID')}`;
  return seriesInstanceUID === undefined ? `${study}/instances` : `${study}/series/${assertUid(seriesInstanceUID, 'SeriesInstanceUID')}/instances`;
}
