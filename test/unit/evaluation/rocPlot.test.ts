import { expect } from 'chai';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import { MODEL_COLOURS, renderRocPlot } from '../../../src/evaluation/rocPlot';
import { rocCurve } from '../../../src/statistics/roc';

function hexToRgb(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

describe('evaluation/rocPlot', () => {
  it('draws a PNG with each model in its colour', async () => {
    const positives = [true, true, false, false, true, false];
    const series = [
      { label: 'fused', points: rocCurve([0.9, 0.8, 0.3, 0.2, 0.7, 0.1], positives), auc: 1, colour: MODEL_COLOURS.fused },
      { label: 'arterial only', points: rocCurve([0.6, 0.4, 0.5, 0.3, 0.7, 0.2], positives), auc: 0.78, colour: MODEL_COLOURS.arterial },
    ];
    const png = renderRocPlot(series, { title: 'ROC', subtitle: 'test', sizePx: 400 });
    expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
    const image = await loadImage(png);
    expect([image.width, image.height]).to.deep.equal([400, 400]);
    const canvas = createCanvas(400, 400);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const pixels = ctx.getImageData(0, 0, 400, 400).data;
    const count = (rgb: [number, number, number]): number => {
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === rgb[0] && pixels[i + 1] === rgb[1] && pixels[i + 2] === rgb[2]) n++;
      return n;
    };
    expect(count(hexToRgb(MODEL_COLOURS.fused))).to.be.above(100);
    expect(count(hexToRgb(MODEL_COLOURS.arterial))).to.be.above(100);
    expect(count(hexToRgb(MODEL_COLOURS.venous))).to.equal(0);
  });
});
