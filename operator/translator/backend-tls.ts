/**
 * BackendTLSPolicy: validation (CA refs, hostname, SANs), conflict resolution (a policy naming
 * a port beats one naming the whole Service; otherwise the oldest wins) and ancestor status.
 */
import { parseGatewayId } from '../../api-types/gateway-ref.ts';
import type { BackendTls } from '../../api-types/dataplane-config.ts';
import type { BackendTLSPolicy } from '../../api-types/gateway-api/index.ts';
import { GATEWAY_API_GROUP } from '../../api-types/gateway-api/meta.ts';
import type { KeyMaterial } from './certificates.ts';
import { condition, ConditionType, Reason, type Problem } from './conditions.ts';
import { normalizeHostname } from './hostnames.ts';
import { compareByAge, key, type Entry, type Meta } from './meta.ts';
import { name } from './read.ts';
import type { ObjectStatus, PolicyStatusOut } from './status.ts';

/** What a cluster needs from its policy; the CA is placed into a config's `caBundles` later. */
export interface BackendTlsSettings {
  readonly hostname: string;
  /** Undefined: system trust store. */
  readonly caPem: string | undefined;
  readonly subjectAltNames: BackendTls['subjectAltNames'];
}

interface PolicyState {
  readonly meta: Meta;
  readonly targets: readonly { readonly serviceKey: string; readonly sectionName: string }[];
  readonly settings: BackendTlsSettings | undefined;
  /** Accepted=False (other than Conflicted). */
  readonly acceptProblem: Problem | undefined;
  readonly refProblem: Problem | undefined;
  conflicted: boolean;
}

export class BackendTlsPolicies {
  readonly #policies: PolicyState[] = [];
  /** `<ns>/<service>|<sectionName or empty>` → winning policy. */
  readonly #winners = new Map<string, PolicyState>();

  constructor(policies: readonly Entry<BackendTLSPolicy>[], keys: KeyMaterial) {
    for (const entry of [...policies].sort((a, b) => compareByAge(a.meta, b.meta))) {
      const policy = readPolicy(entry, keys);
      this.#policies.push(policy);
      let wonAny = false;
      for (const target of policy.targets) {
        const targetKey = `${target.serviceKey}|${target.sectionName}`;
        if (this.#winners.has(targetKey)) continue;
        this.#winners.set(targetKey, policy);
        wonAny = true;
      }
      policy.conflicted = policy.targets.length > 0 && !wonAny;
    }
  }

  /** The TLS settings for a Service port; `{ invalid }` (why, for the route's status) when its policy cannot be applied. */
  settingsFor(namespace: string, serviceName: string, portName: string): BackendTlsSettings | { readonly invalid: string } | undefined {
    const serviceKey = key(namespace, serviceName);
    const policy = (portName === '' ? undefined : this.#winners.get(`${serviceKey}|${portName}`)) ?? this.#winners.get(`${serviceKey}|`);
    if (policy === undefined) return undefined;
    if (policy.settings !== undefined) return policy.settings;
    const why = policy.acceptProblem?.message ?? policy.refProblem?.message ?? 'not valid';
    return { invalid: `BackendTLSPolicy ${policy.meta.namespace}/${policy.meta.name} for Service ${serviceKey} is not valid (${why}), so Weir cannot connect to it over TLS` };
  }

  /** Statuses, with one ancestor entry per Gateway whose config uses a targeted Service. */
  statuses(gatewaysByService: ReadonlyMap<string, ReadonlySet<string>>, controllerName: string): ObjectStatus[] {
    return this.#policies.map((policy) => {
      const gatewayKeys = new Set<string>();
      for (const target of policy.targets) for (const gatewayKey of gatewaysByService.get(target.serviceKey) ?? []) gatewayKeys.add(gatewayKey);
      const generation = policy.meta.generation;
      const accepted = policy.conflicted
        ? condition(ConditionType.Accepted, false, Reason.Conflicted, 'An older or more specific BackendTLSPolicy targets the same Service', generation)
        : policy.acceptProblem !== undefined
          ? condition(ConditionType.Accepted, false, policy.acceptProblem.reason, policy.acceptProblem.message, generation)
          : condition(ConditionType.Accepted, true, Reason.Accepted, 'Policy is accepted', generation);
      const resolved =
        policy.refProblem === undefined
          ? condition(ConditionType.ResolvedRefs, true, Reason.ResolvedRefs, 'References resolved', generation)
          : condition(ConditionType.ResolvedRefs, false, policy.refProblem.reason, policy.refProblem.message, generation);
      const ancestors: PolicyStatusOut['ancestors'] = [...gatewayKeys].sort().flatMap((gatewayKey) => {
        const gateway = parseGatewayId(gatewayKey);
        if (gateway === undefined) return [];
        return [{ ancestorRef: { group: GATEWAY_API_GROUP, kind: 'Gateway', ...gateway }, controllerName, conditions: [accepted, resolved] }];
      });
      return { kind: 'BackendTLSPolicy', namespace: policy.meta.namespace, name: policy.meta.name, generation, status: { ancestors } };
    });
  }
}

