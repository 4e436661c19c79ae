import { z } from 'zod';

export const portNumberSchema = z.number().int().min(1).max(65535);

// IANA_SVC_NAME (apimachinery validation.IsValidPortName): what a named targetPort or container
// port may be: 1-15 lower-case letters, digits and '-', at least one letter, no '--', no '-' at the ends.
export const portNameSchema = z
  .string()
  .max(15)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected an IANA service name (lower-case letters, digits, "-")')
  .refine((s) => /[a-z]/.test(s), 'expected an IANA service name with at least one letter (a number must not be quoted)')
  .refine((s) => !s.includes('--'), 'expected an IANA service name without "--"');

/** Kubernetes IntOrString for ports: a number, or the name of a container port. */
export const portNumberOrNameSchema = z.union([portNumberSchema, portNameSchema]);

export const protocolSchema = z.enum(['TCP', 'UDP', 'SCTP']);
