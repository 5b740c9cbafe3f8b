import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(analyze: not built yet)',
  usage: 'tsr-node analyze: not built yet',
  run: () => {
    console.error('tsr-node analyze is not built yet');
    return Promise.resolve(2);
  },
};
