import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(demo: not built yet)',
  usage: 'tsr-node demo: not built yet',
  run: () => {
    console.error('tsr-node demo is not built yet');
    return Promise.resolve(2);
  },
};
