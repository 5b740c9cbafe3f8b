/**
 * One value copied from a source object made valid for its Value Representation before it is
 * written (PS3.5 6.2, Table 6.2-1): decode tolerantly, encode strictly. A pure function of the VR
 * and the value (DICOM JSON form, PS3.18 F.2: strings, numbers, Person Name objects); it says what
 * it changed, never what the value was, so that callers can log it without PHI.
 *
 * The rules, by VR:
 * - Text (AE, LO, SH, UC, LT, ST, UT) and each Person Name component group (PN): control characters
 *   removed (LT, ST and UT keep TAB, LF, FF and CR); the backslash, which delimits values, replaced
 *   by a space where the VR can be multi-valued, and so is "=" inside a PN component group; then
 *   clipped to the VR's maximum length (AE 16, SH 16, LO 64, PN 64 per component group, ST 1024,
 *   LT 10240 characters). ESC is removed too: the results are written in UTF-8 (ISO_IR 192), which
 *   uses no ISO 2022 escape sequences, and the source's were decoded before the value got here.
 * - Coded values (CS, AS, DA, TM, DT, DS, IS, UI): control characters removed, leading and trailing
 *   spaces trimmed (they carry no meaning), CS upper-cased; then the value must have the VR's form
 *   (CS: A-Z, 0-9, space, underscore, 16 at most; AS nnnD/W/M/Y; DA a real YYYYMMDD date; TM
 *   HHMMSS.FFFFFF with hours 00-23, minutes 00-59, seconds 00-60; DT the same with a real date and
 *   an offset &ZZXX from -1200 to +1400; DS a decimal number; IS an integer from -2^31 to 2^31-1;
 *   UI digits and dots, 64 at most), or it is dropped. Clipping a code would make another code, so
 *   codes are never clipped. A DS or IS string longer than its VR allows (16 or 12 bytes) is written
 *   as the number it holds, which the codec formats within the limit.
 * - Binary numbers (US, SS, UL, SL): an integer in the VR's range, or dropped.
 * - Any other VR: left as it is.
 * An empty value (null, or an empty string) is valid for every VR and is left as it is.
 */

/** What was done to a value; a value can undergo several. */
export type VrValueChange =
  | 'control-characters-removed'
  | 'delimiter-replaced'
  | 'spaces-trimmed'
  | 'upper-cased'
  | 'clipped'
  | 'reformatted'
  | 'invalid-dropped';

export interface ValidVrValue {
  /** The value to write, or undefined when the value could not be made valid and was dropped. */
  value: unknown;
  changes: VrValueChange[];
}

interface TextRule {
  /** Characters (UTF-16 code units, so that the codec's own count agrees). */
  maxLength: number;
  /** LT, ST and UT keep the formatting control characters TAB, LF, FF and CR. */
  keepsFormatting: boolean;
  /** Multi-valued VRs delimit values with a backslash, so a value cannot hold one. */
  multiValued: boolean;
}

const TEXT_RULES: Record<string, TextRule> = {
  AE: { maxLength: 16, keepsFormatting: false, multiValued: true },
  SH: { maxLength: 16, keepsFormatting: false, multiValued: true },
  LO: { maxLength: 64, keepsFormatting: false, multiValued: true },
  UC: { maxLength: Number.MAX_SAFE_INTEGER, keepsFormatting: false, multiValued: true },
  ST: { maxLength: 1024, keepsFormatting: true, multiValued: false },
  LT: { maxLength: 10240, keepsFormatting: true, multiValued: false },
  UT: { maxLength: Number.MAX_SAFE_INTEGER, keepsFormatting: true, multiValued: false },
};

/** Maximum characters of one Person Name component group. */
const PN_GROUP_MAX_LENGTH = 64;
const PN_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

/* eslint-disable no-control-regex -- finding control characters is what these are for */
/** C0 controls, DEL and C1 controls (ISO 6429), and the same set less TAB, LF, FF and CR. */
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/g;
const CONTROL_CHARACTERS_BUT_FORMATTING = /[\u0000-\u0008\u000B\u000E-\u001F\u007F-\u009F]/g;
/* eslint-enable no-control-regex */

