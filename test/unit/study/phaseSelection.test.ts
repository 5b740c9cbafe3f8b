/**
 * Phase selection, table-driven: each row is a made-up study (QIDO + metadata as DICOM JSON), the
 * image evidence if any, and the expected choice or reason, with why the row exists.
 */
import { expect } from 'chai';
import { phaseFromDescription, selectPhases, type ImageEvidence, type PhaseSelection } from '../../../src/study/phaseSelection';
import { defaultSelectionRules, selectionRulesSchema } from '../../../src/study/selectionRules';
import { seriesUid, study, type SeriesSpec } from './studyBuilder';

type ImagePhase = ImageEvidence['phase'] | { phase: ImageEvidence['phase']; aortaHu: number; portalVeinHu: number };

interface Row {
  why: string;
  series: SeriesSpec[];
  /** Image evidence per series id. */
  images?: Record<string, ImagePhase>;
  arterial?: string | null;
  venous?: string | null;
  reason?: string;
  /** Series ids the selection asks images of. */
  needs?: string[];
}

const rules = defaultSelectionRules();
// Timed acquisitions: bolus at t = 0, scans at the given delay (seconds).
const timed = (description: string, delay: number, extra: Partial<SeriesSpec> = {}): SeriesSpec => ({ description, bolusStart: 0, acq: delay, agent: 'Iohexol', ...extra });

