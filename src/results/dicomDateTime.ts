/**
 * DA, TM and DT values (PS3.5 6.2) from the injected clock, always in UTC; objects carry
 * Timezone Offset From UTC "+0000" so that readers need not guess.
 */
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export const TIMEZONE_OFFSET_UTC = '+0000';

export function dicomDate(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

export function dicomTime(d: Date): string {
  return `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

export function dicomDateTime(d: Date): string {
  return `${dicomDate(d)}${dicomTime(d)}${TIMEZONE_OFFSET_UTC}`;
}

/** ISO 8601 date for text shown to people (e.g. "2025-03-01"). */
export function isoDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
