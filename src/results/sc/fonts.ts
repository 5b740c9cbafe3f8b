/**
 * Fonts for text burned into result images, drawn by Skia (@napi-rs/canvas): DejaVu Sans from
 * Debian's fonts-dejavu-core, and Noto Sans CJK (fonts-noto-cjk) as the fallback for model names or
 * labels in Chinese, Japanese or Korean. Registered once per process.
 */
import { existsSync } from 'node:fs';
import { GlobalFonts } from '@napi-rs/canvas';

export const FONT_FILES = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  cjk: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
} as const;

const FAMILY = 'TSR Sans';
const CJK_FAMILY = 'TSR CJK';

let registered = false;

/** Registers the fonts and returns the CSS font-family list to use. Throws if DejaVu is missing. */
export function registerResultFonts(): string {
  if (!registered) {
    for (const file of [FONT_FILES.regular, FONT_FILES.bold]) {
      if (!existsSync(file)) throw new Error(`font missing: ${file} (apt-get install -y fonts-dejavu-core)`);
      GlobalFonts.registerFromPath(file, FAMILY);
    }
    // The CJK fallback is optional: without it CJK text shows as boxes, Latin text is unaffected.
    if (existsSync(FONT_FILES.cjk)) GlobalFonts.registerFromPath(FONT_FILES.cjk, CJK_FAMILY);
    registered = true;
  }
  return `"${FAMILY}", "${CJK_FAMILY}"`;
}
