import { expect } from 'chai';
import { heatColour, renderTsrOverlay, type OverlayRendering } from '../../../src/results/sc/overlayImage';
import { makeTsrFixture } from './tsrFixture';

const now = new Date('2025-03-01T10:20:30Z');
const pixel = (img: OverlayRendering, x: number, y: number): [number, number, number] => {
  const i = 3 * (Math.round(y) * img.columns + Math.round(x));
  return [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]] as [number, number, number];
};

describe('results/sc/overlayImage: the overlay picture', () => {
  const fixture = makeTsrFixture({ size: 64 });
  const img = renderTsrOverlay({ analysis: fixture.analysis, now, panelSize: 256 });

  it('maps saliency to a blue-to-red heat scale', () => {
    expect(heatColour(0)).to.deep.equal([0, 0, 255]);
    expect(heatColour(0.5)).to.deep.equal([0, 255, 0]);
    expect(heatColour(1)).to.deep.equal([255, 0, 0]);
    expect(heatColour(7)).to.deep.equal([255, 0, 0]);
  });

  it('puts venous left and arterial right, each scaled to its panel', () => {
    expect(img.panels.map((p) => p.phase)).to.deep.equal(['venous', 'arterial']);
    expect(img.panels[1].x).to.be.greaterThan(img.panels[0].x + 200);
    expect(img.panels[0].scaleX).to.be.closeTo(256 / 64, 1e-9);
    expect(img.rgb.length).to.equal(img.columns * img.rows * 3);
  });

  it('paints the tumour hot (red) at its centre and the outline green, in both panels', () => {
    for (const panel of img.panels) {
      const f = fixture.analysis[panel.phase];
      const [c, r] = f.tumourCentrePixel;
      const [red, green, blue] = pixel(img, panel.x + (c + 0.5) * panel.scaleX, panel.y + (r + 0.5) * panel.scaleY);
      expect(red, `${panel.phase} centre red`).to.be.greaterThan(green + 60);
      expect(red).to.be.greaterThan(blue + 60);
      const [oc, or] = f.outlinePixels[0];
      const [, og] = pixel(img, panel.x + (oc + 0.5) * panel.scaleX, panel.y + (or + 0.5) * panel.scaleY);
      expect(og, `${panel.phase} outline green`).to.be.greaterThan(200);
    }
  });

  it('leaves the body grey where there is no saliency (soft-tissue window)', () => {
    const p = img.panels[0];
    const [r, g, b] = pixel(img, p.x + 10 * p.scaleX, p.y + 32 * p.scaleY); // inside the body ellipse, far from the tumour
    expect(r).to.equal(g);
    expect(g).to.equal(b);
    expect(r).to.be.within(120, 150); // 40 HU in W400 L40 is mid grey (~128)
  });

  it('writes text into the band (many bright pixels), and it differs between High and Low', () => {
    const bright = (im: OverlayRendering): number => {
      let n = 0;
      for (let y = im.textBandY; y < im.rows; y++) for (let x = 0; x < im.columns / 2; x++) if (pixel(im, x, y)[0] > 200) n++;
      return n;
    };
    expect(bright(img)).to.be.greaterThan(500);
    const low = renderTsrOverlay({ analysis: makeTsrFixture({ size: 64, label: 'low' }).analysis, now, panelSize: 256 });
    expect(Buffer.from(low.rgb.subarray(low.textBandY * low.columns * 3)).equals(Buffer.from(img.rgb.subarray(img.textBandY * img.columns * 3)))).to.equal(false);
  });

  it('draws CJK text with the Noto CJK fallback (not the same glyph box for different characters)', () => {
    const a = makeTsrFixture({ size: 64 }).analysis;
    const b = makeTsrFixture({ size: 64 }).analysis;
    a.classifier.name = '山山山山';
    b.classifier.name = '川川川川';
    const ia = renderTsrOverlay({ analysis: a, now, panelSize: 256 });
    const ib = renderTsrOverlay({ analysis: b, now, panelSize: 256 });
    expect(Buffer.from(ia.rgb).equals(Buffer.from(ib.rgb))).to.equal(false);
  });

  it('is deterministic, and refuses a saliency map off the key slice grid', () => {
    const again = renderTsrOverlay({ analysis: fixture.analysis, now, panelSize: 256 });
    expect(Buffer.from(again.rgb).equals(Buffer.from(img.rgb))).to.equal(true);
    const bad = makeTsrFixture({ size: 64 }).analysis;
    bad.arterial.saliency = { columns: 10, rows: 10, data: new Float32Array(100) };
    expect(() => renderTsrOverlay({ analysis: bad, now })).to.throw(/arterial\.saliency/);
  });
});