const INTEGER_RANGES: Record<string, [number, number]> = {
  US: [0, 65535],
  SS: [-32768, 32767],
  UL: [0, 4294967295],
  SL: [-2147483648, 2147483647],
};
const IS_RANGE: [number, number] = [-2147483648, 2147483647];
const DS_MAX_BYTES = 16;
const IS_MAX_BYTES = 12;

/** The value made valid for `vr`, with what was changed. */
export function validVrValue(vr: string, value: unknown): ValidVrValue {
  if (value === null || value === undefined || value === '') return { value, changes: [] };
  if (vr === 'PN') return validPersonName(value);
  if (TEXT_RULES[vr]) return typeof value === 'string' ? validText(value, TEXT_RULES[vr]) : unchanged(value);
  if (INTEGER_RANGES[vr]) return validBinaryInteger(value, INTEGER_RANGES[vr]);
  if (vr === 'DS' || vr === 'IS') return validNumberString(vr, value);
  if (CODED_VALUE_CHECKS[vr]) return typeof value === 'string' ? validCodedString(vr, value) : dropped([]);
  return unchanged(value);
}

const unchanged = (value: unknown): ValidVrValue => ({ value, changes: [] });
const dropped = (changes: VrValueChange[]): ValidVrValue => ({ value: undefined, changes: [...changes, 'invalid-dropped'] });

/** `text` without control characters (but the formatting ones when `keepsFormatting`). */
function withoutControlCharacters(text: string, keepsFormatting: boolean, changes: VrValueChange[]): string {
  const cleaned = text.replace(keepsFormatting ? CONTROL_CHARACTERS_BUT_FORMATTING : CONTROL_CHARACTERS, '');
  if (cleaned !== text) changes.push('control-characters-removed');
  return cleaned;
}

/** `text` with each of `delimiters` replaced by a space. */
function withoutDelimiters(text: string, delimiters: RegExp, changes: VrValueChange[]): string {
  const replaced = text.replace(delimiters, ' ');
  if (replaced !== text) changes.push('delimiter-replaced');
  return replaced;
}

/** At most `maxLength` UTF-16 code units, never splitting a surrogate pair. */
export function clipText(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let clipped = '';
  for (const character of text) {
    if (clipped.length + character.length > maxLength) break;
    clipped += character;
  }
  return clipped;
}

function clipped(text: string, maxLength: number, changes: VrValueChange[]): string {
  const result = clipText(text, maxLength);
  if (result !== text) changes.push('clipped');
  return result;
}

function validText(text: string, rule: TextRule): ValidVrValue {
  const changes: VrValueChange[] = [];
  let result = withoutControlCharacters(text, rule.keepsFormatting, changes);
  if (rule.multiValued) result = withoutDelimiters(result, /\\/g, changes);
  result = clipped(result, rule.maxLength, changes);
  return { value: result, changes };
}

/** One component group of a Person Name: no control character, no value or group delimiter, 64 at most. */
function validNameGroup(group: string, changes: VrValueChange[]): string {
  const cleaned = withoutControlCharacters(group, false, changes);
  return clipped(withoutDelimiters(cleaned, /[\\=]/g, changes), PN_GROUP_MAX_LENGTH, changes);
}

/** A Person Name as DICOM JSON gives it ({Alphabetic, Ideographic, Phonetic}), or as "=" delimited text. */
function validPersonName(value: unknown): ValidVrValue {
  const changes: VrValueChange[] = [];
  if (typeof value === 'string') {
    const groups = withoutControlCharacters(value, false, changes).split('=');
    const valid = groups.map((group) => clipped(withoutDelimiters(group, /\\/g, changes), PN_GROUP_MAX_LENGTH, changes));
    return { value: valid.join('='), changes: unique(changes) };
  }
  if (typeof value !== 'object') return dropped([]);
  const name = { ...(value as Record<string, unknown>) };
  for (const group of PN_GROUPS) {
    const text = name[group];
    if (typeof text === 'string') name[group] = validNameGroup(text, changes);
  }
  return changes.length === 0 ? unchanged(value) : { value: name, changes: unique(changes) };
}

