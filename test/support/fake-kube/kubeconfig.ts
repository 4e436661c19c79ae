// A kubeconfig for the fake API server. @kubernetes/client-node 1.x refuses an `http:` server
// unless the cluster sets insecure-skip-tls-verify (KubeConfig.createAgent throws "HTTP
// protocol is not allowed when skipTLSVerify is not set or false"), so the flag is always on.
// Values are written as JSON strings, which are valid YAML scalars.

export interface KubeconfigOptions {
  readonly server: string;
  readonly token: string | undefined;
  readonly namespace: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const quote = (value: string): string => JSON.stringify(value);
  const user = options.token === undefined ? '  user: {}' : `  user:\n    token: ${quote(options.token)}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake-kube',
    '  cluster:',
    `    server: ${quote(options.server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: fake-kube-user',
    user,
    'contexts:',
    '- name: fake-kube',
    '  context:',
    '    cluster: fake-kube',
    '    user: fake-kube-user',
    `    namespace: ${quote(options.namespace)}`,
    'current-context: fake-kube',
    '',
  ].join('\n');
}
