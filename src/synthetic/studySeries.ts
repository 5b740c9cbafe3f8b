/**
 * Writes every series of a planned study, in role order: the localizer, the axial phases (the
 * arterial and venous phases together, with their 5 mm reconstructions), and the dose report of
 * their irradiation events; and says what each series is in the ground truth.
 */
import { phaseStartSeconds } from './acquisitionProtocol';
import { writeAxialSeries, type AxialSeriesSpec } from './axialSeries';
import { ctImageDataset, type CtSeriesAttributes } from './ctImage';
import { dicomTime, zeroPad } from './dicomDateTime';
import { doseReportDataset, type IrradiationEvent } from './doseReport';
import { encodePixels } from './encoding';
import type { SeriesTruth } from './groundTruth';
import { renderLocalizer } from './localizer';
import type { SeriesRole } from './naming';
import { ds, writePart10 } from './part10';
import { ctSeriesAttributes, drawInstanceOrder, seriesUid } from './seriesSettings';
import type { StudyPlan, SyntheticFile } from './studyPlan';
import type { ContrastPhase } from './tissues';
import { syntheticUid } from './uid';

export interface WrittenSeries {
  /** Sorted by relative path. */
  files: SyntheticFile[];
  /** Sorted by series number. */
  series: SeriesTruth[];
}

/** An axial phase series planned, not yet written: its spec, its ground truth and its irradiation event. */
interface PlannedPhaseSeries {
  spec: AxialSeriesSpec;
  truths: SeriesTruth[];
  irradiation: IrradiationEvent;
}

export function writeStudySeries(plan: StudyPlan): WrittenSeries {
  const files: SyntheticFile[] = [];
  const series: SeriesTruth[] = [];
  const irradiation: IrradiationEvent[] = [];
  const mainSpecs: AxialSeriesSpec[] = [];
  let acquisitionNumber = 1;
  for (const role of plan.series.roles) {
    if (role === 'arterial-thick' || role === 'venous-thick' || role === 'dose-report') continue;
    if (role === 'localizer') {
      const localizer = writeLocalizer(plan, acquisitionNumber++);
      files.push(localizer.file);
      series.push(localizer.truth);
      irradiation.push(localizer.irradiation);
      continue;
    }
    const planned = planPhaseSeries(plan, role, acquisitionNumber++);
    if (role === 'arterial' || role === 'venous') mainSpecs.push(planned.spec);
    else files.push(...writeAxialSeries(plan, [planned.spec]));
    series.push(...planned.truths);
    irradiation.push(planned.irradiation);
  }
  files.push(...writeAxialSeries(plan, mainSpecs));
  if (plan.series.doseReport) {
    const doseReport = writeDoseReport(plan, irradiation);
    files.push(doseReport.file);
    series.push(doseReport.truth);
  }
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  series.sort((a, b) => a.seriesNumber - b.seriesNumber);
  return { files, series };
}

function seriesTruth(
  plan: StudyPlan,
  role: SeriesRole,
  phase: ContrastPhase | null,
  attributes: CtSeriesAttributes,
  instanceCount: number,
  order?: SeriesTruth['instanceOrder'],
): SeriesTruth {
  return {
    seriesInstanceUID: attributes.seriesInstanceUID,
    seriesNumber: attributes.seriesNumber,
    role,
    seriesDescription: attributes.seriesDescription,
    instanceCount,
    contrastPhase: phase,
    ...(phase !== null && phase !== 'non-contrast' ? { delaySeconds: plan.protocol.delaySeconds[phase] } : {}),
    ...(attributes.sliceThicknessMm !== undefined ? { sliceThicknessMm: attributes.sliceThicknessMm } : {}),
    ...(attributes.spacingBetweenSlicesMm !== undefined ? { spacingBetweenSlicesMm: attributes.spacingBetweenSlicesMm } : {}),
    timingTagsPresent: plan.protocol.timingTagsPresent,
    ...(order ? { instanceOrder: order } : {}),
  };
}

