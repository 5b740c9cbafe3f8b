import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(inspect: not built yet)',
  usage: 'tsr-node inspect: not built yet',
  run: () => {
    console.error('tsr-node inspect is not built yet');
    return Promise.resolve(2);
  },
};
