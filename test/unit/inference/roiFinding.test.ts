import { expect } from 'chai';
import type { ConfidenceSpec, RoiSpec } from '../../../src/inference/manifest';
import {
  clampedLogit,
  decideCascade,
  dilatedMaskTest,
  largestMaskComponent,
  localisationConfidence,
  pancreasFromProbability,
  resampleMaskNearest,
  roiCentreFromMask,
  roiPancreasMask,
  shiftSpreadMm,
  sigmoid,
  windowPeak,
  type CascadeDecisionInput,
} from '../../../src/inference/roiFinding';
import { findPeak } from '../../../src/inference/tumourFinding';
import type { ProbabilityGrid } from '../../../src/inference/tumourFinding';
import { indexToPatient, type Geometry, type Vec3 } from '../../../src/study/geometry';

function geometry(dims: Vec3, spacing = 2, origin: Vec3 = [0, 0, 0]): Geometry {
  return { dims, spacing: [spacing, spacing, spacing], origin, rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
}

function grid(g: Geometry, fill = 0): ProbabilityGrid {
  return { geometry: g, data: new Float32Array(g.dims[0] * g.dims[1] * g.dims[2]).fill(fill) };
}

const at = (g: Geometry, i: number, j: number, k: number): number => (k * g.dims[1] + j) * g.dims[0] + i;

/** Sets a box [lo, hi] (grid indices, inclusive) of a grid or mask to a value. */
function box(data: Float32Array | Uint8Array, g: Geometry, lo: Vec3, hi: Vec3, value: number): void {
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) data[at(g, i, j, k)] = value;
}

const ROI: RoiSpec = {
  centredOn: 'pancreas',
  pancreasModel: { name: 'tsr-pancreas', version: '0.5.0', sha256: 'a'.repeat(64) },
  candidateLevel: 0.5,
  minPancreasOverlap: 0.3,
  pancreasDilationMm: 4,
  maxPhaseDistanceMm: 20,
};

