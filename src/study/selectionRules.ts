/**
 * Phase-selection rules: the `selection` section of the configuration. Every field has a default;
 * docs/phase-selection.md explains each rule and how to change it.
 *
 * Description patterns are regular expressions (JavaScript syntax), matched case-insensitively
 * against SeriesDescription with the `u` flag. A configured list replaces the default list.
 * Latin abbreviations are bounded by "no letter before or after" rather than `\b`, because `\b`
 * treats digits and `_` as word characters: `ART_1.0` must match ART, `ARTEFACT` must not, and
 * `PV` must not match inside `PVE`. CJK terms need no boundaries.
 */
import { z } from 'zod';

/** A letter-bounded term: no Latin letter directly before or after. */
function word(term: string): string {
  return `(?<![a-z])(?:${term})(?![a-z])`;
}

export const DEFAULT_PATTERNS = {
  /** Pancreatic / (late) arterial phase. */
  arterial: [
    // AP = arterial phase on many Asian sites; a topogram called AP is caught as a localizer first.
    word('art|ap|cta|angio'),
    // arterial, arteriell(e), arteriale, also inside compounds such as "Arterialphase".
    'arteri(?:al|ell|el|ale)',
    word('pancreatic[\\s_-]*(?:phase|parenchymal)|pankreasphase'),
    '动脉期',
    '动脉相',
    '動脈相',
    '動脈期',
    '动脉',
    '動脈',
    '胰腺期',
    '膵実質相',
    '膵相',
    '동맥기',
  ],
  /** Terms that mark the arterial series to prefer when several qualify (a preference point). */
  pancreatic: [word('pancreatic[\\s_-]*(?:phase|parenchymal)|pankreasphase|late[\\s_-]*art(?:erial)?|sp[aä]t[\\s_-]*arteriell'), '胰腺期', '膵実質相', '膵相'],
  /** Portal-venous phase. */
  venous: [
    word('pv|pvp|vp|ven|portal|pfortader'),
    'portal[\\s_-]*ven',
    // venous, venös, venoes, venosa; not "intravenous".
    '(?<!intra)ven(?:ous|[oö]s|oes|osa|osus)',
    '门脉期',
    '门静脉期',
    '门静脉',
    '静脉期',
    '門脈相',
    '門脈期',
    '門脈',
    '静脈相',
    '문맥기',
  ],
  /** Delayed / equilibrium / excretory phases: never the portal-venous series. */
  delayed: [
    word('delay|delayed|equilibrium|excretory|urographic|nephrographic|spaetphase|spätphase|verz[oö]gert'),
    // "late" / "spät" on their own, but "late arterial" / "spät arteriell" is the pancreatic phase.
    `${word('late|sp[aä]t|spaet')}(?![\\s_-]*art)`,
    // "3 min", "10min": minutes after injection.
    '(?<![0-9.])(?:[2-9]|[1-9][0-9])[\\s_-]*min(?![a-z])',
    '延迟期',
    '延迟',
    '延遲',
    '平衡期',
    '排泄期',
    '遅延相',
    '平衡相',
  ],
  /** Non-contrast series. */
  nonContrast: [
    word('nc|non[\\s_-]*contrast|non[\\s_-]*enhanced|unenhanced|without[\\s_-]*contrast|pre[\\s_-]*contrast|plain|ncct|nativ|native|ohne[\\s_-]*km'),
    '(?<![a-z])w/o(?![a-z])',
    '平扫',
    '平掃',
    '単純',
    '非造影',
    '비조영',
  ],
  /** Scout / localizer images. */
  localizer: [word('localizer|localiser|locator|scout|topogram|topo|surview|scanogram|pilot|survey'), '定位', '位置決め', 'スカウト', 'スキャノグラム'],
  /** Reformats and projections: not the axial source series. */
  reformat: [
    word('mip|minip|mpr|mprs|vrt|vr|volume[\\s_-]*rendering|3d|curved|reformat|reformatted'),
    word('cor|coronal|koronar|sag|sagittal|sagittale|obl|oblique'),
    '冠状',
    '矢状',
  ],
  /** Dose reports and screen captures sometimes stored as CT. */
  doseReport: [
    word('dose[\\s_-]*(?:report|info|information|summary)|patient[\\s_-]*protocol|exam[\\s_-]*summary|screen[\\s_-]*save|screenshot'),
    '剂量报告',
    '剂量',
    '線量情報',
    '線量',
  ],
};

