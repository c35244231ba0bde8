#!/usr/bin/env node
// Prints the value of devAzure.apiServerEgress.to for the current cluster (JSON, for helm
// --set-json): the stand-ins read the API server's issuer discovery and keys, so they may reach
// the `kubernetes` Service's ClusterIP on its port and the API server's endpoints on theirs, and
// nothing else (whether a CNI matches a Service's address before or after DNAT varies).
//   node k8s/kind/api-server-egress.mjs
import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * @typedef {{ spec?: { clusterIPs?: string[], clusterIP?: string, ports?: { port: number }[] } }} Service
 * @typedef {{ items?: { endpoints?: { addresses?: string[] }[], ports?: { port?: number }[] }[] }} EndpointSliceList
 * @param {Service} service the `kubernetes` Service in `default`
 * @param {EndpointSliceList} slices its EndpointSlices
 * @returns {{ cidr: string, ports: number[] }[]}
 */
export function apiServerEgress(service, slices) {
  /** @type {Map<string, Set<number>>} */
  const to = new Map();
  const add = (ip, ports) => {
    const family = isIP(ip);
    if (!family) throw new Error(`not an IP address: "${ip}"`);
    const cidr = `${ip}/${family === 4 ? 32 : 128}`;
    const set = to.get(cidr) ?? new Set();
    for (const p of ports) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`not a port: ${p}`);
      set.add(p);
    }
    to.set(cidr, set);
  };
  const servicePorts = (service.spec?.ports ?? []).map((p) => p.port);
  const serviceIps = service.spec?.clusterIPs ?? [service.spec?.clusterIP ?? ''];
  for (const ip of serviceIps) add(ip, servicePorts);
  for (const slice of slices.items ?? []) {
    const ports = (slice.ports ?? []).map((p) => p.port ?? 0);
    for (const e of slice.endpoints ?? []) for (const ip of e.addresses ?? []) add(ip, ports);
  }
  const out = [...to].map(([cidr, ports]) => ({ cidr, ports: [...ports].sort((a, b) => a - b) }));
  if (!out.some((r) => r.ports.length) || out.some((r) => !r.ports.length))
    throw new Error('the kubernetes Service or its endpoints have no ports');
  return out;
}

function kubectlJson(args) {
  return JSON.parse(
    execFileSync('kubectl', [...args, '-o', 'json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const service = kubectlJson(['-n', 'default', 'get', 'service', 'kubernetes']);
  const slices = kubectlJson([
    '-n',
    'default',
    'get',
    'endpointslices',
    '-l',
    'kubernetes.io/service-name=kubernetes',
  ]);
  process.stdout.write(`${JSON.stringify(apiServerEgress(service, slices))}\n`);
}