describe('inference/roiFinding: the cascade decision on plain grids', () => {
  const g = geometry([40, 30, 20]);

  function input(edit: (venous: ProbabilityGrid, arterial: ProbabilityGrid, pancreas: Uint8Array) => void, extra: Partial<CascadeDecisionInput> = {}): CascadeDecisionInput {
    const venous = grid(g);
    const arterial = grid(g);
    const pancreas = new Uint8Array(venous.data.length);
    edit(venous, arterial, pancreas);
    return { venous, arterial, pancreasMask: pancreas, venousByShift: [venous.data], roi: ROI, minConfidence: 0.5, arterialSearchRadiusMm: 20, ...extra };
  }

  it('finds the candidate inside the pancreas, with its centre, features and (uncalibrated) confidence', () => {
    const decision = decideCascade(
      input((venous, arterial, pancreas) => {
        box(pancreas, g, [5, 5, 5], [30, 20, 12], 1);
        box(venous.data, g, [10, 10, 8], [12, 12, 10], 0.9);
        venous.data[at(g, 11, 11, 9)] = 0.95;
        box(arterial.data, g, [11, 10, 8], [13, 12, 10], 0.8);
      }),
    );
    expect(decision.refusal).to.equal(undefined);
    expect(decision.candidates).to.equal(1);
    const c = decision.candidate!;
    expect(c.peak).to.be.closeTo(0.95, 1e-6);
    expect(c.peakIndex).to.deep.equal([11, 11, 9]);
    expect(c.voxels.length).to.equal(27);
    expect(c.pancreasOverlap).to.equal(1);
    c.centreMm.forEach((x, a) => expect(x).to.be.closeTo([22, 22, 18][a], 1e-6));
    const f = decision.features!;
    expect(f.peakLogit).to.be.closeTo(Math.log(0.95 / 0.05), 1e-5);
    expect(f.meanProbability).to.be.closeTo((26 * 0.9 + 0.95) / 27, 1e-6);
    expect(f.pancreasOverlap).to.equal(1);
    expect(f.logVolumeMl).to.be.closeTo(Math.log((27 * 8) / 1000 + 0.01), 1e-9);
    // The arterial component is one voxel (2 mm) further along x.
    expect(f.phaseDistanceMm).to.be.closeTo(2, 0.2);
    expect(f.shiftSpreadMm).to.equal(0);
    // No calibration: confidence = sigmoid(peakLogit) = the peak.
    expect(decision.confidence).to.be.closeTo(0.95, 1e-5);
  });

  it('prefers a weaker candidate in the pancreas to a stronger one outside it', () => {
    const decision = decideCascade(
      input((venous, _a, pancreas) => {
        box(pancreas, g, [20, 5, 5], [35, 25, 15], 1);
        box(venous.data, g, [2, 2, 2], [4, 4, 4], 0.99); // outside (a vessel, say)
        box(venous.data, g, [25, 10, 8], [27, 12, 10], 0.7); // inside
      }),
    );
    expect(decision.candidates).to.equal(2);
    expect(decision.refusal).to.equal(undefined);
    expect(decision.candidate!.peak).to.be.closeTo(0.7, 1e-6);
    expect(decision.candidate!.evidence).to.be.closeTo(0.7, 1e-6);
  });

  it('refuses finding-outside-pancreas when no candidate overlaps the dilated pancreas enough, with the features of the best', () => {
    const decision = decideCascade(
      input((venous, _a, pancreas) => {
        box(pancreas, g, [30, 5, 5], [35, 25, 15], 1);
        box(venous.data, g, [5, 5, 5], [7, 7, 7], 0.9);
      }),
    );
    expect(decision.refusal).to.equal('finding-outside-pancreas');
    expect(decision.message).to.contain('outside the pancreas').and.contain('30%');
    expect(decision.candidate!.pancreasOverlap).to.equal(0);
    expect(decision.candidate!.evidence).to.be.closeTo(0.09, 1e-6);
    expect(decision.features).to.not.equal(undefined);
  });

  it('counts a candidate on the pancreas edge through the dilation', () => {
    // The candidate begins two voxels (4 mm) beyond the mask: the 4 mm dilation reaches its first column.
    const decision = decideCascade(
      input((venous, _a, pancreas) => {
        box(pancreas, g, [5, 5, 5], [9, 25, 15], 1);
        box(venous.data, g, [11, 10, 8], [12, 12, 10], 0.9);
      }),
    );
    expect(decision.candidate!.pancreasOverlap).to.be.closeTo(0.5, 1e-9);
    expect(decision.refusal).to.equal(undefined);
  });

  it('refuses tumour-not-found without candidates', () => {
    const decision = decideCascade(input((venous) => venous.data.fill(0.49)));
    expect(decision.refusal).to.equal('tumour-not-found');
    expect(decision.candidates).to.equal(0);
    expect(decision.features).to.equal(undefined);
  });

  it('refuses phases-disagree when the arterial tumour lies further than maxPhaseDistanceMm', () => {
    const decision = decideCascade(
      input(
        (venous, arterial, pancreas) => {
          box(pancreas, g, [0, 0, 0], [39, 29, 19], 1);
          box(venous.data, g, [10, 10, 8], [12, 12, 10], 0.9);
          box(arterial.data, g, [21, 10, 8], [23, 12, 10], 0.9); // 22 mm along x, within the 25 mm search
        },
        { arterialSearchRadiusMm: 25 },
      ),
    );
    expect(decision.features!.phaseDistanceMm).to.be.closeTo(22, 1e-6);
    expect(decision.refusal).to.equal('phases-disagree');
    expect(decision.message).to.contain('22.0 mm apart');
  });

  it('uses the venous centre (distance 0) when the arterial map has nothing near it', () => {
    const decision = decideCascade(
      input((venous, _a, pancreas) => {
        box(pancreas, g, [0, 0, 0], [39, 29, 19], 1);
        box(venous.data, g, [10, 10, 8], [12, 12, 10], 0.9);
      }),
    );
    expect(decision.arterial!.centreMm).to.equal(undefined);
    expect(decision.features!.phaseDistanceMm).to.equal(0);
    expect(decision.refusal).to.equal(undefined);
  });

  it('calibrates the confidence with the manifest weights, and refuses below minConfidence saying so', () => {
    const calibration: ConfidenceSpec = { features: ['pancreasOverlap', 'peakLogit'], weights: [2, 0.5], intercept: -4, fittedOn: 'test' };
    const decision = decideCascade(
      input(
        (venous, _a, pancreas) => {
          box(pancreas, g, [0, 0, 0], [39, 29, 19], 1);
          box(venous.data, g, [10, 10, 8], [12, 12, 10], 0.8);
        },
        { calibration, minConfidence: 0.4 },
      ),
    );
    const expected = sigmoid(-4 + 2 * 1 + 0.5 * Math.log(0.8 / 0.2));
    expect(decision.confidence).to.be.closeTo(expected, 1e-6);
    expect(decision.refusal).to.equal('tumour-not-found');
    expect(decision.message).to.contain('calibrated localisation confidence is 0.').and.contain('below the threshold 0.4');
  });

  it('confidence formula: sigmoid(intercept + sum w_i f_i) by feature name; the peak without calibration; logit clamped', () => {
    const features = { peakLogit: 1, meanProbability: 0.6, pancreasOverlap: 0.5, phaseDistanceMm: 3, logVolumeMl: -1, shiftSpreadMm: 2 };
    const spec: ConfidenceSpec = { features: ['shiftSpreadMm', 'phaseDistanceMm', 'logVolumeMl'], weights: [-1, -0.1, 0.5], intercept: 0.7, fittedOn: 'x' };
    expect(localisationConfidence(features, spec)).to.be.closeTo(sigmoid(0.7 - 2 - 0.3 - 0.5), 1e-12);
    expect(localisationConfidence(features)).to.be.closeTo(sigmoid(1), 1e-12);
    expect(clampedLogit(1)).to.equal(20);
    expect(clampedLogit(1e-12)).to.equal(-20);
  });

  it('windowPeak finds what findPeak finds within the ball, visiting only its box', () => {
    let state = 7;
    const random = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const p = grid(geometry([30, 20, 16], 2, [-30, -20, -16]));
    for (let n = 0; n < p.data.length; n++) p.data[n] = Math.round(random() * 20) / 20;
    for (const [centre, radius] of [[[0, 0, 0], 10], [[-28, 18, 10], 7], [[5, -3, 2], 30], [[100, 100, 100], 5]] as Array<[Vec3, number]>) {
      expect(windowPeak(p, centre, radius), `${centre.join(',')} r ${radius}`).to.deep.equal(findPeak(p, { centreMm: centre, radiusMm: radius }));
    }
  });

  it('shift spread: the RMS distance of the candidate centres on each shift map from their mean', () => {
    const g1 = geometry([10, 10, 10], 1);
    const voxels = Int32Array.from([at(g1, 2, 5, 5), at(g1, 4, 5, 5)]);
    const a = new Float32Array(1000);
    const b = new Float32Array(1000);
    a[voxels[0]] = 1; // centre x = 2
    b[voxels[1]] = 1; // centre x = 4
    expect(shiftSpreadMm(grid(g1), voxels, [a, b])).to.be.closeTo(1, 1e-9);
    expect(shiftSpreadMm(grid(g1), voxels, [a])).to.equal(0);
  });
});

