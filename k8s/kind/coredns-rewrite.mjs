#!/usr/bin/env node
// Makes pods resolve a public host name (the stand-ins' ingress host) to a cluster Service, so
// browsers and pods use one URL and every issuer matches. Adds an exact `rewrite name` rule to
// the cluster's CoreDNS (CoreDNS rewrites the answer back to the asked name for exact rules).
//   node k8s/kind/coredns-rewrite.mjs <host> <service>.<namespace>.svc.cluster.local
// Idempotent: an existing rule for <host> is replaced, nothing else in the Corefile changes.
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/**
 * The Corefile with `rewrite name exact <from> <to>` in its root server block (".:53").
 * @param {string} corefile
 * @param {{ from: string, to: string }} rule
 * @returns {string}
 */
export function withRewrite(corefile, { from, to }) {
  for (const n of [from, to]) if (!NAME.test(n)) throw new Error(`not a DNS name: "${n}"`);
  const escaped = from.replace(/[.]/g, '\\.');
  const existing = new RegExp(
    `^[ \\t]*rewrite\\s+(?:stop\\s+|continue\\s+)?name\\s+(?:exact\\s+)?${escaped}\\.?\\s+\\S+[ \\t]*$`,
    'm',
  );
  const lines = corefile.split('\n');
  const open = lines.findIndex((l) => /^\s*(?:dns:\/\/)?\.(?::53)?\s*\{\s*$/.test(l));
  if (open < 0) throw new Error('the Corefile has no root server block (".:53 {")');
  const next = lines[open + 1] ?? '';
  const indent = /^(\s*)\S/.exec(next)?.[1] || '    ';
  const rule = `${indent}rewrite name exact ${from} ${to}`;
  if (existing.test(corefile)) return corefile.replace(existing, rule);
  lines.splice(open + 1, 0, rule);
  return lines.join('\n');
}

function kubectl(args) {
  return execFileSync('kubectl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [from, to] = process.argv.slice(2);
  if (!from || !to) {
    console.error('usage: coredns-rewrite.mjs <host> <service>.<namespace>.svc.cluster.local');
    process.exit(2);
  }
  const current = kubectl([
    '-n',
    'kube-system',
    'get',
    'configmap',
    'coredns',
    '-o',
    'jsonpath={.data.Corefile}',
  ]);
  const updated = withRewrite(current, { from, to });
  if (updated === current) {
    console.log(`CoreDNS already rewrites ${from} to ${to}`);
  } else {
    kubectl([
      '-n',
      'kube-system',
      'patch',
      'configmap',
      'coredns',
      '--type',
      'merge',
      '--patch',
      JSON.stringify({ data: { Corefile: updated } }),
    ]);
    // The reload plugin would pick it up within its interval; a restart makes it immediate.
    kubectl(['-n', 'kube-system', 'rollout', 'restart', 'deployment', 'coredns']);
    kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment', 'coredns', '--timeout=120s']);
    console.log(`CoreDNS now resolves ${from} to ${to}`);
  }
}
