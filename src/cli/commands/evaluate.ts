import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(evaluate: not built yet)',
  usage: 'tsr-node evaluate: not built yet',
  run: () => {
    console.error('tsr-node evaluate is not built yet');
    return Promise.resolve(2);
  },
};
