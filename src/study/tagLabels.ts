/**
 * How a refusal names a DICOM attribute: its PS3.6 keyword and its tag, e.g. "Rows (0028,0010)",
 * from the dictionary's tags (src/dicom/dictionary.ts).
 */

/** "Rows (0028,0010)" from the keyword and the tag in the dictionary's form ("00280010"). */
export function attributeLabel(keyword: string, tag: string): string {
  return `${keyword} (${tag.slice(0, 4)},${tag.slice(4)})`;
}
