/** ReferenceGrant and BackendTLSPolicy (gateway.networking.k8s.io/v1, v1.7.0). */
import { Type, type Static } from '@sinclair/typebox';
import { kubeObject, ObjectReference, StringMap } from './meta.ts';

export const ReferenceGrant = kubeObject('ReferenceGrant', {
  spec: Type.Object({
    from: Type.Array(Type.Object({ group: Type.String(), kind: Type.String(), namespace: Type.String() })),
    /** `name` absent grants every object of that group/kind in the grant's namespace. */
    to: Type.Array(Type.Object({ group: Type.String(), kind: Type.String(), name: Type.Optional(Type.String()) })),
  }),
});
export type ReferenceGrant = Static<typeof ReferenceGrant>;

export const SubjectAltName = Type.Object({
  /** `Hostname` or `URI`. */
  type: Type.String(),
  hostname: Type.Optional(Type.String()),
  uri: Type.Optional(Type.String()),
});
export type SubjectAltName = Static<typeof SubjectAltName>;

export const BackendTLSPolicy = kubeObject('BackendTLSPolicy', {
  spec: Type.Object({
    targetRefs: Type.Array(Type.Object({ group: Type.String(), kind: Type.String(), name: Type.String(), sectionName: Type.Optional(Type.String()) })),
    validation: Type.Object({
      /** ConfigMaps (core group) holding `ca.crt`. */
      caCertificateRefs: Type.Optional(Type.Array(ObjectReference)),
      /** `System` is the only value the spec defines. */
      wellKnownCACertificates: Type.Optional(Type.String()),
      hostname: Type.String(),
      subjectAltNames: Type.Optional(Type.Array(SubjectAltName)),
    }),
    options: Type.Optional(StringMap),
  }),
});
export type BackendTLSPolicy = Static<typeof BackendTLSPolicy>;
