import type { Diagnostic } from '../../core/diagnostic.js';
import type { IrHashOn, IrLoadBalancer } from '../../ir/types.js';
import { refOf, type Service } from '../../resources/resource.js';
import { formatFieldPath } from '../../resources/schema-issue.js';

export const LOAD_BALANCER_ANNOTATION = 'isthmus.dev/load-balancer';
export const HASH_ON_ANNOTATION = 'isthmus.dev/hash-on';

const DEFAULT_LB: IrLoadBalancer = { kind: 'round-robin' };

function parseHashOn(value: string): IrHashOn | undefined {
  if (value === 'source-ip') return { kind: 'source-ip' };
  const colon = value.indexOf(':');
  const name = value.slice(colon + 1);
  if (colon < 0 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return undefined; // RFC 9110 token
  const kind = value.slice(0, colon);
  // Header names are compared lower-case (RFC 9110 §5.1); cookie names are case-sensitive.
  if (kind === 'header') return { kind: 'header', name: name.toLowerCase() };
  if (kind === 'cookie') return { kind: 'cookie', name };
  return undefined;
}

/** The Service's load-balancing policy; bad values are warnings and the default is used. */
export function readLoadBalancer(service: Service, diagnostics: Diagnostic[]): IrLoadBalancer {
  const annotations = service.metadata.annotations;
  const warn = (annotation: string, message: string): void => {
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_RESOURCE_INVALID',
      object: refOf(service),
      source: service.source,
      path: formatFieldPath(['metadata', 'annotations', annotation]),
      message,
    });
  };
  const policy = annotations[LOAD_BALANCER_ANNOTATION];
  switch (policy) {
    case undefined:
    case 'round-robin':
      return DEFAULT_LB;
    case 'least-request':
      return { kind: 'least-request' };
    case 'random':
      return { kind: 'random' };
    case 'ring-hash': {
      const hashOn = annotations[HASH_ON_ANNOTATION];
      if (hashOn === undefined) {
        warn(HASH_ON_ANNOTATION, 'ring-hash needs a hash key (header:<name>, cookie:<name> or source-ip); using source-ip');
        return { kind: 'ring-hash', hashOn: { kind: 'source-ip' } };
      }
      const parsed = parseHashOn(hashOn);
      if (parsed) return { kind: 'ring-hash', hashOn: parsed };
      warn(HASH_ON_ANNOTATION, `expected header:<name>, cookie:<name> or source-ip, found "${hashOn}"; using round-robin`);
      return DEFAULT_LB;
    }
    default:
      warn(
        LOAD_BALANCER_ANNOTATION,
        `expected one of round-robin, least-request, random, ring-hash, found "${policy}"; using round-robin`,
      );
      return DEFAULT_LB;
  }
}