function unique(changes: VrValueChange[]): VrValueChange[] {
  return [...new Set(changes)];
}

function validBinaryInteger(value: unknown, [min, max]: [number, number]): ValidVrValue {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? unchanged(value) : dropped([]);
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** DS and IS: JSON numbers (PS3.18 F.2.3) or, from lenient sources, strings. */
function validNumberString(vr: 'DS' | 'IS', value: unknown): ValidVrValue {
  const isInteger = vr === 'IS';
  const inRange = (n: number): boolean => Number.isFinite(n) && (!isInteger || (Number.isInteger(n) && n >= IS_RANGE[0] && n <= IS_RANGE[1]));
  if (typeof value === 'number') return inRange(value) ? unchanged(value) : dropped([]);
  if (typeof value !== 'string') return dropped([]);
  const changes: VrValueChange[] = [];
  const text = trimmed(withoutControlCharacters(value, false, changes), changes);
  if (!(isInteger ? INTEGER : DECIMAL).test(text) || !inRange(Number(text))) return dropped(changes);
  if (text.length <= (isInteger ? IS_MAX_BYTES : DS_MAX_BYTES)) return { value: text, changes };
  return { value: Number(text), changes: [...changes, 'reformatted'] };
}

function trimmed(text: string, changes: VrValueChange[]): string {
  const result = text.trim();
  if (result !== text) changes.push('spaces-trimmed');
  return result;
}

/** CS, AS, DA, TM, DT, UI: a string whose form the VR fixes. */
function validCodedString(vr: string, value: string): ValidVrValue {
  const changes: VrValueChange[] = [];
  let text = trimmed(withoutControlCharacters(value, false, changes), changes);
  if (vr === 'CS' && text !== text.toUpperCase()) {
    text = text.toUpperCase();
    changes.push('upper-cased');
  }
  return text === '' || CODED_VALUE_CHECKS[vr](text) ? { value: text, changes } : dropped(changes);
}

const twoDigits = (text: string | undefined): number => Number(text);

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate();
  const isLeapYear = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && !isLeapYear ? 28 : daysInMonth);
}

/** Hours 00-23, minutes 00-59, seconds 00-60 (a leap second), each optional from the right. */
function isRealTime(hours?: string, minutes?: string, seconds?: string): boolean {
  return (hours === undefined || twoDigits(hours) <= 23) && (minutes === undefined || twoDigits(minutes) <= 59) && (seconds === undefined || twoDigits(seconds) <= 60);
}

const DA_FORM = /^(\d{4})(\d{2})(\d{2})$/;
const TM_FORM = /^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,6})?)?)?$/;
const DT_FORM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.\d{1,6})?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;

function isValidDate(text: string): boolean {
  const parts = DA_FORM.exec(text);
  return parts !== null && isRealDate(Number(parts[1]), Number(parts[2]), Number(parts[3]));
}

function isValidTime(text: string): boolean {
  const parts = TM_FORM.exec(text);
  return parts !== null && isRealTime(parts[1], parts[2], parts[3]);
}

function isValidDateTime(text: string): boolean {
  const parts = DT_FORM.exec(text);
  if (parts === null || text.length > 26) return false;
  const [, year, month, day, hours, minutes, seconds, sign, offsetHours, offsetMinutes] = parts;
  if (month !== undefined && !isRealDate(Number(year), Number(month), day === undefined ? 1 : Number(day))) return false;
  if (!isRealTime(hours, minutes, seconds)) return false;
  if (sign === undefined) return true;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  return Number(offsetMinutes) <= 59 && offset >= -12 * 60 && offset <= 14 * 60;
}

const CODED_VALUE_CHECKS: Record<string, (text: string) => boolean> = {
  CS: (text) => /^[A-Z0-9 _]{1,16}$/.test(text),
  AS: (text) => /^\d{3}[DWMY]$/.test(text),
  DA: isValidDate,
  TM: isValidTime,
  DT: isValidDateTime,
  UI: (text) => /^[0-9.]{1,64}$/.test(text),
};
