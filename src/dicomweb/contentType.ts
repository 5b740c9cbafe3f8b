/**
 * Media types with parameters (RFC 9110 8.3.1), as DICOMweb uses them:
 *   multipart/related; type="application/dicom"; boundary=abc      (PS3.18 8.6.1.2)
 *   application/dicom; transfer-syntax=1.2.840.10008.1.2.1          (PS3.18 8.7.3.5.2)
 * Pure functions; parameter names are case-insensitive, values may be quoted strings.
 */
export interface MediaType {
  /** Lower-case type/subtype, e.g. `multipart/related`. */
  type: string;
  /** Parameter names in lower case; values unquoted and unescaped. */
  params: Record<string, string>;
}

export function parseMediaType(value: string): MediaType {
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params: Record<string, string> = {};
  let i = semicolon < 0 ? value.length : semicolon + 1;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ';')) i++;
    const eq = value.indexOf('=', i);
    if (eq < 0) break;
    const name = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let paramValue = '';
    if (value[i] === '"') {
      // quoted-string: backslash escapes the next character (RFC 9110 5.6.4)
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        paramValue += value[i];
        i++;
      }
      i++; // closing quote
      const next = value.indexOf(';', i);
      i = next < 0 ? value.length : next + 1;
    } else {
      const next = value.indexOf(';', i);
      paramValue = (next < 0 ? value.slice(i) : value.slice(i, next)).trim();
      i = next < 0 ? value.length : next + 1;
    }
    if (name !== '') params[name] = paramValue;
  }
  return { type, params };
}

/** A parameter value, quoted when it holds characters outside an RFC 9110 token. */
export function formatParam(name: string, value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? `${name}=${value}` : `${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
}
