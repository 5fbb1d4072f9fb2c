/**
 * Compile-then-swap. A new config is compiled off to the side while the current one keeps
 * serving; its new ports are opened; then one reference assignment makes it current. Requests
 * already running keep the config object they started with. Ports and upstream pools the new
 * config no longer uses are drained and closed afterwards.
 */
import type { PublishedConfig } from '../api-types/dataplane-config.ts';
import { compileConfig, type CompiledConfig } from './compile.ts';
import { compileDatagramPorts } from './datagram/routes.ts';
import type { DatagramListenerSet } from './datagram/server.ts';
import type { ListenerSet } from './listeners.ts';
import { compileStreamPorts } from './stream/routes.ts';
import type { StreamListenerSet } from './stream/server.ts';
import { SecureContextCache } from './tls/certificates.ts';
import type { ConfigSource } from './proxy.ts';
import type { Logger } from './telemetry/log.ts';
import type { DataplaneMetrics } from './telemetry/metrics.ts';
import type { UpstreamRegistry } from './upstreams.ts';

export interface RuntimeOptions {
  upstreams: UpstreamRegistry;
  metrics: DataplaneMetrics;
  listeners: ListenerSet;
  /** TLS (passthrough/terminate) and TCP ports; see stream/server.ts. */
  streams?: StreamListenerSet;
  /** UDP ports; see datagram/server.ts. */
  datagrams?: DatagramListenerSet;
  log: Logger;
  /** Called right after a config became current. */
  onSwap?: (compiled: CompiledConfig) => void;
}

export class ConfigRuntime implements ConfigSource {
  current: CompiledConfig | undefined;
  private readonly options: RuntimeOptions;
  private readonly secureContexts = new SecureContextCache();

  constructor(options: RuntimeOptions) {
    this.options = options;
  }

  /**
   * Compiles and swaps in `published`; throws (keeping the current config) when it cannot.
   * `progress.compiled()` marks the end of compiling (what follows opens ports and swaps).
   */
  async apply(published: PublishedConfig, progress?: { compiled(): void }): Promise<CompiledConfig> {
    const { upstreams, metrics, listeners, log } = this.options;
    const started = performance.now();
    let compiled: CompiledConfig;
    try {
      compiled = await compileConfig(published, { upstreams, metrics, secureContexts: this.secureContexts });
      const streamPorts = compileStreamPorts(published.config, this.secureContexts);
      // A port number moving from HTTP(S) to TLS/TCP listeners is released before the stream set binds it.
      await listeners.release(streamPorts.keys());
      // TLS/TCP ports: opened, re-routed or closed in one step (connections in progress keep their
      // backend); a port moving the other way is released here while the HTTP(S) set waits to bind it.
      // New HTTP(S) ports opened, HTTPS certificates swapped (new handshakes), HTTP↔HTTPS ports re-opened.
      // UDP ports are a separate space: they never clash with the TCP ports above.
      const datagramPorts = compileDatagramPorts(published.config);
      progress?.compiled();
      await Promise.all([this.options.streams?.apply(streamPorts, compiled.limits), listeners.prepare(compiled.ports.values(), compiled.limits), this.options.datagrams?.apply(datagramPorts)]);
      this.secureContexts.sweep();
    } catch (error) {
      // Pools acquired for the failed config are released again.
      upstreams.retainOnly(this.current?.upstreams ?? new Set());
      throw error;
    }
    this.current = compiled;
    this.options.onSwap?.(compiled);
    const wanted = new Set(compiled.ports.keys());
    listeners.closeExcept(wanted).catch((error: unknown) => {
      log.error({ err: error }, 'closing removed listener ports failed');
    });
    upstreams.retainOnly(compiled.upstreams);
    metrics.configApplySeconds.observe((performance.now() - started) / 1000);
    return compiled;
  }
}
