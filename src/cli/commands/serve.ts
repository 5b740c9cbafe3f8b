/**
 * `tsr-node serve [--config FILE]`: the listener, the worker and the HTTP API in one process
 * (src/node/tsrNode.ts). Logs go to stderr as JSON lines. SIGTERM or SIGINT stops it gracefully:
 * running jobs finish (or go back to the queue after worker.stopTimeoutMs); a second signal
 * exits at once.
 */
import { loadConfig } from '../../config/load';
import { createLogger } from '../../logging/logger';
import { startNode } from '../../node/tsrNode';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node serve [--config FILE]

Runs the node: follows Orthanc (feed.mode: poll, webhook or both), analyses studies and serves
the HTTP API, the status page and the OHIF viewer (api.host:api.port, 127.0.0.1:8787 by default).

Options:
  --config FILE   JSON configuration (else TSR_CONFIG); TSR_* variables override it.
                  Every field: docs/configuration.md

Stop with SIGTERM or Ctrl-C: running jobs finish or go back to the queue.`;

export function parseConfigOption(argv: string[]): { configFile?: string; rest: string[] } {
  const rest: string[] = [];
  let configFile: string | undefined;
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (a === '--config') {
      configFile = argv[++n];
      if (configFile === undefined) throw new Error('--config needs a file');
    } else if (a.startsWith('--config=')) configFile = a.slice('--config='.length);
    else rest.push(a);
  }
  return { ...(configFile !== undefined ? { configFile } : {}), rest };
}

export const command: Command = {
  summary: 'listener, worker and HTTP API in one process',
  usage: USAGE,
  async run(argv) {
    let configFile: string | undefined;
    try {
      const parsed = parseConfigOption(argv);
      if (parsed.rest.length > 0) throw new Error(`unknown option ${parsed.rest[0]}`);
      configFile = parsed.configFile;
    } catch (err) {
      console.error(`tsr-node serve: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    let node;
    try {
      const config = loadConfig(configFile !== undefined ? { file: configFile } : {});
      node = await startNode({ config, logger: createLogger({ level: config.logLevel }) });
    } catch (err) {
      const e = err as Error;
      console.error(`tsr-node serve: cannot start: ${e.name === 'ConfigError' ? '' : `${e.name}: `}${e.message}`);
      return 1;
    }
    const running = node;
    console.error(
      `tsr-node serving on ${running.url} (status page ${running.url}/, viewer ${running.url}/viewer)` +
        (running.tokenFile ? `\nAPI token: in ${running.tokenFile} (use it as "Authorization: Bearer <token>" or to log in to the status page)` : ''),
    );
    return new Promise<number>((resolve) => {
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          console.error(`tsr-node serve: ${signal} again; exiting now`);
          process.exit(130);
        }
        console.error(`tsr-node serve: ${signal}: stopping (running jobs finish or go back to the queue; ${signal} again to exit now)`);
        running.stop().then(
          () => resolve(0),
          (err: unknown) => {
            console.error(`tsr-node serve: stop failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
