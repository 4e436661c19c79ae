// metav1.Status bodies, worded as kube-apiserver words them (k8s.io/apimachinery
// pkg/api/errors and the RBAC authorizer's forbiddenMessage), so that clients which match on
// `reason` or on message text behave against the fake as they would against a cluster.

import { qualifiedResource } from './kube-object.js';

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: { readonly continue?: string };
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** Which object a status is about: the REST resource (plural) and group, and a name if any. */
export interface StatusSubject {
  readonly group: string;
  readonly plural: string;
  readonly name?: string;
}

export function failureStatus(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
  metadata: { continue?: string } = {},
): KubeStatus {
  const base = { kind: 'Status', apiVersion: 'v1', metadata, status: 'Failure', message, reason } as const;
  return details === undefined ? { ...base, code } : { ...base, details, code };
}

// Go's omitempty drops an empty group and name from StatusDetails.
function detailsOf(subject: StatusSubject): StatusDetails {
  return {
    ...(subject.name ? { name: subject.name } : {}),
    ...(subject.group ? { group: subject.group } : {}),
    kind: subject.plural,
  };
}

export function notFoundRouteStatus(): KubeStatus {
  return failureStatus(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function notFoundStatus(subject: StatusSubject & { name: string }): KubeStatus {
  const resource = qualifiedResource(subject.group, subject.plural);
  return failureStatus(404, 'NotFound', `${resource} "${subject.name}" not found`, detailsOf(subject));
}

export function alreadyExistsStatus(subject: StatusSubject & { name: string }): KubeStatus {
  const resource = qualifiedResource(subject.group, subject.plural);
  return failureStatus(409, 'AlreadyExists', `${resource} "${subject.name}" already exists`, detailsOf(subject));
}

export const MODIFIED_CONFLICT_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflictStatus(subject: StatusSubject & { name: string }, why: string): KubeStatus {
  const resource = qualifiedResource(subject.group, subject.plural);
  return failureStatus(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${subject.name}": ${why}`,
    detailsOf(subject),
  );
}

export interface ForbiddenRequest extends StatusSubject {
  readonly user: string;
  readonly verb: string;
  readonly subresource?: string;
  readonly namespace?: string;
}

export function forbiddenStatus(request: ForbiddenRequest): KubeStatus {
  const resource = qualifiedResource(request.group, request.plural);
  const rbacResource = request.subresource ? `${request.plural}/${request.subresource}` : request.plural;
  const scope = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
  const why =
    `User "${request.user}" cannot ${request.verb} resource "${rbacResource}" ` +
    `in API group "${request.group}" ${scope}`;
  const subject = request.name ? `${resource} "${request.name}"` : resource;
  return failureStatus(403, 'Forbidden', `${subject} is forbidden: ${why}`, detailsOf(request));
}

export function unauthorizedStatus(): KubeStatus {
  return failureStatus(401, 'Unauthorized', 'Unauthorized');
}

export function expiredStatus(message: string, continueToken?: string): KubeStatus {
  return failureStatus(410, 'Expired', message, undefined, continueToken ? { continue: continueToken } : {});
}

export function badRequestStatus(message: string): KubeStatus {
  return failureStatus(400, 'BadRequest', message);
}

export function methodNotAllowedStatus(): KubeStatus {
  return failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function invalidStatus(kind: string, name: string, group: string, causes: readonly StatusCause[]): KubeStatus {
  const summary = causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ');
  return failureStatus(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

/** storage.NewTooLargeResourceVersionError: a 504 Timeout that tells the client to retry. */
export function tooLargeResourceVersionStatus(requested: number, current: number): KubeStatus {
  return failureStatus(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

export function internalErrorStatus(message: string): KubeStatus {
  return failureStatus(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

export function unsupportedMediaTypeStatus(message: string): KubeStatus {
  return failureStatus(415, 'UnsupportedMediaType', message);
}

export interface SuccessStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Success';
  readonly details: StatusDetails;
}

// A successful DELETE of a built-in kind; `code` is omitempty in Go and left at 0 there.
export function successStatus(details: StatusDetails): SuccessStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}