/** The localizer: one projection image of the whole phantom, centred on the scanned range. */
function writeLocalizer(plan: StudyPlan, acquisitionNumber: number): { file: SyntheticFile; truth: SeriesTruth; irradiation: IrradiationEvent } {
  const { translation, zCentre } = plan.geometry;
  const scout = renderLocalizer(plan.anatomy, plan.tissueHu, zCentre, Math.min(256, Math.max(64, plan.columns / 2)));
  const attributes = ctSeriesAttributes(plan, 'localizer', null, undefined, undefined, acquisitionNumber);
  attributes.rows = scout.rows;
  attributes.columns = scout.columns;
  attributes.pixelSpacing = [scout.rowSpacing, scout.columnSpacing];
  attributes.imageOrientation = [1, 0, 0, 0, 0, -1];
  attributes.reconstructionDiameterMm = 500;
  const sopInstanceUID = syntheticUid(plan.uidSeed, 'instance', attributes.seriesInstanceUID, 0);
  const dataset = ctImageDataset(plan.study, attributes, {
    sopInstanceUID,
    instanceNumber: 1,
    imagePosition: [scout.x0 + translation[0], translation[1], scout.zTop + translation[2]],
    contentTime: dicomTime(plan.patient.studyStartSeconds + 30),
    pixelData: encodePixels(scout.values, { ...plan.encoding, paddingValue: undefined }),
  });
  // The padding value describes the axial reconstruction circle; a projection has none.
  delete dataset.PixelPaddingValue;
  return {
    file: { relativePath: `S${zeroPad(attributes.seriesNumber, 3)}/I0001.dcm`, seriesInstanceUID: attributes.seriesInstanceUID, sopInstanceUID, bytes: writePart10(dataset) },
    truth: seriesTruth(plan, 'localizer', 'non-contrast', attributes, 1),
    irradiation: {
      uid: syntheticUid(plan.uidSeed, 'irradiation', 'localizer'),
      protocol: attributes.seriesDescription || 'Localizer',
      kind: 'localizer',
      scanningLengthMm: scout.rows * scout.rowSpacing,
      kvp: plan.protocol.kvp,
      tubeCurrentMa: attributes.tubeCurrentMa,
      exposureTimeS: attributes.exposureTimeMs / 1000,
      ctdiVolMGy: 0.1,
      collimationMm: 0.6,
      pitch: 1,
    },
  };
}

/** Slice positions, thickness, slice-profile samples and noise of an axial phase series. */
interface PhaseSlices {
  zCentres: number[];
  thicknessMm: number;
  spacingMm: number;
  subSamples: number;
  noiseSdHu: number;
}

/** The arterial and venous phases: the thin slices of the scan geometry. */
function thinSlices(plan: StudyPlan): PhaseSlices {
  const geometry = plan.geometry;
  return { zCentres: geometry.thinZ, thicknessMm: geometry.thinSliceMm, spacingMm: geometry.thinIntervalMm, subSamples: geometry.thinSubSamples, noiseSdHu: geometry.noiseSdHu };
}

/** Non-contrast and delayed: 5 mm (sometimes 3 mm) over a longer range, lower dose. */
function drawExtraPhaseSlices(plan: StudyPlan, role: 'non-contrast' | 'delayed'): PhaseSlices {
  const { acquisition, geometry } = plan;
  const thicknessMm = acquisition.pick([5, 5, 3]);
  const extraCoverage = role === 'non-contrast' ? acquisition.uniform(20, 120) : acquisition.uniform(0, 40);
  const count = Math.max(4, Math.round((geometry.coverageMm + extraCoverage) / thicknessMm));
  const top = geometry.zCentre + ((count - 1) / 2) * thicknessMm;
  return {
    zCentres: Array.from({ length: count }, (_, k) => top - k * thicknessMm),
    thicknessMm,
    spacingMm: thicknessMm,
    subSamples: thicknessMm >= 5 ? 3 : 2,
    noiseSdHu: geometry.noiseSdHu * 1.2 * Math.sqrt(geometry.thinSliceMm / thicknessMm),
  };
}

