import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(serve: not built yet)',
  usage: 'tsr-node serve: not built yet',
  run: () => {
    console.error('tsr-node serve is not built yet');
    return Promise.resolve(2);
  },
};
