/**
 * The generator's version: written into every synthetic object (SoftwareVersions) and into the
 * ground truth, so a dataset says which generator made it.
 */
import { PACKAGE_VERSION } from '../paths';

export const GENERATOR_VERSION = `tsr-node-synthetic/1 (tsr-node ${PACKAGE_VERSION})`;
