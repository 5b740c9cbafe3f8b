import { expect } from 'chai';
import { Semaphore } from '../../../src/dicomweb/semaphore';

describe('dicomweb/semaphore', () => {
  it('admits at most `permits` holders, in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const task = (name: string, ms: number) =>
      semaphore.run(async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        order.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        active--;
      });
    await Promise.all([task('a', 20), task('b', 5), task('c', 1), task('d', 1)]);
    expect(maxActive).to.equal(2);
    expect(order).to.deep.equal(['start a', 'start b', 'start c', 'start d']);
    expect(semaphore.inUse).to.equal(0);
  });

  it('releases the permit when the task throws, and a double release is harmless', async () => {
    const semaphore = new Semaphore(1);
    let threw = false;
    await semaphore.run(() => Promise.reject(new Error('boom'))).catch(() => (threw = true));
    expect(threw).to.equal(true);
    const release = await semaphore.acquire();
    release();
    release();
    expect(semaphore.inUse).to.equal(0);
    expect(() => new Semaphore(0)).to.throw(RangeError);
  });
});
