/**
 * A component the tests need is not installed or not built. Tests report it as a failure
 * (never a skip), and the message says what to run.
 */
export class MissingComponentError extends Error {
  override name = 'MissingComponentError';
}

export const setupHint = 'run `bash hack/setup.sh` (or `bash .ci/run`, which also installs everything else)';
