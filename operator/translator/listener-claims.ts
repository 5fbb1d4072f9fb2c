/**
 * What a listener can hold when several routes attach to it:
 *
 * - HTTPRoute vs GRPCRoute (GRPCRoute spec, "cross serving"): when routes of the two kinds
 *   attached to one listener have intersecting hostnames, exactly one is accepted there — the
 *   oldest, then the first by namespace/name. The other is rejected on that listener.
 * - TCPRoute and UDPRoute: a TCP or UDP listener forwards to one route, the oldest (conformance
 *   TCPRouteMultipleRoutesAttachment, UDPRouteMultipleRoutesAttachment). Later routes stay
 *   attached and Accepted, but get no traffic.
 * - TLSRoute: one SNI name on a listener goes to one route, the oldest, then the first by
 *   namespace/name (the spec's tie-break for conflicting routes). Names that merely overlap
 *   (`*.example.com` and `a.example.com`) do not conflict: the more specific one wins per
 *   ClientHello in the dataplane.
 *
 * Callers claim in route precedence order (oldest first), so the first claim wins.
 */
import { covers, isWildcard } from './hostnames.ts';
import type { ListenerState } from './listeners.ts';
import type { Meta } from './meta.ts';
import type { RouteKind } from './status.ts';

export interface Holder {
  readonly kind: RouteKind;
  readonly meta: Meta;
}

/**
 * Hostnames claimed by the routes of one kind on one listener. Claims are queued and only indexed
 * when a route of the other kind asks (most listeners carry one kind: they never pay for the index).
 */
class HostnameClaims {
  /** First route claiming any hostname (its hostnames were empty on this listener). */
  any: Holder | undefined;
  readonly exact = new Map<string, Holder>();
  /** `*.example.com` → first route claiming it. */
  readonly wildcards = new Map<string, Holder>();
  #queued: { readonly hostnames: readonly string[]; readonly holder: Holder }[] = [];

  add(hostnames: readonly string[], holder: Holder): void {
    this.#queued.push({ hostnames, holder });
  }

  #index(): void {
    for (const { hostnames, holder } of this.#queued) this.#indexOne(hostnames, holder);
    this.#queued = [];
  }

  #indexOne(hostnames: readonly string[], holder: Holder): void {
    if (hostnames.length === 0) {
      this.any ??= holder;
      return;
    }
    for (const hostname of hostnames) {
      const table = isWildcard(hostname) ? this.wildcards : this.exact;
      if (!table.has(hostname)) table.set(hostname, holder);
    }
  }

  /** The first claimant whose hostnames intersect `hostnames` (empty: any host). */
  intersecting(hostnames: readonly string[]): Holder | undefined {
    if (this.#queued.length > 0) this.#index();
    if (this.any !== undefined) return this.any;
    if (hostnames.length === 0) return this.exact.values().next().value ?? this.wildcards.values().next().value;
    for (const hostname of hostnames) {
      const holder = isWildcard(hostname) ? this.#intersectingWildcard(hostname) : this.#coveringExact(hostname);
      if (holder !== undefined) return holder;
    }
    return undefined;
  }

  /** An exact name intersects its own claim and every wildcard that covers it (one per parent domain). */
  #coveringExact(hostname: string): Holder | undefined {
    const holder = this.exact.get(hostname);
    if (holder !== undefined || this.wildcards.size === 0) return holder;
    for (let dot = hostname.indexOf('.'); dot !== -1; dot = hostname.indexOf('.', dot + 1)) {
      const wildcard = this.wildcards.get(`*${hostname.slice(dot)}`);
      if (wildcard !== undefined) return wildcard;
    }
    return undefined;
  }

  /** Wildcards are rare: scan. */
  #intersectingWildcard(wildcard: string): Holder | undefined {
    for (const [claimed, holder] of this.wildcards) if (covers(claimed, wildcard) || covers(wildcard, claimed)) return holder;
    for (const [claimed, holder] of this.exact) if (covers(wildcard, claimed)) return holder;
    return undefined;
  }
}

interface Claims {
  http?: HostnameClaims;
  grpc?: HostnameClaims;
  tcp?: Holder;
  /** TLSRoute hostnames (exact or wildcard, as the route wrote them) → the route holding each. */
  sni?: Map<string, Holder>;
}

export interface NameClaims {
  readonly won: readonly string[];
  readonly lost: readonly { readonly hostname: string; readonly holder: Holder }[];
}

export class ListenerClaims {
  readonly #byListener = new Map<ListenerState, Claims>();

  /**
   * Claims the listener for `route` with the hostnames it serves there; call oldest route first.
   * Returns `undefined` when the route gets the listener, else the older route that holds it.
   */
  claim(listener: ListenerState, route: Holder, hostnames: readonly string[]): Holder | undefined {
    const claims = this.#claims(listener);
    switch (route.kind) {
      case 'TCPRoute':
      case 'UDPRoute':
        if (claims.tcp !== undefined && claims.tcp !== route) return claims.tcp; // a route may reach a listener through two parentRefs
        claims.tcp = route;
        return undefined;
      case 'HTTPRoute':
      case 'GRPCRoute': {
        const own = route.kind === 'HTTPRoute' ? (claims.http ??= new HostnameClaims()) : (claims.grpc ??= new HostnameClaims());
        const other = route.kind === 'HTTPRoute' ? claims.grpc : claims.http;
        const holder = other?.intersecting(hostnames);
        if (holder !== undefined) return holder;
        own.add(hostnames, route);
        return undefined;
      }
      case 'TLSRoute':
        return undefined;
    }
  }

  /** Claims SNI names of a TLS listener for a TLSRoute; call oldest route first. */
  claimNames(listener: ListenerState, route: Holder, hostnames: readonly string[]): NameClaims {
    const sni = (this.#claims(listener).sni ??= new Map<string, Holder>());
    const won: string[] = [];
    const lost: { hostname: string; holder: Holder }[] = [];
    for (const hostname of hostnames) {
      const holder = sni.get(hostname);
      if (holder === undefined || holder === route) {
        sni.set(hostname, route);
        won.push(hostname);
      } else {
        lost.push({ hostname, holder });
      }
    }
    return { won, lost };
  }

  #claims(listener: ListenerState): Claims {
    let claims = this.#byListener.get(listener);
    if (claims === undefined) {
      claims = {};
      this.#byListener.set(listener, claims);
    }
    return claims;
  }
}
