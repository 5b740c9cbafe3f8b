import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeNpy, encodeNpy } from '../../../src/dataset/npy';

// Debian's python3-numpy (a dependency of python3-torch, which the training kit needs).
const PYTHON = '/usr/bin/python3';

describe('dataset/npy', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-npy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a header that starts the data on a 64-byte boundary and round-trips', () => {
    const data = new Float32Array([1.5, -2, 3.25, Math.PI, -0, 1e-30]);
    const bytes = encodeNpy(data, [2, 3]);
    expect(bytes.subarray(0, 8).toString('latin1')).to.equal('\x93NUMPY\x01\x00');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).to.equal(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).to.match(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const back = decodeNpy(bytes);
    expect(back.shape).to.deep.equal([2, 3]);
    expect(Array.from(back.data)).to.deep.equal(Array.from(data));
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeNpy(new Uint8Array(5), [2, 3])).to.throw(RangeError, /holds 6 values/);
  });

  it('is read by numpy exactly (float32 [C, H, W] and uint8 [Z, Y, X]), and reads what numpy writes', () => {
    const f = new Float32Array(3 * 4 * 5).map((_, n) => n * 0.5 - 7);
    const m = new Uint8Array(2 * 3 * 4).map((_, n) => n % 2);
    writeFileSync(path.join(dir, 'f.npy'), encodeNpy(f, [3, 4, 5]));
    writeFileSync(path.join(dir, 'm.npy'), encodeNpy(m, [2, 3, 4]));
    writeFileSync(path.join(dir, 'v.npy'), encodeNpy(new Float32Array([1, 2, 3]), [3]));
    const script = [
      'import numpy as np, sys',
      'd = sys.argv[1]',
      "f = np.load(d + '/f.npy'); m = np.load(d + '/m.npy'); v = np.load(d + '/v.npy')",
      "assert f.dtype == np.dtype('<f4') and f.shape == (3, 4, 5) and f.flags['C_CONTIGUOUS'], (f.dtype, f.shape)",
      'assert (f.reshape(-1) == np.arange(60, dtype=np.float32) * 0.5 - 7).all()',
      'assert m.dtype == np.uint8 and m.shape == (2, 3, 4) and (m.reshape(-1) == np.arange(24) % 2).all()',
      'assert v.shape == (3,)',
      "np.save(d + '/from_numpy.npy', (np.arange(24, dtype=np.float32) / 3).reshape(2, 3, 4))",
      "print('ok')",
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' });
    expect(r.stderr).to.equal('');
    expect(r.stdout.trim()).to.equal('ok');
    const fromNumpy = decodeNpy(readFileSync(path.join(dir, 'from_numpy.npy')));
    expect(fromNumpy.shape).to.deep.equal([2, 3, 4]);
    expect(fromNumpy.data[23]).to.equal(Math.fround(23 / 3));
  });
});
