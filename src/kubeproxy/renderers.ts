// `kube-proxy render --mode M`: the table of modes and what each renders. A mode a build does not
// have is listed as unavailable, so the usage error can say which modes exist and which it renders.
import { iptablesFamilies, renderIptablesFamily, restoreTool, type IptablesRenderOptions } from './iptables-render.js';
import { renderIpvs, type IpvsScheduler } from './ipvs-render.js';
import { nftablesLines } from './nftables-render.js';
import type { IpFamily, KpServicePort } from './service-ports.js';
import { linesInChunks } from './text-chunks.js';

export interface RenderOptions extends IptablesRenderOptions {
  readonly scheduler?: IpvsScheduler;
}

export interface RenderedOutput {
  /** Absent when the output serves both families (ipvs). */
  readonly family?: IpFamily;
  /** The command that reads the text on stdin. */
  readonly tool: string;
  /**
   * The text, in pieces to write one after the other; rendered as they are asked for (at 10,000
   * Services the text is about 45 MB, which need never be one string). Each call renders afresh.
   */
  readonly chunks: () => Iterable<string>;
}

/** The whole text of an output (tests, and callers that want one string). */
export function outputText(output: RenderedOutput): string {
  return [...output.chunks()].join('');
}

export interface RenderResult {
  readonly outputs: readonly RenderedOutput[];
  /** What the output leaves out for this input (printed as warnings). */
  readonly notes: readonly string[];
}

export type Renderer = (ports: readonly KpServicePort[], options: RenderOptions) => RenderResult;

export const KUBE_PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;
export type KubeProxyMode = (typeof KUBE_PROXY_MODES)[number];

/** Mode → renderer; undefined: the mode exists in kube-proxy but this build cannot render it yet. */
export const RENDERERS: Readonly<Record<KubeProxyMode, Renderer | undefined>> = {
  // One chunk per family: its rules are strings the tables already hold, and one join of them
  // measured 0.1 s faster at 10,000 Services than ~1 MB chunks (docs/performance.md), unlike
  // nftables, whose lines are made while writing.
  iptables: (ports, options) => ({
    outputs: iptablesFamilies(ports, options).map((family) => ({ family, tool: restoreTool(family), chunks: () => [renderIptablesFamily(ports, family, options)] })),
    notes: [],
  }),
  // One script for both families (`ip` and `ip6` tables): `nft -f` loads it as one transaction.
  nftables: (ports, options) => ({
    outputs: [
      {
        tool: 'nft -f',
        chunks: () =>
          linesInChunks(
            nftablesLines(ports, {
              ...(options.nodeIPs !== undefined ? { nodeIPs: options.nodeIPs } : {}),
              ...(options.clusterCIDRs !== undefined ? { clusterCIDRs: options.clusterCIDRs } : {}),
              ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
            }),
          ),
      },
    ],
    notes: options.masqueradeAll === true ? ['--masquerade-all is not modelled in nftables mode (docs/kube-proxy-nftables.md)'] : [],
  }),
  ipvs: (ports, options) => {
    const { text, notes } = renderIpvs(ports, options);
    return { outputs: [{ tool: 'ipvsadm-restore', chunks: () => [text] }], notes };
  },
};

export type RendererLookup = { readonly kind: 'ok'; readonly render: Renderer } | { readonly kind: 'error'; readonly message: string };

export function rendererFor(mode: string): RendererLookup {
  const available = KUBE_PROXY_MODES.filter((m) => RENDERERS[m] !== undefined);
  const listed = `modes: ${KUBE_PROXY_MODES.map((m) => (RENDERERS[m] === undefined ? `${m} (not in this build)` : m)).join(', ')}`;
  if (!(KUBE_PROXY_MODES as readonly string[]).includes(mode)) return { kind: 'error', message: `unknown mode ${JSON.stringify(mode)}; ${listed}` };
  const render = RENDERERS[mode as KubeProxyMode];
  if (render === undefined) return { kind: 'error', message: `mode ${mode} cannot be rendered by this build; it renders ${available.join(', ')} (${listed})` };
  return { kind: 'ok', render };
}
