/**
 * `tsr-node analyze <StudyInstanceUID> [--no-store]`: one study through the whole pipeline, the
 * result printed as JSON on stdout. With --no-store (or results.store false in the configuration)
 * nothing is written to the PACS.
 */
import { loadConfig } from '../../config';
import { createDicomWebClient } from '../../dicomweb/client';
import { AnalysisRefusedError, ConfigError } from '../../errors';
import { releaseModels } from '../../inference/models';
import { loadModelSet } from '../../inference/modelSet';
import { toPrintable } from '../../inference/result';
import { createLogger } from '../../logging/logger';
import { analyseStudyPipeline } from '../../pipeline/analyseStudy';
import { nodeDevice } from '../../results';
import { parseCommandArgs, studyUidArgument } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node analyze <StudyInstanceUID> [--no-store] [--config FILE]

Runs one study through discovery, phase selection, retrieval, localisation, cropping and
classification, then (unless --no-store) stores the SR and the overlay SC in the PACS.
Prints the result as JSON on stdout; logs go to stderr.

Exit codes: 0 analysed; 3 the study cannot be analysed (the reason code is printed);
1 any other failure (PACS unreachable, models invalid, ...); 2 wrong usage.

Connection and models come from the configuration (--config FILE or TSR_CONFIG, and TSR_*
variables such as TSR_ORTHANC_URL, TSR_ORTHANC_USERNAME, TSR_ORTHANC_PASSWORD, TSR_MODELS_DIR).
`;

export const command: Command = {
  summary: 'run one study through the pipeline and print the result (analyze <StudyInstanceUID> [--no-store])',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs({ args: argv, allowPositionals: true, options: { 'no-store': { type: 'boolean', default: false }, config: { type: 'string' } } });
    const studyInstanceUID = studyUidArgument(parsed.positionals);
    let config;
    try {
      config = loadConfig(parsed.values.config ? { file: parsed.values.config } : {});
    } catch (err) {
      console.error(`tsr-node analyze: ${(err as Error).message}`);
      return 1;
    }
    const logger = createLogger({ level: config.logLevel }).child({ studyInstanceUID });
    const store = config.results.store && !parsed.values['no-store'];
    let models;
    try {
      models = await loadModelSet(config.models);
    } catch (err) {
      console.error(`tsr-node analyze: ${err instanceof ConfigError ? err.message : String(err)}`);
      return 1;
    }
    const client = createDicomWebClient(config.orthanc, { logger });
    try {
      // The node's one pipeline composition (src/pipeline/analyseStudy.ts), as the worker runs it.
      const outcome = await analyseStudyPipeline(
        {
          dicomWeb: client,
          models,
          rules: config.selection,
          results: {
            store,
            srSeriesDescription: config.results.srSeriesDescription,
            scSeriesDescription: config.results.scSeriesDescription,
            device: nodeDevice(config.results.deviceName, config.results.institutionName),
          },
          logger,
        },
        studyInstanceUID,
        { store },
      );
      const printable: Record<string, unknown> = {
        ...toPrintable(outcome.analysis),
        stored: outcome.stored
          ? {
              sr: outcome.results.sr.sopInstanceUID,
              sc: outcome.results.sc.sopInstanceUID,
              seg: outcome.results.seg.sopInstanceUID,
              sentNow: outcome.stored.stored,
              alreadyPresent: outcome.stored.alreadyPresent,
            }
          : false,
        pipelineTimingsMs: outcome.timingsMs,
      };
      console.log(JSON.stringify(printable, null, 2));
      return 0;
    } catch (err) {
      if (err instanceof AnalysisRefusedError) {
        console.log(JSON.stringify({ studyInstanceUID, analyzed: false, code: err.code, reason: err.message, details: err.details }, null, 2));
        return 3;
      }
      console.error(`tsr-node analyze: ${(err as Error).name}: ${(err as Error).message}`);
      return 1;
    } finally {
      client.close();
      await releaseModels(models);
    }
  },
};
