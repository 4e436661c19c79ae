/** The status Isthmus would write back to Kubernetes for one object it owns (GET /api/status). */
export interface ObjectStatus {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly status: unknown;
}
