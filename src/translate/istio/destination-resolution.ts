// Where an Istio destination (host, subset, port) leads: a cluster name, or why it cannot be served
// (the route keeps its weight and answers 500 for that share). Shared by DestinationRules and
// ServiceEntries, which resolve destinations for each other.
import type { Diagnostic } from '../../core/diagnostic.js';

export type DestinationResolution = { readonly kind: 'ok'; readonly cluster: string } | { readonly kind: 'error'; readonly code: Diagnostic['code']; readonly message: string };
