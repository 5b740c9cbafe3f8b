/**
 * `tsr-node evaluate`'s per-study path with the tiny cascade pair (test/fixtures/tiny-models:
 * tsr-pancreas-tiny and tsr-localizer-roi-tiny; not trained, so the figures mean nothing): every
 * study records the pancreas Dice against the generator's true pancreas, and, whenever stage 2
 * gave a candidate (refused or not), the six features and whether the candidate lay in the tumour.
 */
import { expect } from 'chai';
import path from 'node:path';
import { evaluatePrepared, loadEvaluationModels, prepareSeed, type EvaluationModels } from '../../src/evaluation/evaluationCase';
import { releaseModels } from '../../src/inference/models';
import { LOCALISATION_FEATURES } from '../../src/inference/manifest';

const TINY_MODELS = path.resolve(__dirname, '../fixtures/tiny-models');

describe('evaluate: the two-stage localiser per study (tiny cascade pair)', function () {
  this.timeout(180_000);
  let models: EvaluationModels;
  before(async () => {
    models = await loadEvaluationModels(
      { dir: TINY_MODELS, fused: 'tsr-clip-fusion', arterial: 'tsr-clip-arterial', venous: 'tsr-clip-venous', localizer: 'tsr-localizer-roi-tiny', pancreas: 'tsr-pancreas-tiny' },
      { intraOpThreads: 1, executionProvider: 'cpu' },
    );
  });
  after(async () => releaseModels({ ...models }));

  it('loads the pancreas model the localiser names', () => {
    expect(models.pancreas?.identity.name).to.equal('tsr-pancreas-tiny');
  });

  it('records pancreas Dice, tumour Dice, the features and insideTumour, and the refusal code', async () => {
    const seen = { candidates: 0, refused: 0 };
    for (const seed of [1000000, 1000001, 1000002]) {
      const prepared = await prepareSeed(seed, { columns: 64, slices: 20 });
      expect(prepared.options).to.include({ seed, extras: 'none', columns: 64, slices: 20 });
      const c = await evaluatePrepared(models, prepared);
      expect(c.cascade, `seed ${seed}`).to.not.equal(undefined);
      expect(c.cascade!.pancreasDice).to.be.within(0, 1);
      if (c.cascade!.tumourDice !== undefined) expect(c.cascade!.tumourDice).to.be.within(0, 1);
      if (!c.analysed) {
        seen.refused++;
        expect(c.refusalCode).to.equal(c.refusal?.code);
        expect(c.refusalCode).to.be.oneOf(['pancreas-not-found', 'tumour-not-found', 'finding-outside-pancreas', 'phases-disagree', 'tumour-not-localised', 'tumour-outside-arterial-volume']);
      }
      if (c.localisation?.features) {
        seen.candidates++;
        expect(Object.keys(c.localisation.features).sort()).to.deep.equal([...LOCALISATION_FEATURES].sort());
        expect(c.localisation.insideTumour).to.be.a('boolean');
        if (!c.analysed) expect(c.localisation.venousHit).to.equal(false);
      }
    }
    expect(seen.candidates + seen.refused).to.be.greaterThan(0);
  });
});
