/** Test helpers: the AnalysisRefusedError a call must end with (the test fails if it does not). */
import { expect } from 'chai';
import { AnalysisRefusedError } from '../../src/errors';

/** Awaits the promise (or calls the function and awaits its result) and returns its refusal. */
export async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<AnalysisRefusedError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(AnalysisRefusedError);
    return err as AnalysisRefusedError;
  }
  throw new Error('expected an AnalysisRefusedError');
}

/** The same for a synchronous call. */
export function refusalSync(fn: () => unknown): AnalysisRefusedError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(AnalysisRefusedError);
    return err as AnalysisRefusedError;
  }
  throw new Error('expected an AnalysisRefusedError');
}
