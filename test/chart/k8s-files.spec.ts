// The files in k8s/ that Helm does not render: the kind cluster config and the scripts.
import { freePort } from '@idp/testing';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAndValidate, renderSet, repoRoot } from './support/chart';
import { podTemplateOf } from './support/pods';

const k8s = join(repoRoot, 'k8s');

// kind's default Corefile (kind v0.2x, CoreDNS 1.11/1.12).
const KIND_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

/** k8s/kind/coredns-rewrite.mjs's withRewrite, run the way the script runs (plain node ESM). */
function withRewrite(corefile: string, from: string, to: string): { out: string; error: string } {
  const code = `import { withRewrite } from ${JSON.stringify(join(k8s, 'kind', 'coredns-rewrite.mjs'))};
    try { process.stdout.write(withRewrite(process.argv[1], { from: process.argv[2], to: process.argv[3] })); } catch (e) { process.stderr.write(e.message); process.exit(1); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code, corefile, from, to], {
    encoding: 'utf8',
  });
  return { out: r.stdout, error: r.stderr };
}

describe('k8s/', () => {
  it('the kind cluster maps the host ports 80/443 to the node ingress-nginx runs on', () => {
    const [cluster] = parseAndValidate(readFileSync(join(k8s, 'kind', 'cluster.yaml'), 'utf8'), [])
      .objects as unknown as {
      kind: string;
      nodes: {
        kubeadmConfigPatches?: string[];
        extraPortMappings?: { containerPort: number; hostPort: number }[];
      }[];
    }[];
    expect(cluster?.kind).toBe('Cluster');
    const node = cluster?.nodes[0];
    expect(node?.extraPortMappings?.map((m) => [m.containerPort, m.hostPort])).toEqual([
      [80, 80],
      [443, 443],
    ]);
    expect(node?.kubeadmConfigPatches?.join('\n')).toContain('ingress-ready=true');
  });

  it('every script is executable and parses', () => {
    const scripts = [
      ...readdirSync(k8s).map((f) => join(k8s, f)),
      ...readdirSync(join(k8s, 'kind')).map((f) => join(k8s, 'kind', f)),
    ].filter((f) => f.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const s of scripts) {
      expect(statSync(s).mode & 0o111).not.toBe(0);
      const r = spawnSync('bash', ['-n', s], { encoding: 'utf8' });
      expect(`${s}: ${r.stderr}`).toBe(`${s}: `);
    }
  });

  it('k8s/kind/create-secrets.sh creates every Secret key and ConfigMap the kind render uses', () => {
    const script = readFileSync(join(k8s, 'kind', 'create-secrets.sh'), 'utf8');
    const { objects } = renderSet('kind');
    const rendered = new Set(
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name),
    );
    const needed = new Set<string>();
    for (const o of objects) {
      const t = podTemplateOf(o);
      for (const c of [...(t?.spec.initContainers ?? []), ...(t?.spec.containers ?? [])])
        for (const e of c.env ?? [])
          if (e.valueFrom?.secretKeyRef)
            needed.add(`secret ${e.valueFrom.secretKeyRef.name} ${e.valueFrom.secretKeyRef.key}`);
      for (const v of (t?.spec.volumes ?? []) as {
        secret?: { secretName: string };
        configMap?: { name: string };
      }[]) {
        if (v.secret) needed.add(`secret ${v.secret.secretName}`);
        if (v.configMap && !rendered.has(v.configMap.name))
          needed.add(`configmap ${v.configMap.name}`);
      }
      if (o.kind === 'Ingress')
        for (const tls of (o.spec as { tls?: { secretName: string }[] }).tls ?? [])
          needed.add(`secret ${tls.secretName}`);
    }
    expect(needed.size).toBeGreaterThan(5);
    const missing = [...needed].filter((n) => {
      const [kind, name, key] = n.split(' ');
      const creates =
        new RegExp(`create (secret generic|secret tls|configmap) ${name} `).test(script) &&
        script.includes(`exists ${kind} ${name} `);
      return (
        !creates ||
        (key !== undefined &&
          !script.includes(`--from-literal=${key}=`) &&
          !script.includes(`--from-file=${key}=`))
      );
    });
    expect(missing).toEqual([]);
  });

  it('k8s/kind/coredns-rewrite.mjs adds one exact rewrite to the root server block, idempotently, and refuses bad names', () => {
    const target = 'identity-dev-azure.identity-platform.svc.cluster.local';
    const once = withRewrite(KIND_COREFILE, 'login.identity.localtest.me', target);
    expect(once.error).toBe('');
    expect(once.out.split('\n').slice(0, 2)).toEqual([
      '.:53 {',
      `    rewrite name exact login.identity.localtest.me ${target}`,
    ]);
    // Nothing else changes.
    expect(
      once.out
        .split('\n')
        .filter((l) => !l.includes('rewrite'))
        .join('\n'),
    ).toBe(KIND_COREFILE);
    expect(withRewrite(once.out, 'login.identity.localtest.me', target).out).toBe(once.out);
    // Another release/namespace replaces the rule instead of adding a second one.
    const moved = withRewrite(
      once.out,
      'login.identity.localtest.me',
      'other-dev-azure.ns.svc.cluster.local',
    ).out;
    expect(moved.match(/rewrite name exact/g)).toHaveLength(1);
    expect(moved).toContain(
      'rewrite name exact login.identity.localtest.me other-dev-azure.ns.svc.cluster.local',
    );
    expect(withRewrite(KIND_COREFILE, 'login identity', target).error).toMatch(/not a DNS name/);
    expect(
      withRewrite('example.org {\n    whoami\n}\n', 'login.identity.localtest.me', target).error,
    ).toMatch(/no root server block/);
  });

  it('k8s/kind/create-secrets.sh runs against a fresh cluster and writes what the kind install needs', () => {
    // A kubectl for an empty cluster: nothing exists yet, kind's issuer and CA are answered, and
    // every `create` is recorded with copies of the files it reads (the script deletes them).
    const dir = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
    const clusterCa = '-----BEGIN CERTIFICATE-----\nY2x1c3Rlci1jYQ==\n-----END CERTIFICATE-----\n';
    try {
      writeFileSync(
        join(dir, 'kubectl'),
        `#!/usr/bin/env bash
case "$*" in
  "get namespace "*|*" get secret "*|*" get configmap "*|"get clusterrolebinding "*) exit 1 ;;
  "get --raw /.well-known/openid-configuration") echo '{"issuer":"https://kubernetes.default.svc.cluster.local","jwks_uri":"https://172.18.0.2:6443/openid/v1/jwks"}' ;;
  "config view "*) printf '%s' '${Buffer.from(clusterCa).toString('base64')}' ;;
  *) printf '%s\\n' "$*" >> "${dir}/calls"
     for a in "$@"; do case "$a" in
       --from-file=*) kv="\${a#--from-file=}"; cp "\${kv#*=}" "${dir}/file.\${kv%%=*}.$(wc -l < "${dir}/calls" | tr -d ' ')" ;;
       --cert=*) cp "\${a#--cert=}" "${dir}/cert.pem" ;;
     esac; done ;;
