import { expect } from 'chai';
import { VolumeBufferPool } from '../../../src/study/volumeBuffers';

describe('VolumeBufferPool', () => {
  it('hands out new memory, then the memory given back', () => {
    const pool = new VolumeBufferPool();
    const a = pool.take(1000);
    expect(a.length).to.equal(1000);
    pool.give(a);
    expect(pool.keptBytes).to.equal(4000);
    const b = pool.take(1000);
    expect(b.buffer).to.equal(a.buffer);
    expect(pool.keptBytes).to.equal(0);
    // Taken memory is not handed out twice.
    expect(pool.take(1000).buffer).not.to.equal(a.buffer);
    pool.release();
  });

  it('reuses the smallest kept buffer that is large enough, as a view of the size asked for', () => {
    const pool = new VolumeBufferPool({ maxKept: 3 });
    const small = pool.take(100);
    const large = pool.take(300);
    pool.give(large);
    pool.give(small);
    const c = pool.take(250);
    expect(c.buffer).to.equal(large.buffer);
    expect(c.length).to.equal(250);
    expect(pool.take(400).buffer).not.to.equal(small.buffer);
    expect(pool.take(50).buffer).to.equal(small.buffer);
    pool.release();
  });

  it('keeps at most maxKept buffers, the largest, and ignores a buffer given twice', () => {
    const pool = new VolumeBufferPool({ maxKept: 2 });
    const [a, b, c] = [pool.take(10), pool.take(30), pool.take(20)];
    pool.give(a);
    pool.give(a);
    expect(pool.keptBytes).to.equal(40);
    pool.give(b);
    pool.give(c);
    expect(pool.keptBytes).to.equal(4 * (30 + 20));
    pool.release();
    expect(pool.keptBytes).to.equal(0);
  });

  it('lets kept memory go after idleReleaseMs without use', async () => {
    const pool = new VolumeBufferPool({ idleReleaseMs: 20 });
    pool.give(pool.take(10));
    expect(pool.keptBytes).to.equal(40);
    await new Promise((r) => setTimeout(r, 60));
    expect(pool.keptBytes).to.equal(0);
  });
});
