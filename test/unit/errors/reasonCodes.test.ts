import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AnalysisRefusedError, DATASET_ONLY_REASON_CODES, isReasonCode, isRetryable, REASON_CODES, type ReasonCode } from '../../../src/errors';
import { PROJECT_ROOT } from '../../../src/paths';

const doc = (name: string): string => readFileSync(path.join(PROJECT_ROOT, 'docs', name), 'utf8');

describe('errors/reasonCodes: every refusal code is documented', () => {
  const codes = Object.keys(REASON_CODES) as ReasonCode[];

  it('lists each node code in the admin guide, with its meaning', () => {
    const guide = doc('admin-guide.md');
    const missing = codes.filter((c) => !DATASET_ONLY_REASON_CODES.includes(c) && !guide.includes(`| \`${c}\` | ${REASON_CODES[c]} |`));
    expect(missing, 'codes missing from docs/admin-guide.md').to.deep.equal([]);
  });

  it('lists each dataset-builder code in docs/dataset-builder.md', () => {
    const text = doc('dataset-builder.md');
    expect(DATASET_ONLY_REASON_CODES.filter((c) => !text.includes(`\`${c}\``))).to.deep.equal([]);
  });

  it('codes are kebab-case and recognised; anything else is not', () => {
    for (const c of codes) expect(c, c).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(isReasonCode('single-phase')).to.equal(true);
    expect(isReasonCode('toString'), 'an Object.prototype key').to.equal(false);
    expect(isReasonCode('no-such-code')).to.equal(false);
  });

  it('a refusal is never retried, also after crossing a process boundary as a plain object', () => {
    const err = new AnalysisRefusedError('slice-gap', 'a slice is missing');
    expect(isRetryable(err)).to.equal(false);
    expect(isRetryable(JSON.parse(JSON.stringify({ name: err.name, code: err.code, retryable: err.retryable })))).to.equal(false);
  });
});
