/**
 * The node's entry in the job store's node registry (JobStore.nodeHeartbeat): registered at start,
 * renewed every third of its time to live, marked stopped at a graceful stop. The status page and
 * GET /api/nodes read the registry: which nodes share the store, which follows the change feed,
 * and what each runs. A heartbeat that fails (the store is away) is tried again on the next round;
 * the node is listed as not live meanwhile, and nothing else depends on it.
 */
import os from 'node:os';
import type { JobStore, NodeRegistration } from '../jobs/jobStore';
import type { Logger } from '../logging/logger';
import type { NodeIdentity } from './nodeIdentity';

export interface NodeRegistrationOptions {
  store: JobStore;
  identity: NodeIdentity;
  version: string;
  /** How long the node counts as live after a heartbeat, in ms (worker.leaseMs). */
  ttlMs: number;
  logger: Logger;
}

export interface RegisteredNode {
  registration: NodeRegistration;
  /** Stops the heartbeat and marks this life stopped. */
  stop(): Promise<void>;
}

/** Registers the node (a failure here fails the start: the store was reachable a moment ago) and keeps it registered. */
export async function registerNode(options: NodeRegistrationOptions): Promise<RegisteredNode> {
  const { store, identity, ttlMs, logger } = options;
  const registration: NodeRegistration = { nodeId: identity.nodeId, bootId: identity.bootId, host: os.hostname(), version: options.version };
  await store.nodeHeartbeat(registration, ttlMs);
  let failing = false;
  let beat: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (beat) return;
    beat = store
      .nodeHeartbeat(registration, ttlMs)
      .then(
        () => {
          if (failing) logger.info('node heartbeat recorded again');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) logger.warn('cannot record the node heartbeat in the job store; trying again', { err });
          failing = true;
        },
      )
      .finally(() => {
        beat = undefined;
      });
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    registration,
    stop: async () => {
      clearInterval(timer);
      await beat;
      await store.nodeStopped(identity.nodeId, identity.bootId).catch((err: unknown) => logger.warn('cannot mark the node stopped in the job store', { err }));
    },
  };
}