const patternList = z.array(
  z.string().refine(
    (source) => {
      try {
        new RegExp(source, 'iu');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  ),
);

const seconds = z.number().min(0).max(3600);
const window = z.tuple([seconds, seconds]).refine(([a, b]) => a < b, { message: 'window start must be before its end' });

export const selectionRulesSchema = z
  .object({
    /** Series-description patterns, per role (see DEFAULT_PATTERNS). */
    patterns: z
      .object({
        arterial: patternList.default(DEFAULT_PATTERNS.arterial),
        pancreatic: patternList.default(DEFAULT_PATTERNS.pancreatic),
        venous: patternList.default(DEFAULT_PATTERNS.venous),
        delayed: patternList.default(DEFAULT_PATTERNS.delayed),
        nonContrast: patternList.default(DEFAULT_PATTERNS.nonContrast),
        localizer: patternList.default(DEFAULT_PATTERNS.localizer),
        reformat: patternList.default(DEFAULT_PATTERNS.reformat),
        doseReport: patternList.default(DEFAULT_PATTERNS.doseReport),
      })
      .strict()
      .prefault({}),
    /**
     * Delay after ContrastBolusStartTime (to the series' first AcquisitionTime, else SeriesTime),
     * in seconds. Pancreatic protocols scan the pancreatic phase at 35-50 s and the portal-venous
     * phase at 65-75 s (docs/phase-selection.md); the windows are wider to allow for bolus tracking.
     */
    timing: z
      .object({
        arterialSeconds: window.default([20, 55]),
        venousSeconds: window.default([56, 100]),
        /** From this delay on, a series is a delayed phase. */
        delayedFromSeconds: seconds.default(120),
        /** Inside the arterial window, the core pancreatic phase earns a preference point. */
        pancreaticCoreSeconds: window.default([35, 50]),
        venousCoreSeconds: window.default([65, 75]),
        /** Two series whose first AcquisitionTimes are this close are one acquisition (thick and thin recons). */
        sameAcquisitionSeconds: seconds.default(5),
        /**
         * Without ContrastBolusStartTime, two contrast acquisitions this far apart (min, max) are
         * ordered: the earlier is arterial, the later portal venous.
         */
        relativeGapSeconds: window.default([15, 75]),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Fewer instances than this is not a volume. */
        minSlices: z.number().int().min(2).default(20),
        /** Thicker reconstructions are refused. */
        maxSliceThicknessMm: z.number().positive().default(5),
        /** Largest angle between the slice normal and the patient's head-foot axis, in degrees. */
        maxObliqueDegrees: z.number().min(0).max(45).default(30),
        /** BodyPartExamined values (PS3.16 CID 4031 terms, upper case) that cannot show the pancreas. */
        excludedBodyParts: z
          .array(z.string())
          .default(['HEAD', 'BRAIN', 'SKULL', 'NECK', 'HEADNECK', 'CSPINE', 'HEART', 'EXTREMITY', 'ARM', 'LEG', 'HAND', 'FOOT', 'KNEE', 'ANKLE', 'ELBOW', 'WRIST', 'SHOULDER']),
      })
      .strict()
      .prefault({}),
    /** Among series of one phase, the preferred reconstruction: ORIGINAL/PRIMARY, then thinner. */
    preference: z
      .object({
        /** Thickness at or below which a reconstruction earns 2 points (1 point up to `thinMm` x 2). */
        thinMm: z.number().positive().default(1.5),
      })
      .strict()
      .prefault({}),
    /** Both phases must share a FrameOfReferenceUID, so points map between them in patient coordinates. */
    requireSameFrameOfReference: z.boolean().default(true),
    /**
     * Image evidence, used only when metadata is missing or contradictory: the HU of the aorta
     * relative to the portal vein on a few mid-volume slices (src/study/vesselMeasurement.ts).
     */
    imageEvidence: z
      .object({
        enabled: z.boolean().default(true),
        /** Instances fetched per series, spread over the middle of the volume. */
        slices: z.number().int().min(1).max(15).default(5),
        /** aorta / portal vein at or above this: arterial. */
        arterialMinRatio: z.number().positive().default(1.4),
        /** aorta / portal vein at or below this: portal venous. */
        venousMaxRatio: z.number().positive().default(1.2),
        /** An aorta below this HU is unenhanced (blood is about 40 HU without contrast). */
        contrastMinAortaHu: z.number().default(80),
        /**
         * With the vessels in balance, a portal vein below this HU means a delayed phase (about
         * 100-135 HU) rather than the portal-venous one (160-200 HU).
         */
        venousMinPortalVeinHu: z.number().default(145),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SelectionRules = z.infer<typeof selectionRulesSchema>;

/** The default rules (the configuration's `selection` section when absent). */
export function defaultSelectionRules(): SelectionRules {
  return selectionRulesSchema.parse({});
}
