/**
 * Series descriptions as real PACS hold them: by site, vendor and language, sometimes blank
 * (PHANTOM.md, "Acquisition, timing and naming"). Metadata alone is unreliable, so the node must
 * not trust these; the generator makes sure it cannot.
 */
import type { SeededRandom } from './random';

export type SeriesRole = 'arterial' | 'venous' | 'non-contrast' | 'delayed' | 'localizer' | 'arterial-thick' | 'venous-thick' | 'dose-report';

export const SERIES_ROLES: readonly SeriesRole[] = ['arterial', 'venous', 'non-contrast', 'delayed', 'localizer', 'arterial-thick', 'venous-thick', 'dose-report'];

export type NamingStyle = 'random' | 'english' | 'blank';

interface NameSets {
  english: string[];
  other: string[];
}

/** Vendor-style names that say nothing about the phase (kernel and thickness only). */
const VENDOR_THIN = ['Abdomen 1.0 B30f', 'Body 1.0 Br40', '1.25mm STND', 'iDose 1mm B', 'AIDR 1.0 FC08', 'Recon 2: 1mm'];
const VENDOR_THICK = ['Abdomen 5.0 B30f', '5mm', '5.0 Br40', '5mm STND', 'Recon 3: 5mm'];

const NAMES: Record<SeriesRole, NameSets> = {
  arterial: {
    english: ['ART', 'Arterial', 'Late arterial', 'Pancreatic phase', 'Arterial 40s', 'Pancreas arterial 1.0', 'AP 1mm'],
    other: ['arteriell', 'Pankreasphase', '动脉期', '胰腺期', '动脉期 1mm', '動脈相', '膵実質相', ...VENDOR_THIN],
  },
  venous: {
    english: ['PV', 'Portal venous', 'Venous 70s', 'Portal', 'PVP 1mm', 'Venous phase'],
    other: ['portalvenös', 'venös', '门脉期', '门静脉期', '静脉期', '門脈相', '門脈相 1mm', ...VENDOR_THIN],
  },
  'non-contrast': {
    english: ['Non contrast', 'Plain', 'NC', 'Unenhanced', 'Pre contrast 5mm'],
    other: ['nativ', '平扫', '単純', '非造影', ...VENDOR_THICK],
  },
  delayed: {
    english: ['Delayed', 'Delayed 3 min', 'Equilibrium', 'Late'],
    other: ['spät', 'Spätphase', '延迟期', '平衡期', '平衡相', '遅延相', ...VENDOR_THICK],
  },
  localizer: {
    english: ['Scout', 'SCOUT', 'Localizer', 'Topogram'],
    other: ['Topogram 0.6 T20f', '定位像', 'スカウト'],
  },
  'arterial-thick': {
    english: ['ART 5mm', 'Arterial 5.0', 'Pancreatic phase 5mm'],
    other: ['arteriell 5mm', '动脉期 5mm', '動脈相 5mm', ...VENDOR_THICK],
  },
  'venous-thick': {
    english: ['PV 5mm', 'Portal venous 5.0', 'Venous 5mm'],
    other: ['portalvenös 5mm', '门脉期 5mm', '門脈相 5mm', ...VENDOR_THICK],
  },
  'dose-report': {
    english: ['Dose Report', 'Radiation Dose Information', 'Dose Info'],
    other: ['剂量报告', '線量情報'],
  },
};

/** A description for the role: english-only, blank, or the whole multilingual set (blank ~12%). */
export function seriesDescription(rng: SeededRandom, role: SeriesRole, style: NamingStyle): string {
  const sets = NAMES[role];
  if (style === 'blank') return '';
  if (style === 'english') return rng.pick(sets.english);
  if (rng.bool(0.12)) return '';
  return rng.bool(0.45) ? rng.pick(sets.english) : rng.pick(sets.other);
}

/** Every description the generator can write for a role (for tests and docs). */
export function allDescriptions(role: SeriesRole): string[] {
  return [...NAMES[role].english, ...NAMES[role].other, ''];
}

export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return false;
  return true;
}