describe('inference/roiFinding: the pancreas mask and the ROI centre', () => {
  const g = geometry([20, 16, 12], 4, [-40, -30, -20]);

  it('ROI centre: the bounding box centre of the largest 26-connected component, in patient mm', () => {
    const mask = new Uint8Array(20 * 16 * 12);
    box(mask, g, [2, 3, 1], [9, 6, 4], 1); // 8 x 4 x 4 = 128 voxels
    box(mask, g, [15, 12, 9], [17, 14, 10], 1); // a smaller blob elsewhere
    mask[at(g, 10, 7, 5)] = 1; // touches the first box corner to corner (26-connected)
    expect(largestMaskComponent(mask, g.dims).length).to.equal(129);
    const centre = roiCentreFromMask(mask, g)!;
    expect(centre).to.deep.equal(indexToPatient(g, 6, 5, 3));
    expect(roiCentreFromMask(new Uint8Array(mask.length), g)).to.equal(undefined);
  });

  it('ROI centre on random masks: the box centre of the largest component, whatever smaller components lie elsewhere', () => {
    // The one rule for the node (stage 1's mask) and the dataset builder (the true mask), which imports it.
    let state = 12345;
    const random = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 20; trial++) {
      const mask = new Uint8Array(20 * 16 * 12);
      for (let blob = 0; blob < 3; blob++) {
        const lo: Vec3 = [Math.floor(random() * 15), Math.floor(random() * 11), Math.floor(random() * 8)];
        box(mask, g, lo, [lo[0] + Math.floor(random() * 5), lo[1] + Math.floor(random() * 5), lo[2] + Math.floor(random() * 4)], 1);
      }
      const largest = largestMaskComponent(mask, g.dims);
      const only = new Uint8Array(mask.length);
      for (const n of largest) only[n] = 1;
      // The same centre from the largest component alone, and it is that component's box centre.
      expect(roiCentreFromMask(mask, g), `trial ${trial}`).to.deep.equal(roiCentreFromMask(only, g));
      const idx = Array.from(largest, (n) => [n % 20, Math.floor(n / 20) % 16, Math.floor(n / 320)]);
      const lo = [0, 1, 2].map((a) => Math.min(...idx.map((v) => v[a])));
      const hi = [0, 1, 2].map((a) => Math.max(...idx.map((v) => v[a])));
      expect(roiCentreFromMask(mask, g), `trial ${trial}`).to.deep.equal(indexToPatient(g, (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2));
    }
  });

  it('stage 1: threshold, largest component, its volume in ml and its box centre', () => {
    const p = grid(g);
    box(p.data, g, [4, 4, 4], [7, 7, 5], 0.8);
    box(p.data, g, [12, 12, 9], [12, 12, 9], 0.9);
    const found = pancreasFromProbability(p, 0.5)!;
    expect(found.voxels).to.equal(32);
    expect(found.volumeMl).to.be.closeTo((32 * 64) / 1000, 1e-9);
    expect(found.mask[at(g, 12, 12, 9)]).to.equal(0);
    expect(found.roiCentreMm).to.deep.equal(indexToPatient(g, 5.5, 5.5, 4.5));
    expect(pancreasFromProbability(p, 0.95)).to.equal(undefined);
  });

  it('resamples a mask by nearest voxel and unites it with the stage-2 pancreas channel', () => {
    const coarse = geometry([4, 4, 4], 4);
    const mask = new Uint8Array(64);
    mask[at(coarse, 1, 1, 1)] = 1; // covers 2..6 mm on each axis
    const fine = geometry([8, 8, 8], 2);
    const resampled = resampleMaskNearest(mask, coarse, fine);
    expect(resampled[at(fine, 2, 2, 2)]).to.equal(1); // 4 mm
    expect(resampled[at(fine, 0, 2, 2)]).to.equal(0); // 0 mm: coarse voxel 0
    expect(resampled[at(fine, 4, 2, 2)]).to.equal(0); // 8 mm: coarse voxel 2
    const channel = grid(fine);
    channel.data[at(fine, 7, 7, 7)] = 0.6;
    const union = roiPancreasMask(channel, { mask, geometry: coarse });
    expect(union[at(fine, 7, 7, 7)]).to.equal(1);
    expect(union[at(fine, 2, 2, 2)]).to.equal(1);
  });

  it('dilation by a ball of pancreasDilationMm', () => {
    const g2 = geometry([11, 11, 11], 2);
    const mask = new Uint8Array(11 ** 3);
    mask[at(g2, 5, 5, 5)] = 1;
    const test = dilatedMaskTest(mask, g2, 4);
    expect(test(at(g2, 7, 5, 5))).to.be.true; // 4 mm
    expect(test(at(g2, 8, 5, 5))).to.be.false; // 6 mm
    expect(test(at(g2, 6, 6, 5))).to.be.true; // 2.8 mm
    expect(test(at(g2, 7, 7, 5))).to.be.false; // 5.7 mm
  });
});
