/**
 * How tests/run.ts hands the shared components to test files. When a variable is unset,
 * the harness starts a private component for the test file instead.
 */
export const harnessEnv = {
  /** redis://127.0.0.1:<port> of the run's shared redis-server. */
  redisUrl: 'WEIR_TEST_REDIS_URL',
  /** Set instead of redisUrl when the shared redis-server failed to start: the reason. */
  redisError: 'WEIR_TEST_REDIS_ERROR',
  /** Admin kubeconfig of the run's shared control plane. */
  kubeconfig: 'WEIR_TEST_KUBECONFIG',
  /** Set instead of kubeconfig when the shared control plane failed to start: the reason. */
  controlPlaneError: 'WEIR_TEST_CONTROLPLANE_ERROR',
} as const;
