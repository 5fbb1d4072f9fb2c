/**
 * Standalone mode: the whole pipeline in one process with no cluster and no Redis.
 *   file provider → store → translator → publisher → memory bus → in-process dataplane per Gateway
 *                                     └→ statuses printed readably
 */
import { pino } from 'pino';
import { FileProvider } from '../provider/file/provider.ts';
import { ConfigPublisher } from '../publisher/publisher.ts';
import { Reconciler, type ReconcilerLog } from '../reconciler.ts';
import { LogStatusSink } from '../status/log-sink.ts';
import { ObjectStore } from '../store/object-store.ts';
import { translate } from '../translator/index.ts';
import { InProcessDataplane } from './inprocess-dataplane.ts';
import { tracingFromEnv, type Tracing } from '../../dataplane/telemetry/tracing.ts';
import { ConfigTraces } from '../telemetry/config-trace.ts';
import { MemoryBus } from './memory-bus.ts';

/** Standalone mode has one publisher for the life of the process: one term. */
const STANDALONE_EPOCH = 1;

export interface StandaloneOptions {
  readonly paths: readonly string[];
  /** Where readable output (statuses, warnings) goes. */
  readonly print: (text: string) => void;
  /** Address the Gateways' listener ports bind to (default 127.0.0.1). */
  readonly listenHost?: string;
  readonly logLevel?: string;
  /** Config-change and request spans; default: as `OTEL_*` say (off without an OTLP endpoint). */
  readonly tracing?: Tracing;
}

export interface Standalone {
  readonly store: ObjectStore;
  readonly reconciler: Reconciler;
  stop(): Promise<void>;
}

export async function startStandalone(options: StandaloneOptions): Promise<Standalone> {
  const dataplaneLog = pino({ level: options.logLevel ?? 'warn', base: { component: 'dataplane' } });
  const store = new ObjectStore();
  const tracing = options.tracing ?? tracingFromEnv(process.env, { serviceName: 'weir-standalone', attributes: { 'service.instance.id': 'standalone' } });
  const bus = new MemoryBus({
    dataplane: (gateway, source) => new InProcessDataplane({ gateway, source, log: dataplaneLog, tracing, ...(options.listenHost === undefined ? {} : { listenHost: options.listenHost }) }),
    onNotApplied: (gateway, reason) => { options.print(`! the dataplane of Gateway ${gateway} did not apply its config: ${reason}\n`); },
  });
  const publisher = new ConfigPublisher(bus);
  publisher.startTerm(STANDALONE_EPOCH);
  const log: ReconcilerLog = {
    info: (fields, message) => {
      const changed = fields.changed as string[] | undefined;
      if (changed !== undefined && changed.length > 0) options.print(`· applied new config to ${changed.join(', ')}\n`);
      else if (message !== 'published dataplane configs') options.print(`· ${message}\n`);
    },
    warn: (fields, message) => { options.print(`! ${message}${fields.err instanceof Error ? `: ${fields.err.message}` : ''}\n`); },
    debug: () => undefined,
  };
  const reconciler = new Reconciler({
    store, translate, sink: publisher, acks: bus, statuses: new LogStatusSink(options.print), log, pendingPollMs: 200, idlePollMs: 60_000,
    traces: tracing === undefined ? undefined : new ConfigTraces(tracing.tracer),
  });
  const provider = new FileProvider({
    paths: options.paths,
    store,
    onWarning: (message) => { options.print(`! ${message}\n`); },
  });
  await provider.start();
  reconciler.start();
  await reconciler.idle();
  return {
    store,
    reconciler,
    async stop() {
      provider.stop();
      await reconciler.stop();
      await bus.stop();
      await tracing?.shutdown();
    },
  };
}