function readPolicy({ meta, object }: Entry<BackendTLSPolicy>, keys: KeyMaterial): PolicyState {
  const { spec } = object;
  const targets = spec.targetRefs.flatMap((ref) => {
    const serviceName = name(ref.name);
    if (ref.group !== '' || ref.kind !== 'Service' || serviceName === undefined) return [];
    return [{ serviceKey: key(meta.namespace, serviceName), sectionName: ref.sectionName ?? '' }];
  });
  const { validation } = spec;
  const hostname = normalizeHostname(validation.hostname);
  const base = { meta, targets, conflicted: false };
  if (hostname === undefined || hostname.startsWith('*.')) {
    return { ...base, settings: undefined, acceptProblem: { reason: Reason.Invalid, message: 'validation.hostname must be a valid, non-wildcard hostname' }, refProblem: undefined };
  }
  const subjectAltNames: BackendTls['subjectAltNames'] = (validation.subjectAltNames ?? []).flatMap((san) => {
    const { type } = san;
    const value = type === 'Hostname' ? san.hostname : type === 'URI' ? san.uri : undefined;
    return (type === 'Hostname' || type === 'URI') && value !== undefined && value !== '' ? [{ type, value }] : [];
  });
  const wellKnown = validation.wellKnownCACertificates;
  const caRefs = validation.caCertificateRefs ?? [];
  if (wellKnown !== undefined) {
    if (wellKnown !== 'System' || caRefs.length > 0) {
      return { ...base, settings: undefined, acceptProblem: { reason: Reason.Invalid, message: 'wellKnownCACertificates must be System and exclusive with caCertificateRefs' }, refProblem: undefined };
    }
    return { ...base, settings: { hostname, caPem: undefined, subjectAltNames }, acceptProblem: undefined, refProblem: undefined };
  }
  const bundles: string[] = [];
  let refProblem: Problem | undefined;
  for (const ref of caRefs) {
    const refName = name(ref.name);
    if ((ref.group ?? '') !== '' || ref.kind !== 'ConfigMap' || refName === undefined) {
      refProblem ??= { reason: Reason.InvalidKind, message: `caCertificateRef ${String(ref.kind)} is not a ConfigMap` };
      continue;
    }
    const loaded = keys.caBundle('ConfigMap', meta.namespace, refName);
    if (loaded.ok) bundles.push(loaded.value);
    else refProblem ??= { reason: Reason.InvalidCACertificateRef, message: loaded.problem.message };
  }
  if (bundles.length === 0) {
    return {
      ...base,
      settings: undefined,
      acceptProblem: { reason: Reason.NoValidCACertificate, message: refProblem?.message ?? 'no CA certificate' },
      refProblem: refProblem ?? { reason: Reason.InvalidCACertificateRef, message: 'no caCertificateRefs' },
    };
  }
  return { ...base, settings: { hostname, caPem: bundles.join(''), subjectAltNames }, acceptProblem: undefined, refProblem };
}