esac
`,
        { mode: 0o755 },
      );
      const r = spawnSync('bash', [join(k8s, 'kind', 'create-secrets.sh'), 'identity-platform'], {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
      });
      expect(`${r.status} ${r.stderr}`).toBe('0 ');
      const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
      // The namespace enforces Pod Security "restricted" before anything runs in it.
      expect(calls).toContain(
        'label namespace identity-platform --overwrite pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted',
      );
      const created = calls
        .filter((c) => !c.startsWith('label '))
        .map((c) =>
          /create (namespace|secret generic|secret tls|configmap|clusterrolebinding) (\S+)/
            .exec(c)
            ?.slice(1)
            .join(' '),
        );
      expect(created).toEqual([
        'namespace identity-platform',
        'secret generic identity-platform-nats',
        'secret generic identity-platform-postgresql',
        'secret generic identity-platform-portal',
        'secret tls identity-dev-azure-tls',
        'configmap identity-dev-ca',
        'configmap identity-dev-azure-config',
        'configmap identity-dev-azure-trust',
        'clusterrolebinding identity-dev-issuer-discovery',
        'secret tls identity-platform-tls',
      ]);
      const file = (key: string, call: string) =>
        readFileSync(
          join(dir, `file.${key}.${calls.findIndex((c) => c.includes(call)) + 1}`),
          'utf8',
        );
      // The stand-ins trust kind's issuer for the broker's ServiceAccount and the portal's ingress reply URL.
      const config = JSON.parse(file('dev-azure.json', 'identity-dev-azure-config')) as {
        tenants: {
          apps?: {
            name: string;
            redirectUris?: string[];
            federatedCredentials?: { name: string; issuer?: string; subject: string }[];
          }[];
        }[];
      };
      const apps = config.tenants.flatMap((t) => t.apps ?? []);
      expect(apps.find((a) => a.name === 'token-broker')?.federatedCredentials).toContainEqual(
        expect.objectContaining({
          name: 'kind',
          issuer: 'https://kubernetes.default.svc.cluster.local',
          subject: 'system:serviceaccount:identity-platform:token-broker',
        }),
      );
      expect(apps.find((a) => a.name === 'portal')?.redirectUris).toContain(
        'https://identity.localtest.me/auth/redirect',
      );
      // Trust: the dev CA and the cluster's CA.
      const trust = file('ca.crt', 'identity-dev-azure-trust');
      expect(trust).toContain(readFileSync(join(repoRoot, '.dev', 'ca', 'ca.pem'), 'utf8').trim());
      expect(trust).toContain(clusterCa.trim());
      // One certificate for the three ingress hosts and the stand-ins' Service.
      const cert = new X509Certificate(readFileSync(join(dir, 'cert.pem')));
      for (const h of [
        'identity.localtest.me',
        'scim.identity.localtest.me',
        'login.identity.localtest.me',
        'identity-dev-azure',
      ])
        expect(`${h}: ${cert.checkHost(h) ?? 'not covered'}`).toBe(`${h}: ${h}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('k8s/kind/coredns-rewrite.mjs patches the coredns ConfigMap through kubectl and restarts CoreDNS, once', () => {
    // A kubectl that serves a Corefile and records every other call.
    const dir = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
    try {
      writeFileSync(join(dir, 'Corefile'), KIND_COREFILE);
      writeFileSync(
        join(dir, 'kubectl'),
        `#!/bin/sh\ncase "$*" in *" get configmap coredns "*) cat "${dir}/Corefile" ;; *) printf '%s\\n' "$*" >> "${dir}/calls" ;; esac\n`,
        { mode: 0o755 },
      );
      const cli = (args: string[]) =>
        spawnSync(process.execPath, [join(k8s, 'kind', 'coredns-rewrite.mjs'), ...args], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        });
      const target = 'identity-dev-azure.identity-platform.svc.cluster.local';
      const first = cli(['login.identity.localtest.me', target]);
      expect(first.stderr).toBe('');
      const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
      expect(calls[0]).toMatch(/^-n kube-system patch configmap coredns --type merge --patch /);
      const patch = JSON.parse((calls[0] ?? '').replace(/^.*--patch /, '')) as {
        data: { Corefile: string };
      };
      expect(patch.data.Corefile).toBe(
        withRewrite(KIND_COREFILE, 'login.identity.localtest.me', target).out,
      );
      expect(calls.slice(1)).toEqual([
        '-n kube-system rollout restart deployment coredns',
        '-n kube-system rollout status deployment coredns --timeout=120s',
      ]);
      // Run again against the patched Corefile: nothing to do.
      writeFileSync(join(dir, 'Corefile'), patch.data.Corefile);
      rmSync(join(dir, 'calls'));
      expect(cli(['login.identity.localtest.me', target]).stdout).toContain('already rewrites');
      expect(() => readFileSync(join(dir, 'calls'))).toThrow();
      expect(cli([]).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("k8s/kind/api-server-egress.mjs turns the cluster's kubernetes Service and endpoints into the stand-ins' egress, and up.sh installs with it", () => {
    // A kubectl that answers as kind's API server does: the Service and its EndpointSlice.
    const dir = mkdtempSync(join(tmpdir(), 'fake-kubectl-'));
    try {
      const service = {
        spec: { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ port: 443 }] },
      };
      const slices = {
        items: [{ endpoints: [{ addresses: ['172.19.0.3'] }], ports: [{ port: 6443 }] }],
      };
      writeFileSync(join(dir, 'service.json'), JSON.stringify(service));
      writeFileSync(join(dir, 'slices.json'), JSON.stringify(slices));
      writeFileSync(
        join(dir, 'kubectl'),
        `#!/bin/sh\ncase "$*" in\n  "-n default get service kubernetes -o json") cat "${dir}/service.json" ;;\n  "-n default get endpointslices -l kubernetes.io/service-name=kubernetes -o json") cat "${dir}/slices.json" ;;\n  *) echo "unexpected: $*" >&2; exit 1 ;;\nesac\n`,
        { mode: 0o755 },
      );
      const cli = () =>
        spawnSync(process.execPath, [join(k8s, 'kind', 'api-server-egress.mjs')], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        });
      const r = cli();
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual([
        { cidr: '10.96.0.1/32', ports: [443] },
        { cidr: '172.19.0.3/32', ports: [6443] },
      ]);
      // A Service without ports would open nothing useful: refused, not an empty rule.
      writeFileSync(
        join(dir, 'service.json'),
        JSON.stringify({ spec: { clusterIP: '10.96.0.1' } }),
      );
      expect(cli().status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const up = readFileSync(join(k8s, 'kind', 'up.sh'), 'utf8');
    expect(up).toContain('api_server="$(node "$here/api-server-egress.mjs")"');
    expect(up).toContain('--set-json "devAzure.apiServerEgress.to=$api_server"');
  });

  it("k8s/kind/up.sh rewrites the stand-ins' ingress host to the release's dev-azure Service, and the certificate covers every ingress host", () => {
    const up = readFileSync(join(k8s, 'kind', 'up.sh'), 'utf8');
    const secrets = readFileSync(join(k8s, 'kind', 'create-secrets.sh'), 'utf8');
    const { objects } = renderSet('kind');
    const ingressHosts = objects
      .filter((o) => o.kind === 'Ingress')
      .flatMap((o) => (o.spec as { tls: { hosts: string[] }[] }).tls.flatMap((t) => t.hosts));
    const loginHost = (
      objects.find((o) => o.kind === 'Ingress' && o.metadata.name === 'identity-dev-azure')!
        .spec as { rules: { host: string }[] }
    ).rules[0]?.host;
    expect(up).toContain(
      `node "$here/coredns-rewrite.mjs" "\${LOGIN_HOST:-${loginHost}}" "$release-dev-azure.$ns.svc.cluster.local"`,
    );
    expect(
      objects.some((o) => o.kind === 'Service' && o.metadata.name === 'identity-dev-azure'),
    ).toBe(true);
    expect(ingressHosts.sort()).toEqual([
      'identity.localtest.me',
      'login.identity.localtest.me',
      'scim.identity.localtest.me',
    ]);
    for (const h of ingressHosts)
      expect(secrets).toMatch(new RegExp(`_HOST:-${h.replace(/\./g, '\\.')}\\}`));
    expect(secrets).toContain(
      "hosts: ['$host', '$scim_host', '$login_host', '$release-dev-azure']",
    );
  });

  it('the rewrite rule works in a real CoreDNS: pods asking for the ingress host get the Service address under the name they asked for', async () => {
    const bin =
      process.env.COREDNS_BIN ||
      spawnSync('sh', ['-c', 'command -v coredns'], { encoding: 'utf8' }).stdout.trim();
    if (!bin)
      throw new Error(
        'coredns is not installed. .ci/run installs it with: GOBIN=/usr/local/bin go install github.com/coredns/coredns@v1.12.0',
      );
    const target = 'identity-dev-azure.identity-platform.svc.cluster.local';
    const rule = withRewrite(KIND_COREFILE, 'login.identity.localtest.me', target)
      .out.split('\n')
      .find((l) => l.includes('rewrite'))!;
    // The script's rule, with `hosts` answering for the Service as the kubernetes plugin would.
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'coredns-'));
    writeFileSync(
      join(dir, 'Corefile'),
      `.:${port} {\n${rule}\n    errors\n    hosts {\n       10.96.12.34 ${target}\n       fallthrough\n    }\n    cache 30\n}\n`,
    );
    const server = spawn(bin, ['-conf', join(dir, 'Corefile')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const resolver = new dns.Resolver({ timeout: 500, tries: 1 });
      resolver.setServers([`127.0.0.1:${port}`]);
      let addresses: string[] = [];
      for (let i = 0; i < 40 && addresses.length === 0; i++) {
        // c-ares drops answers whose owner name differs from the question: CoreDNS must rewrite it back.
        addresses = await resolver.resolve4('login.identity.localtest.me').catch(() => []);
        if (addresses.length === 0) await new Promise((r) => setTimeout(r, 250));
      }
      expect(`${addresses.join(',')}${addresses.length ? '' : `\ncoredns:\n${log}`}`).toBe(
        '10.96.12.34',
      );
      expect(await resolver.resolve4(target)).toEqual(['10.96.12.34']);
      // Only that name: other hosts under the same domain are not captured.
      await expect(resolver.resolve4('scim.identity.localtest.me')).rejects.toThrow();
    } finally {
      server.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
