import type { Diagnostic } from '../../core/diagnostic.js';
import { DEFAULT_INGRESS_CLASS_ANNOTATION, isDefaultIngressClass } from '../../resources/well-known.js';
import { INGRESS_CLASS_ANNOTATION } from '../../resources/well-known.js';
import { refOf, type Ingress, type IngressClass } from '../../resources/resource.js';
import { formatFieldPath } from '../../resources/schema-issue.js';
import { compareByCreation } from '../../resources/creation-order.js';

export interface IngressClassOptions {
  readonly ingressClass: string;
  readonly ingressController: string;
}

/**
 * The Ingresses this instance serves. An Ingress's class is `spec.ingressClassName`, else the
 * deprecated `kubernetes.io/ingress.class` annotation, else the default IngressClass. It is ours
 * when that class is an IngressClass whose `spec.controller` is ours, or is named like
 * `--ingress-class`. Foreign Ingresses are skipped without a diagnostic: sharing a cluster with
 * other controllers is normal.
 */
export function selectOurIngresses(
  ingresses: readonly Ingress[],
  classes: readonly IngressClass[],
  options: IngressClassOptions,
  diagnostics: Diagnostic[],
): Ingress[] {
  const defaults = classes.filter(isDefaultIngressClass).sort(compareByCreation);
  const chosenDefault = defaults[0];
  for (const other of defaults.slice(1)) {
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_INGRESS_CLASS_MULTIPLE_DEFAULTS',
      object: refOf(other),
      source: other.source,
      path: formatFieldPath(['metadata', 'annotations', DEFAULT_INGRESS_CLASS_ANNOTATION]),
      message: `more than one IngressClass is marked default; using the oldest, IngressClass "${chosenDefault?.metadata.name}"`,
    });
  }
  const ourClasses = new Set(
    classes.filter((c) => c.spec.controller === options.ingressController).map((c) => c.metadata.name),
  );
  ourClasses.add(options.ingressClass);

  return ingresses.filter((ingress) => {
    const className =
      ingress.spec.ingressClassName ?? ingress.metadata.annotations[INGRESS_CLASS_ANNOTATION] ?? chosenDefault?.metadata.name;
    // File-mode convenience: with no class anywhere (no ingressClassName and no default
    // IngressClass), the Ingress is ours, so plain example manifests work as they are.
    if (className === undefined) return true;
    return ourClasses.has(className);
  });
}
