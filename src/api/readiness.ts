/**
 * Readiness (GET /readyz): can the node do its work now? Each check is reported on its own, so
 * an administrator sees which one fails:
 * - orthanc: Orthanc answers GET /system with the node's credentials;
 * - models: the models were loaded and verified against their manifests at start;
 * - store: the job store takes a write transaction.
 */
export interface ReadinessCheck {
  ok: boolean;
  detail: string;
  ms: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { orthanc: ReadinessCheck; models: ReadinessCheck; store: ReadinessCheck };
}

export interface ReadinessProbes {
  /** Resolves with a short description (e.g. Orthanc's version); rejects when unreachable. */
  orthanc: () => Promise<string>;
  /** Resolves with a short description of the loaded models; rejects when they are not usable. */
  models: () => Promise<string>;
  /** Resolves when the store is writable. */
  store: () => Promise<string>;
  /** Time limit of each probe, in ms (default 3000). */
  timeoutMs?: number;
}

async function run(probe: () => Promise<string>, timeoutMs: number): Promise<ReadinessCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, detail, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err), ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(probes: ReadinessProbes): Promise<ReadinessReport> {
  const timeoutMs = probes.timeoutMs ?? 3000;
  const [orthanc, models, store] = await Promise.all([run(probes.orthanc, timeoutMs), run(probes.models, timeoutMs), run(probes.store, timeoutMs)]);
  return { ready: orthanc.ok && models.ok && store.ok, checks: { orthanc, models, store } };
}
