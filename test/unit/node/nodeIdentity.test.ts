/**
 * Who a node is across restarts (src/node/nodeIdentity.ts): the node id survives in the data
 * directory, each start is a new life, and a data directory used by another live process is not
 * taken for a dead earlier life.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../../src/logging/logger';
import { NODE_LIFE_FILE, readOrCreateNodeId, startNodeLife } from '../../../src/node/nodeIdentity';

describe('node/nodeIdentity: a node knows its earlier lives', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-node-id-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one node id in the data directory; each start is a new life with its own owner', () => {
    const first = startNodeLife(dir, silentLogger);
    const second = startNodeLife(dir, silentLogger);
    expect(first.nodeId).to.equal(second.nodeId).and.equal(readOrCreateNodeId(dir));
    expect(first.bootId).to.not.equal(second.bootId);
    expect(second.owner).to.equal(`${second.nodeId}/${second.bootId}`);
    expect(second.owner.startsWith(second.ownerPrefix)).to.equal(true);
    expect(first.owner.startsWith(second.ownerPrefix), 'the earlier life is recognised by the prefix').to.equal(true);
    expect(second.mayFreeEarlierLives, 'the earlier life was this very process').to.equal(true);
  });

  it('frees nothing when another live process on this host uses the data directory', () => {
    // The test runner's parent process is alive and is not this process.
    writeFileSync(path.join(dir, NODE_LIFE_FILE), JSON.stringify({ host: os.hostname(), pid: process.ppid, bootId: 'other' }));
    expect(startNodeLife(dir, silentLogger).mayFreeEarlierLives).to.equal(false);
    expect(JSON.parse(readFileSync(path.join(dir, NODE_LIFE_FILE), 'utf8'))).to.include({ bootId: 'other' });
  });

  it('frees the jobs of a dead earlier life, or of one on another host name (a new container on the same volume)', () => {
    writeFileSync(path.join(dir, NODE_LIFE_FILE), JSON.stringify({ host: os.hostname(), pid: 2 ** 22 + 17, bootId: 'dead' }));
    expect(startNodeLife(dir, silentLogger).mayFreeEarlierLives).to.equal(true);
    writeFileSync(path.join(dir, NODE_LIFE_FILE), JSON.stringify({ host: 'old-container', pid: process.ppid, bootId: 'gone' }));
    expect(startNodeLife(dir, silentLogger).mayFreeEarlierLives).to.equal(true);
  });

  it('refuses a node id file that holds something else', () => {
    writeFileSync(path.join(dir, 'node-id'), 'not a/valid id\n');
    expect(() => readOrCreateNodeId(dir)).to.throw(/not a node id/);
  });
});
