import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(dataset: not built yet)',
  usage: 'tsr-node dataset: not built yet',
  run: () => {
    console.error('tsr-node dataset is not built yet');
    return Promise.resolve(2);
  },
};
