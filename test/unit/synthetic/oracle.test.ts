/**
 * The oracle and the latent biology: the designed AUC ranges on 500-patient cohorts (no images
 * needed), the class prior, overlap of the classes on every single parameter, and the label
 * definition.
 */
import { expect } from 'chai';
import { bestThresholdBalancedAccuracy, rocAuc } from '../../../src/statistics/roc';
import { cohortStudySeed, studyBiology } from '../../../src/synthetic';
import { drawTumourBiology, labelOf, STROMA_THRESHOLD, type TumourBiology } from '../../../src/synthetic/biology';
import { oracleFromTpc, oracleScores, priorProbabilityHigh } from '../../../src/synthetic/oracle';
import { oracleReport, ORACLE_DESIGN_RANGES } from '../../../src/synthetic/oracleReport';
import { SeededRandom } from '../../../src/synthetic/random';

function cohort(seed: number, count: number): TumourBiology[] {
  return Array.from({ length: count }, (_, i) => studyBiology(cohortStudySeed(seed, i)));
}

describe('synthetic: tumour biology and oracle', () => {
  it('labels by the stated definition: low TSR = stroma fraction >= 0.5', () => {
    expect(STROMA_THRESHOLD).to.equal(0.5);
    expect(labelOf(0.5)).to.equal('low');
    expect(labelOf(0.72)).to.equal('low');
    expect(labelOf(0.4999)).to.equal('high');
  });

  it('has a class prior of about 40% low / 60% high (Meng 2021)', () => {
    expect(priorProbabilityHigh()).to.be.closeTo(0.6, 0.01);
    const biologies = cohort(5000, 4000);
    const high = biologies.filter((b) => b.label === 'high').length / biologies.length;
    expect(high).to.be.closeTo(0.6, 0.03);
  });

  it('meets the designed oracle AUCs on 500-patient cohorts: fused 0.90-0.95, each phase 0.75-0.85', () => {
    // Several cohorts, so that the design (not one lucky draw) is tested.
    for (const seed of [1, 1000, 20000, 777777]) {
      const biologies = cohort(seed, 500);
      const r = oracleReport(biologies.map((b) => ({ label: b.label, oracle: oracleScores(b.enhancement) })));
      expect(r.count).to.equal(500);
      expect(r.auc.fused, `fused, seed ${seed}`).to.be.within(...ORACLE_DESIGN_RANGES.fused);
      expect(r.auc.arterial, `arterial, seed ${seed}`).to.be.within(...ORACLE_DESIGN_RANGES.singlePhase);
      expect(r.auc.venous, `venous, seed ${seed}`).to.be.within(...ORACLE_DESIGN_RANGES.singlePhase);
      expect(r.auc.fused - Math.max(r.auc.arterial, r.auc.venous), `fused gain, seed ${seed}`).to.be.greaterThan(0.05);
    }
  });

  it('no single threshold on any one noise-free parameter separates the classes', () => {
    const biologies = cohort(31337, 1000);
    const positives = biologies.map((b) => b.label === 'high');
    const parameters: Record<string, number[]> = {
      'tumour HU arterial': biologies.map((b) => b.enhancement.tumourHu.arterial),
      'tumour HU venous': biologies.map((b) => b.enhancement.tumourHu.venous),
      'parenchyma HU arterial': biologies.map((b) => b.enhancement.parenchymaHu.arterial),
      'parenchyma HU venous': biologies.map((b) => b.enhancement.parenchymaHu.venous),
      'TPC arterial': biologies.map((b) => b.enhancement.tpcHu.arterial),
      'TPC venous': biologies.map((b) => b.enhancement.tpcHu.venous),
      'tumour enhancement venous - arterial': biologies.map((b) => b.enhancement.tumourHu.venous - b.enhancement.tumourHu.arterial),
      'TPC arterial + venous': biologies.map((b) => b.enhancement.tpcHu.arterial + b.enhancement.tpcHu.venous),
    };
    for (const [name, values] of Object.entries(parameters)) {
      expect(bestThresholdBalancedAccuracy(values, positives), name).to.be.below(0.9);
    }
    // The parenchyma alone carries no information on the label.
    expect(rocAuc(parameters['parenchyma HU arterial'], positives)).to.be.within(0.44, 0.56);
  });

  it('stroma-poor (high TSR) tumours are more conspicuous in the pancreatic phase', () => {
    const biologies = cohort(4242, 1000);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const tpc = (label: string): number => mean(biologies.filter((b) => b.label === label).map((b) => b.enhancement.tpcHu.arterial));
    expect(tpc('high') - tpc('low')).to.be.greaterThan(10);
    // PHANTOM.md: hypo-attenuating tumours TPC 60 +- 25 HU arterial, 40 +- 23 HU venous.
    expect(mean(biologies.map((b) => b.enhancement.tpcHu.arterial))).to.be.within(35, 60);
    expect(mean(biologies.map((b) => b.enhancement.tpcHu.venous))).to.be.within(20, 45);
  });

  it('gives probabilities that move the right way and stay in [0, 1]', () => {
    const conspicuous = oracleFromTpc(70, 50);
    const inconspicuous = oracleFromTpc(15, 5);
    expect(conspicuous.fused).to.be.greaterThan(0.8);
    expect(inconspicuous.fused).to.be.lessThan(0.2);
    for (const p of [conspicuous, inconspicuous, oracleFromTpc(-200, 400), oracleFromTpc(1e4, -1e4)]) {
      for (const v of [p.fused, p.arterial, p.venous]) {
        expect(v).to.be.within(0, 1);
        expect(Number.isNaN(v)).to.equal(false);
      }
    }
  });

  it('forcing the label draws the stroma fraction from that side only and leaves the nuisances alone', () => {
    const low = drawTumourBiology(new SeededRandom(9, 'stroma'), new SeededRandom(9, 'biology'), 'low');
    const high = drawTumourBiology(new SeededRandom(9, 'stroma'), new SeededRandom(9, 'biology'), 'high');
    expect(low.stromaFraction).to.be.at.least(0.5);
    expect(high.stromaFraction).to.be.below(0.5);
    expect(low.latent).to.deep.equal(high.latent);
  });
});
