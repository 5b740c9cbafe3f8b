/**
 * The synthetic study's dates and times as DICOM DA and TM values (PS3.5 6.2), and the
 * zero-padded numbers of its names, IDs and file paths.
 */

/** The integer part of `value`, zero-padded to `width` digits. */
export function zeroPad(value: number, width: number): string {
  return String(Math.floor(value)).padStart(width, '0');
}

/** YYYYMMDD of a day counted from 1970-01-01. */
export function dicomDate(daysSinceEpoch: number): string {
  const date = new Date(daysSinceEpoch * 86400000);
  return `${date.getUTCFullYear()}${zeroPad(date.getUTCMonth() + 1, 2)}${zeroPad(date.getUTCDate(), 2)}`;
}

/** HHMMSS of a second of the day (clamped to the day). */
export function dicomTime(secondsOfDay: number): string {
  const seconds = Math.max(0, Math.min(86399, Math.floor(secondsOfDay)));
  return `${zeroPad(seconds / 3600, 2)}${zeroPad((seconds % 3600) / 60, 2)}${zeroPad(seconds % 60, 2)}`;
}
