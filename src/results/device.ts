/**
 * Who made the results: the node as a device (TID 1004 device observer, General Equipment,
 * Contributing Equipment with IHE AIR's "Processing Algorithm" purpose).
 */
import { PACKAGE_VERSION } from '../paths';
import { uuidDerivedUid } from './uids';

export interface DeviceIdentity {
  /** Station Name / Device Observer Name (SH, at most 16 characters). */
  name: string;
  /** Device UID / Device Observer UID: derived from the name, stable across restarts. */
  uid: string;
  manufacturer: string;
  modelName: string;
  softwareVersion: string;
  /** Device Serial Number (required by Enhanced General Equipment); the device UID's digits tail. */
  serialNumber: string;
  institutionName?: string;
}

export const MANUFACTURER = 'tsr-node project';
export const MODEL_NAME = 'tsr-node';

export function nodeDevice(name: string, institutionName?: string): DeviceIdentity {
  if (name.length === 0 || name.length > 16) throw new RangeError(`device name: 1 to 16 characters (SH), got ${JSON.stringify(name)}`);
  const uid = uuidDerivedUid(`tsr-node/device/${name}`);
  return {
    name,
    uid,
    manufacturer: MANUFACTURER,
    modelName: MODEL_NAME,
    softwareVersion: PACKAGE_VERSION,
    serialNumber: uid.slice(-16),
    ...(institutionName ? { institutionName } : {}),
  };
}
