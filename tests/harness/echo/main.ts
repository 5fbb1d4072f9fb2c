/**
 * Runs the echo backend as a process, configured like upstream echo-basic: POD_NAME, NAMESPACE,
 * SERVICE_NAME, INGRESS_NAME, HTTP_PORT (default 3000), H2C_PORT (default 3001), ECHO_HOST
 * (default 0.0.0.0). Stops on SIGTERM/SIGINT.
 */
import { startEcho } from './server.ts';

const port = (name: string, fallback: number): number => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
};

const echo = await startEcho({
  host: process.env.ECHO_HOST ?? '0.0.0.0',
  httpPort: port('HTTP_PORT', 3000),
  h2cPort: port('H2C_PORT', 3001),
  pod: process.env.POD_NAME ?? '',
  namespace: process.env.NAMESPACE ?? '',
  service: process.env.SERVICE_NAME ?? '',
  ingress: process.env.INGRESS_NAME ?? '',
  log: process.env.ECHO_QUIET === '1' ? () => undefined : undefined,
});
process.stdout.write(`echo listening on ${echo.host}: http ${echo.httpPort}, h2c ${echo.h2cPort}\n`);
const stop = (): void => {
  echo.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
