import type { Command } from '../command';

// PLACEHOLDER until the feature lands; it fails loudly rather than pretending to work.
export const command: Command = {
  summary: '(synth: not built yet)',
  usage: 'tsr-node synth: not built yet',
  run: () => {
    console.error('tsr-node synth is not built yet');
    return Promise.resolve(2);
  },
};
