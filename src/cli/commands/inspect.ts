/**
 * `tsr-node inspect <StudyInstanceUID>`: which series the node would analyse, and why, as JSON on
 * stdout, for administrators debugging routing. No inference, nothing written to the PACS.
 * Logs go to stderr, so stdout is the JSON alone.
 *
 * Exit codes: 0 when the study could be inspected (analyzable or not), 1 when the PACS could not
 * be queried (connection, credentials, HTTP errors), 2 for usage or configuration errors.
 */
import { loadConfig } from '../../config';
import { createDicomWebClient } from '../../dicomweb/client';
import { ConfigError } from '../../errors';
import { createLogger } from '../../logging/logger';
import { inspectReport, selectStudyPhases } from '../../study/studySelection';
import { parseCommandArgs, studyUidArgument } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node inspect <StudyInstanceUID> [--config FILE] [--no-image-evidence] [--compact]

Shows how the node would choose the pancreatic/arterial and portal-venous series of a study:
QIDO-RS and WADO-RS metadata, phase selection, and (when metadata cannot decide) image evidence
from a few instances. Prints JSON: studyInstanceUID, analyzable, reasonCode and reason (when not
analyzable), arterial and venous ({seriesInstanceUID, seriesDescription, score, why} or null),
candidates (every series, with what passed and failed) and imageEvidence.

Connection (environment, or --config FILE / TSR_CONFIG):
  TSR_ORTHANC_URL        Orthanc's REST root (default http://127.0.0.1:8042)
  TSR_DICOMWEB_URL       DICOMweb root (default: TSR_ORTHANC_URL + /dicom-web)
  TSR_ORTHANC_USERNAME, TSR_ORTHANC_PASSWORD (or TSR_ORTHANC_BEARER_TOKEN)
  TSR_DATA_DIR           the node's data folder (not written by inspect)

Options:
  --no-image-evidence    decide from metadata only (no instances fetched)
  --compact              one-line JSON

Exit codes: 0 inspected (even if not analyzable), 1 the PACS could not be queried, 2 usage or configuration.`;

export const command: Command = {
  summary: 'show which series the node would analyse for a study, and why (JSON)',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, 'no-image-evidence': { type: 'boolean' }, compact: { type: 'boolean' } },
    });
    const studyInstanceUID = studyUidArgument(parsed.positionals);
    let config;
    try {
      config = loadConfig(parsed.values.config !== undefined ? { file: parsed.values.config } : {});
    } catch (err) {
      console.error(`tsr-node inspect: ${(err as Error).message}`);
      return 2;
    }
    const rules = parsed.values['no-image-evidence'] ? { ...config.selection, imageEvidence: { ...config.selection.imageEvidence, enabled: false } } : config.selection;
    const logger = createLogger({ level: config.logLevel });
    let client;
    try {
      client = createDicomWebClient(config.orthanc, { logger });
    } catch (err) {
      console.error(`tsr-node inspect: ${(err as Error).message}`);
      return err instanceof ConfigError ? 2 : 1;
    }
    try {
      const selection = await selectStudyPhases(client, studyInstanceUID, rules, { logger });
      const report = inspectReport(selection);
      console.log(parsed.values.compact ? JSON.stringify(report) : JSON.stringify(report, null, 2));
      return 0;
    } catch (err) {
      const e = err as Error;
      console.error(`tsr-node inspect: cannot inspect study ${studyInstanceUID} at ${config.orthanc.dicomWebUrl ?? config.orthanc.url}: ${e.name}: ${e.message}`);
      return 1;
    } finally {
      client.close();
    }
  },
};
