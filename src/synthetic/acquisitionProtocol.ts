/**
 * The acquisition protocol of a study, drawn from the `acquisition` stream: the contrast
 * injection and each phase's delay after it, whether the scanner wrote the timing tags, the
 * contrast agent and the scanner settings.
 */
import type { ContrastAttributes } from './ctImage';
import { dicomTime } from './dicomDateTime';
import type { SeededRandom } from './random';
import type { ContrastPhase } from './tissues';

export interface AcquisitionProtocol {
  /** Second of the day of the contrast injection. */
  injectionSeconds: number;
  /** Seconds from the injection to each phase's scan; negative for the non-contrast scan, before it. */
  delaySeconds: Record<ContrastPhase, number>;
  /** ContrastBolusStartTime and AcquisitionTime written (real scanners sometimes leave them out). */
  timingTagsPresent: boolean;
  contrast: ContrastAttributes;
  convolutionKernel: string;
  kvp: number;
  patientPosition: string;
  /** Randomised profiles: tube current and CTDIvol relative to the usual for the patient's weight. */
  doseFactor?: number;
}

export type TimingTagsOption = 'random' | 'present' | 'absent';

export function drawAcquisitionProtocol(acquisition: SeededRandom, studyStartSeconds: number, weightKg: number, timingTags: TimingTagsOption): AcquisitionProtocol {
  // PHANTOM.md: pancreatic phase 35-50 s, portal venous 65-75 s after injection.
  const injectionSeconds = studyStartSeconds + acquisition.uniform(180, 300);
  const delaySeconds: Record<ContrastPhase, number> = {
    'non-contrast': -acquisition.uniform(60, 120),
    arterial: Math.round(acquisition.uniform(35, 50)),
    venous: Math.round(acquisition.uniform(65, 75)),
    delayed: Math.round(acquisition.uniform(150, 300)),
  };
  const timingTagsPresent = timingTags === 'present' || (timingTags === 'random' && !acquisition.bool(0.3));
  const contrast: ContrastAttributes = {
    agent: acquisition.pick(['Iohexol 350', 'Iopromide 370', 'Iodixanol 320', 'Iopamidol 370']),
    route: 'IV',
    volumeMl: Math.round(Math.min(150, Math.max(70, weightKg * 1.3))),
    ingredient: 'IODINE',
    concentrationMgMl: 350,
    flowRateMlS: acquisition.pick([3.5, 4, 4.5, 5]),
    ...(timingTagsPresent ? { startTime: dicomTime(injectionSeconds) } : {}),
  };
  const convolutionKernel = acquisition.pick(['B30f', 'STANDARD', 'Br40', 'FC08', 'B']);
  const kvp = acquisition.pick([100, 120, 120, 120]);
  const patientPosition = acquisition.pick(['FFS', 'HFS']);
  return { injectionSeconds, delaySeconds, timingTagsPresent, contrast, convolutionKernel, kvp, patientPosition };
}

/** Second of the day a contrast phase's scan starts. */
export function phaseStartSeconds(protocol: AcquisitionProtocol, phase: ContrastPhase): number {
  return protocol.injectionSeconds + protocol.delaySeconds[phase];
}