/** An axial phase series and (arterial, venous) its 5 mm reconstruction: attributes, instance orders, truth, irradiation. */
function planPhaseSeries(plan: StudyPlan, phase: ContrastPhase, acquisitionNumber: number): PlannedPhaseSeries {
  const isMain = phase === 'arterial' || phase === 'venous';
  const slices = isMain ? thinSlices(plan) : drawExtraPhaseSlices(plan, phase);
  const attributes = ctSeriesAttributes(plan, phase, phase, slices.thicknessMm, slices.spacingMm, acquisitionNumber);
  const order = drawInstanceOrder(plan.acquisition, plan.instanceOrder);
  const thickRole: SeriesRole | undefined = plan.series.thick && phase === 'arterial' ? 'arterial-thick' : plan.series.thick && phase === 'venous' ? 'venous-thick' : undefined;
  // The 5 mm reconstruction averages whole thin slices (at the thin slices' interval).
  const thinIntervalMm = plan.geometry.thinIntervalMm;
  const thickPerSlice = Math.max(1, Math.round(5 / thinIntervalMm));
  const thickMm = thinIntervalMm * thickPerSlice;
  const thickAttributes = thickRole ? ctSeriesAttributes(plan, thickRole, phase, thickMm, thickMm, attributes.acquisitionNumber) : undefined;
  const thickOrder = thickRole ? drawInstanceOrder(plan.acquisition, plan.instanceOrder) : 'head-first';
  const spec: AxialSeriesSpec = {
    role: phase,
    phase,
    zCentres: slices.zCentres,
    thicknessMm: slices.thicknessMm,
    spacingMm: slices.spacingMm,
    subSamples: slices.subSamples,
    noiseSdHu: slices.noiseSdHu,
    shift: plan.geometry.breathingShifts[phase],
    attributes,
    order,
    startSeconds: phaseStartSeconds(plan.protocol, phase),
    ...(thickAttributes ? { thick: { attributes: thickAttributes, order: thickOrder, perSlice: thickPerSlice } } : {}),
  };
  const truths = [seriesTruth(plan, phase, phase, attributes, slices.zCentres.length, order)];
  if (thickRole && thickAttributes) truths.push(seriesTruth(plan, thickRole, phase, thickAttributes, Math.floor(slices.zCentres.length / thickPerSlice), thickOrder));
  return { spec, truths, irradiation: spiralIrradiation(plan, phase, attributes, slices) };
}

/** The irradiation event of a spiral acquisition (for the dose report). */
function spiralIrradiation(plan: StudyPlan, phase: ContrastPhase, attributes: CtSeriesAttributes, slices: PhaseSlices): IrradiationEvent {
  const scanningLengthMm = slices.zCentres.length * slices.spacingMm + 20;
  return {
    uid: syntheticUid(plan.uidSeed, 'irradiation', phase),
    protocol: attributes.seriesDescription || attributes.protocolName || phase,
    kind: 'spiral',
    scanningLengthMm,
    kvp: plan.protocol.kvp,
    tubeCurrentMa: attributes.tubeCurrentMa,
    exposureTimeS: ds(scanningLengthMm / 40 / 0.9 * 0.5, 2),
    ctdiVolMGy: attributes.ctdiVol ?? 10,
    collimationMm: 40,
    pitch: 0.9,
  };
}

/** The X-Ray Radiation Dose SR of the study's irradiation events, written after the last phase. */
function writeDoseReport(plan: StudyPlan, irradiation: IrradiationEvent[]): { file: SyntheticFile; truth: SeriesTruth } {
  const seriesNumber = plan.seriesNumbers.get('dose-report')!;
  const seriesInstanceUID = seriesUid(plan.uidSeed, 'dose-report');
  const seriesDescription = plan.descriptions.bySeries.get('dose-report') ?? '';
  const sopInstanceUID = syntheticUid(plan.uidSeed, 'instance', seriesInstanceUID, 0);
  const end = phaseStartSeconds(plan.protocol, plan.series.delayed ? 'delayed' : 'venous') + 60;
  const dataset = doseReportDataset({
    study: plan.study,
    seriesInstanceUID,
    seriesNumber,
    seriesDescription,
    sopInstanceUID,
    contentDate: plan.study.studyDate,
    contentTime: dicomTime(end),
    deviceObserverUID: syntheticUid('device', plan.study.deviceSerialNumber),
    events: irradiation,
  });
  return {
    file: { relativePath: `S${zeroPad(seriesNumber, 3)}/I0001.dcm`, seriesInstanceUID, sopInstanceUID, bytes: writePart10(dataset) },
    truth: { seriesInstanceUID, seriesNumber, role: 'dose-report', seriesDescription, instanceCount: 1, contrastPhase: null },
  };
}