const rows: Row[] = [
  // Real-world descriptions (PHANTOM.md): English, German, Chinese, Japanese, Korean, vendor styles.
  { why: 'plain English abbreviations', series: [{ description: 'ART' }, { description: 'PV' }], arterial: 'ART', venous: 'PV' },
  { why: 'full English names', series: [{ description: 'Arterial' }, { description: 'Portal venous' }], arterial: 'Arterial', venous: 'Portal venous' },
  { why: 'late arterial and "Venous 70s"', series: [{ description: 'Late arterial' }, { description: 'Venous 70s' }], arterial: 'Late arterial', venous: 'Venous 70s' },
  { why: 'pancreatic phase naming', series: [{ description: 'Pancreatic phase' }, { description: 'Portal venous phase' }], arterial: 'Pancreatic phase', venous: 'Portal venous phase' },
  { why: 'German', series: [{ description: 'Abdomen arteriell 1.0' }, { description: 'Abdomen portalvenös 1.0' }], arterial: 'Abdomen arteriell 1.0', venous: 'Abdomen portalvenös 1.0' },
  { why: 'Chinese 动脉期 / 门脉期', series: [{ description: '动脉期' }, { description: '门脉期' }], arterial: '动脉期', venous: '门脉期' },
  { why: 'Chinese 门静脉期 (portal vein phase)', series: [{ description: '动脉期 1mm' }, { description: '门静脉期 1mm' }], arterial: '动脉期 1mm', venous: '门静脉期 1mm' },
  { why: 'Chinese 静脉期 (venous phase)', series: [{ description: '动脉期' }, { description: '静脉期' }], arterial: '动脉期', venous: '静脉期' },
  { why: 'Japanese 動脈相 / 門脈相', series: [{ description: '動脈相' }, { description: '門脈相' }], arterial: '動脈相', venous: '門脈相' },
  { why: 'Korean 동맥기 / 문맥기', series: [{ description: '동맥기' }, { description: '문맥기' }], arterial: '동맥기', venous: '문맥기' },
  { why: 'underscores and digits do not hide ART / PV (no \\b)', series: [{ description: 'ART_1.0_Br40' }, { description: 'PV_0.75_Br40' }], arterial: 'ART_1.0_Br40', venous: 'PV_0.75_Br40' },
  { why: 'CTA is arterial, PVP is portal venous', series: [{ description: 'CTA Abdomen' }, { description: 'Abdomen PVP' }], arterial: 'CTA Abdomen', venous: 'Abdomen PVP' },
  {
    why: 'three-phase study: the plain scan is excluded as non-contrast',
    series: [{ description: 'Non-contrast' }, { description: 'Arterial' }, { description: 'Venous' }],
    arterial: 'Arterial',
    venous: 'Venous',
  },
  { why: 'Chinese plain scan 平扫 excluded', series: [{ description: '平扫' }, { description: '动脉期' }, { description: '门脉期' }], arterial: '动脉期', venous: '门脉期' },
  {
    why: 'four phases: a delayed phase is never the venous one',
    series: [{ description: 'Plain' }, { description: 'Arterial' }, { description: 'Portal venous' }, { description: 'Delayed 3 min' }],
    arterial: 'Arterial',
    venous: 'Portal venous',
  },
  {
    why: 'thick and thin recons: the thin ones win',
    series: [
      { description: 'Arterial 5.0', thickness: 5 },
      { description: 'Arterial 1.0', thickness: 1 },
      { description: 'PV 5.0', thickness: 5 },
      { description: 'PV 1.0', thickness: 1 },
    ],
    arterial: 'Arterial 1.0',
    venous: 'PV 1.0',
  },
  {
    why: 'ORIGINAL\\PRIMARY wins over a DERIVED recon of the same thickness',
    series: [
      { id: 'art-derived', description: 'Arterial', imageType: ['DERIVED', 'SECONDARY', 'AXIAL'] },
      { id: 'art-original', description: 'Arterial' },
      { description: 'PV' },
    ],
    arterial: 'art-original',
    venous: 'PV',
  },
  {
    why: 'early (20 s) and pancreatic (42 s) arterial scans: the core pancreatic timing wins',
    series: [timed('Arterial', 20, { id: 'early' }), timed('Arterial', 42, { id: 'pancreatic' }), timed('Portal venous', 70)],
    arterial: 'pancreatic',
    venous: 'Portal venous',
  },
  { why: 'vendor style descriptions with timing', series: [timed('Abdomen 1.0 B30f', 40, { id: 'a' }), timed('Abdomen 1.0 B30f', 70, { id: 'v' })], arterial: 'a', venous: 'v' },
  { why: 'blank descriptions with timing only', series: [timed('', 38, { id: 'a' }), timed('', 68, { id: 'v' })], arterial: 'a', venous: 'v' },
  { why: '"5mm" names nothing; timing decides', series: [timed('5mm', 45, { id: 'a', thickness: 5 }), timed('5mm', 72, { id: 'v', thickness: 5 })], arterial: 'a', venous: 'v' },
  {
    why: 'timing from SeriesTime when there is no AcquisitionTime',
    series: [
      { id: 'a', bolusStart: 0, seriesTime: 40, agent: 'Iohexol' },
      { id: 'v', bolusStart: 0, seriesTime: 70, agent: 'Iohexol' },
    ],
    arterial: 'a',
    venous: 'v',
  },
  {
    why: 'no bolus time, no names: two contrast acquisitions 35 s apart are ordered',
    series: [
      { id: 'first', acq: 100, agent: 'Omnipaque' },
      { id: 'second', acq: 135, agent: 'Omnipaque' },
    ],
    arterial: 'first',
    venous: 'second',
  },
  {
    why: 'a plain scan before the injection has no agent, so relative timing ignores it',
    series: [{ id: 'plain', acq: 0 }, { id: 'first', acq: 100, agent: 'Omnipaque' }, { id: 'second', acq: 135, agent: 'Omnipaque' }],
    arterial: 'first',
    venous: 'second',
  },

  // Adversarial descriptions.
  { why: '"PVE" is not "PV": the venous phase is unknown, images are needed', series: [{ description: 'ART' }, { description: 'PVE' }], arterial: 'ART', venous: null, reason: 'phase-undetermined', needs: ['PVE'] },
  { why: '"PVE" measured as venous by images', series: [{ description: 'ART' }, { description: 'PVE' }], images: { PVE: 'venous' }, arterial: 'ART', venous: 'PVE' },
  {
    why: '"ART" inside "ARTEFACT" does not count',
    series: [{ description: 'ARTEFACT REDUCTION' }, { description: 'PV' }],
    arterial: null,
    venous: 'PV',
    reason: 'phase-undetermined',
    needs: ['ARTEFACT REDUCTION'],
  },
  { why: '"intravenous" is not the venous phase', series: [{ description: 'Arterial' }, { description: 'Abdomen intravenous contrast' }], reason: 'phase-undetermined', needs: ['Abdomen intravenous contrast'] },
  { why: 'a heart ("HEART") is not ART', series: [{ description: 'HEART' }, { description: 'PV' }], reason: 'phase-undetermined', needs: ['HEART'] },
  { why: 'arterial with only a delayed phase', series: [{ description: 'Arterial' }, { description: 'Delayed' }], arterial: 'Arterial', venous: null, reason: 'single-phase' },
  { why: '"Venous delayed" is delayed', series: [{ description: 'Arterial' }, { description: 'Venous delayed' }], reason: 'single-phase' },
  { why: '"Late" alone is delayed, "Late arterial" is not', series: [{ description: 'Late arterial' }, { description: 'Late' }], reason: 'single-phase' },
  {
    why: 'both called "venous", two acquisitions 40 s apart: ambiguous without images',
    series: [
      { id: 'v1', description: 'Venous', acq: 100 },
      { id: 'v2', description: 'Venous', acq: 140 },
    ],
    arterial: null,
    venous: null,
    reason: 'ambiguous-phases',
    needs: ['v1', 'v2'],
  },
  {
    why: 'both called "venous": images settle which is arterial',
    series: [
      { id: 'v1', description: 'Venous', acq: 100 },
      { id: 'v2', description: 'Venous', acq: 140 },
    ],
    images: { v1: 'arterial', v2: 'venous' },
    arterial: 'v1',
    venous: 'v2',
  },
  {
    why: 'both called "venous" but one acquisition (thick and thin recons): single phase',
    series: [
      { id: 'thin', description: 'Venous', acq: 100, thickness: 1 },
      { id: 'thick', description: 'Venous', acq: 100, thickness: 5 },
    ],
    reason: 'single-phase',
  },
  { why: 'one description naming both phases is contradictory', series: [{ description: 'Arterial' }, { description: 'Art + PV fused' }], reason: 'ambiguous-phases', needs: ['Art + PV fused'] },
  {
    why: 'description says arterial, timing says venous: ambiguous, images asked',
    series: [timed('Arterial', 72, { id: 'claims-art' }), timed('PV', 74, { id: 'pv' })],
    venous: 'pv',
    arterial: null,
    reason: 'ambiguous-phases',
    needs: ['claims-art'],
  },
  {
    why: 'images outvote metadata that contradicts itself',
    series: [timed('Arterial', 72, { id: 'claims-art' }), timed('PV', 74, { id: 'pv' })],
    images: { 'claims-art': 'arterial' },
    arterial: 'claims-art',
    venous: 'pv',
  },
  {
    why: 'images that contradict unanimous metadata make it contradictory, not overruled',
    series: [{ description: 'Arterial' }, { description: 'PV' }],
    images: { Arterial: 'venous' },
    reason: 'ambiguous-phases',
  },
  {
    why: 'blank everything: no description, timing or agent; images needed for each',
    series: [{ id: 's1' }, { id: 's2' }],
    reason: 'phase-undetermined',
    needs: ['s1', 's2'],
  },
  {
    why: 'blank everything settled by images, the plain one excluded',
    series: [{ id: 's1' }, { id: 's2' }, { id: 's3' }],
    images: { s1: 'non-contrast', s2: 'arterial', s3: 'venous' },
    arterial: 's2',
    venous: 's3',
  },
  {
    why: 'images call two acquisitions arterial: the clearly brighter aorta wins (a plain scan misread)',
    series: [
      { id: 's1', acq: 0 },
      { id: 's2', acq: 100 },
      { id: 's3', acq: 130 },
    ],
    images: {
      s1: { phase: 'arterial', aortaHu: 210, portalVeinHu: 45 },
      s2: { phase: 'arterial', aortaHu: 310, portalVeinHu: 130 },
      s3: { phase: 'venous', aortaHu: 160, portalVeinHu: 180 },
    },
    arterial: 's2',
    venous: 's3',
  },
  {
    why: 'images call two acquisitions arterial with about the same aorta: ambiguous',
    series: [
      { id: 's1', acq: 0 },
      { id: 's2', acq: 100 },
      { id: 's3', acq: 130 },
    ],
    images: {
      s1: { phase: 'arterial', aortaHu: 290, portalVeinHu: 120 },
      s2: { phase: 'arterial', aortaHu: 310, portalVeinHu: 130 },
      s3: { phase: 'venous', aortaHu: 160, portalVeinHu: 180 },
    },
    reason: 'ambiguous-phases',
    needs: [],
  },
  {
    why: 'thick recons named, thin ones blank: images are asked for the thin ones and their references',
    series: [
      { description: 'ART 5mm', thickness: 5 },
      { id: 'thin-a', thickness: 1 },
      { description: 'PV 5mm', thickness: 5 },
      { id: 'thin-v', thickness: 1 },
    ],
    arterial: 'ART 5mm',
    venous: 'PV 5mm',
    needs: ['thin-a', 'thin-v', 'ART 5mm', 'PV 5mm'],
  },
  {
    why: 'thin blank recons measured like their named thick recons: the thin ones win',
    series: [
      { description: 'ART 5mm', thickness: 5 },
      { id: 'thin-a', thickness: 1 },
      { description: 'PV 5mm', thickness: 5 },
      { id: 'thin-v', thickness: 1 },
    ],
    images: {
      'ART 5mm': { phase: 'arterial', aortaHu: 305, portalVeinHu: 130 },
      'thin-a': { phase: 'arterial', aortaHu: 298, portalVeinHu: 128 },
      'PV 5mm': { phase: 'venous', aortaHu: 160, portalVeinHu: 178 },
      'thin-v': { phase: 'venous', aortaHu: 158, portalVeinHu: 183 },
    },
    arterial: 'thin-a',
    venous: 'thin-v',
  },
  {
    why: 'a thin blank series misread as arterial (a delayed scan, dim aorta) does not replace the named one',
    series: [{ description: 'ART 5mm', thickness: 5 }, { id: 'thin-delayed', thickness: 3 }, { description: 'PV' }],
    images: {
      'ART 5mm': { phase: 'arterial', aortaHu: 305, portalVeinHu: 130 },
      'thin-delayed': { phase: 'arterial', aortaHu: 140, portalVeinHu: 95 },
    },
    arterial: 'ART 5mm',
    venous: 'PV',
  },
  {
    why: 'blank everything, images inconclusive for one: no further images to ask',
    series: [{ id: 's1' }, { id: 's2' }],
    images: { s1: 'arterial', s2: 'inconclusive' },
    reason: 'phase-undetermined',
    needs: [],
  },

  // Series that cannot be used.
  { why: 'too thick', series: [{ description: 'Arterial 7mm', thickness: 7 }, { description: 'PV 7mm', thickness: 7 }], reason: 'too-thick' },
  { why: 'too few slices', series: [{ description: 'Arterial', slices: 10 }, { description: 'PV', slices: 10 }], reason: 'too-few-slices' },
  { why: 'localizer only', series: [{ description: 'Topogram 0.6 T20f', slices: 2, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'], orientation: [0, 1, 0, 0, 0, -1] }], reason: 'localizer-only' },
  {
    why: 'a localizer beside an arterial series: single phase',
    series: [{ description: 'Scout', slices: 1, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] }, { description: 'Arterial' }],
    reason: 'single-phase',
  },
  { why: 'coronal reformats only', series: [{ description: 'COR 3mm', orientation: [1, 0, 0, 0, 0, -1] }, { description: 'SAG 3mm', orientation: [0, 1, 0, 0, 0, -1] }], reason: 'not-axial' },
  { why: 'the venous series is coronal', series: [{ description: 'Arterial' }, { description: 'PV coronal', orientation: [1, 0, 0, 0, 0, -1] }], arterial: 'Arterial', venous: null, reason: 'not-axial' },
  {
    why: 'an axial MIP is not the source series',
    series: [{ description: 'Arterial MIP', imageType: ['DERIVED', 'SECONDARY', 'AXIAL', 'MIP'] }, { description: 'Arterial' }, { description: 'PV' }],
    arterial: 'Arterial',
    venous: 'PV',
  },
  {
    why: 'arterial and venous on different frames of reference',
    series: [
      { description: 'Arterial', frame: '1.2.826.0.1.3680043.8.498.91' },
      { description: 'PV', frame: '1.2.826.0.1.3680043.8.498.92' },
    ],
    reason: 'mixed-frame-of-reference',
  },
  {
    why: 'two frames of reference inside the venous series',
    series: [{ description: 'Arterial' }, { description: 'PV', frame: ['1.2.826.0.1.3680043.8.498.91', '1.2.826.0.1.3680043.8.498.92'] }],
    reason: 'mixed-frame-of-reference',
  },
  { why: 'a missing slice in the venous series', series: [{ description: 'Arterial' }, { description: 'PV', dropSlice: 12 }], reason: 'slice-gap' },
  { why: 'mixed orientations in one series', series: [{ description: 'Arterial' }, { description: 'PV', mixedOrientation: true }], reason: 'mixed-orientations' },
  { why: 'an MR study', series: [{ description: 'T1 arterial', modality: 'MR' }, { description: 'T1 PV', modality: 'MR' }], reason: 'no-ct-series' },
  { why: 'an empty study (QIDO-RS finds no series)', series: [], reason: 'study-not-found' },
  { why: 'only a plain scan', series: [{ description: 'Abdomen plain' }, { description: 'Nativ 5mm', thickness: 5 }], reason: 'no-contrast-series' },
  {
    why: 'a dose report stored as CT is skipped',
    series: [{ description: 'Dose Report', slices: 1, imageType: ['DERIVED', 'SECONDARY', 'OTHER'] }, { description: 'Arterial' }, { description: 'PV' }],
    arterial: 'Arterial',
    venous: 'PV',
  },
  {
    why: 'a Secondary Capture series does not count',
    series: [{ description: 'PV screen', sopClass: '1.2.840.10008.5.1.4.1.1.7' }, { description: 'Arterial' }],
    reason: 'unsupported-sop-class',
  },
  { why: 'a head CT', series: [{ description: 'Arterial', bodyPart: 'HEAD' }, { description: 'PV', bodyPart: 'HEAD' }], reason: 'wrong-body-part' },
  { why: 'an Enhanced CT series', series: [{ description: 'Arterial', sopClass: '1.2.840.10008.5.1.4.1.1.2.1' }, { description: 'PV' }], reason: 'enhanced-multiframe-unsupported' },
  {
    why: 'a delayed phase by timing only (150 s)',
    series: [timed('', 40, { id: 'a' }), timed('', 150, { id: 'late' })],
    arterial: 'a',
    venous: null,
    reason: 'single-phase',
  },
];

function idOf(specs: SeriesSpec[], uid: string | undefined): string | undefined {
  const n = specs.findIndex((_, i) => seriesUid(i) === uid);
  return n < 0 ? undefined : (specs[n].id ?? specs[n].description);
}

function run(row: Row): PhaseSelection {
  const evidence: ImageEvidence[] = Object.entries(row.images ?? {}).map(([id, image]) => {
    const n = row.series.findIndex((s) => (s.id ?? s.description) === id);
    if (n < 0) throw new Error(`no series ${id}`);
    const measured = typeof image === 'string' ? { phase: image } : image;
    return { seriesInstanceUID: seriesUid(n), ...measured, detail: `test: ${measured.phase}`, slicesMeasured: 5 };
  });
  return selectPhases(study(row.series), rules, evidence);
}

describe('study/phaseSelection', () => {
  it('has at least 40 table rows', () => expect(rows.length).to.be.at.least(40));

  for (const row of rows) {
    it(row.why, () => {
      const s = run(row);
      const summary = JSON.stringify({ reason: s.reasonCode, text: s.reason, arterial: s.arterial?.seriesDescription, venous: s.venous?.seriesDescription });
      if (row.reason === undefined) {
        expect(s.analyzable, summary).to.equal(true);
        expect(s.reasonCode, summary).to.equal(undefined);
      } else {
        expect(s.analyzable, summary).to.equal(false);
        expect(s.reasonCode, summary).to.equal(row.reason);
        expect(s.reason, summary).to.be.a('string').and.not.equal('');
      }
      if (row.arterial !== undefined) expect(idOf(row.series, s.arterial?.seriesInstanceUID) ?? null, summary).to.equal(row.arterial);
      if (row.venous !== undefined) expect(idOf(row.series, s.venous?.seriesInstanceUID) ?? null, summary).to.equal(row.venous);
      if (row.needs !== undefined) expect(s.needsImageEvidence.map((uid) => idOf(row.series, uid)), summary).to.have.members(row.needs);
      // Every series is a candidate, and every candidate explains itself.
      expect(s.candidates).to.have.length(row.series.length);
      for (const c of s.candidates) {
        if (!c.eligible) expect(c.failureCode, c.seriesDescription).to.be.a('string');
        expect(c.details.passed.length + c.details.failed.length).to.be.greaterThan(0);
      }
    });
  }

  it('explains the chosen series: score and why', () => {
    const s = run({ why: '', series: [{ description: 'Arterial', thickness: 1 }, { description: 'PV' }] });
    expect(s.arterial?.score).to.be.greaterThan(0);
    expect(s.arterial?.why.join('\n')).to.contain('phase: arterial').and.contain('thin-reconstruction').and.contain('original-primary');
    const venousCandidate = s.candidates.find((c) => c.seriesDescription === 'PV');
    expect(venousCandidate?.evidence[0]).to.deep.include({ source: 'description', phase: 'venous' });
  });

  it('rules from configuration change the outcome: a 7 mm limit accepts 7 mm series', () => {
    const relaxed = selectionRulesSchema.parse({ limits: { maxSliceThicknessMm: 7 } });
    const s = selectPhases(study([{ description: 'Arterial 7mm', thickness: 7 }, { description: 'PV 7mm', thickness: 7 }]), relaxed);
    expect(s.analyzable).to.equal(true);
  });

  it('rules from configuration: a site pattern list replaces the default', () => {
    const site = selectionRulesSchema.parse({ patterns: { venous: ['(?<![a-z])ph2(?![a-z])'] } });
    expect(phaseFromDescription('Abdomen PH2', site).phase).to.equal('venous');
    expect(phaseFromDescription('Abdomen PV', site).phase).to.equal(undefined);
  });

  it('refuses an invalid pattern in configuration', () => {
    expect(() => selectionRulesSchema.parse({ patterns: { arterial: ['(unclosed'] } })).to.throw(/regular expression/);
  });

  // Description classification on its own, word boundaries included.
  const descriptions: [string, string | undefined][] = [
    ['ART', 'arterial'],
    ['art.', 'arterial'],
    ['ARTEFACT', undefined],
    ['PARTIAL', undefined],
    ['PV', 'venous'],
    ['PVE', undefined],
    ['PV_1.0', 'venous'],
    ['Portal-venous', 'venous'],
    ['portalvenös', 'venous'],
    ['intravenous', undefined],
    ['Late arterial', 'arterial'],
    ['Late', 'delayed'],
    ['5 min', 'delayed'],
    ['1.5mm', undefined],
    ['Equilibrium', 'delayed'],
    ['平扫', 'non-contrast'],
    ['Nativ', 'non-contrast'],
    ['w/o contrast', 'non-contrast'],
    ['Arterial and venous', 'contradictory'],
  ];
  for (const [text, phase] of descriptions) {
    it(`description "${text}" -> ${phase ?? 'no phase'}`, () => {
      expect(phaseFromDescription(text, rules).phase).to.equal(phase);
    });
  }
});
