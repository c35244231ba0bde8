// The pinned Go programs: nats-server (the message broker), helm (chart tests), coredns (the kind
// DNS rewrite test), promtool (the chart's alert rules), jaeger (the trace UI of `up --traces`). Each: the tools folder or PATH at the pinned version, else go install, else
// the release archive, else (nats-server only) the OS package.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goInstall, place, releaseArchive, staging } from '../methods.mjs';
import { pins } from '../pins.mjs';

/** A pinned binary found in tools/bin or on PATH; a stale copy in tools/bin is removed so it cannot shadow. */
function pinnedCandidates(ctx, binary, extra = []) {
  const own = path.join(ctx.bin, binary);
  return [
    { path: own, pinned: true, stale: () => rmSync(own, { force: true }) },
    { path: ctx.which(binary), pinned: true },
    ...extra.map((p) => ({ path: p, pinned: true })),
  ];
}

export const natsServer = {
  name: 'nats-server',
  pin: pins.natsServer.version,
  override: 'NATS_SERVER_BIN',
  candidates: (ctx) =>
    pinnedCandidates(
      ctx,
      'nats-server',
      ['/usr/sbin/nats-server', '/usr/bin/nats-server'].filter(existsSync),
    ),
  version: (ctx, p) => /v(\d+\.\d+\.\d+)/.exec(ctx.run(p, ['--version']))?.[1],
  methods: [
    goInstall('nats-server', pins.natsServer.module, pins.natsServer.version),
    releaseArchive('nats-server', (os, arch) => {
      const base = `https://github.com/nats-io/nats-server/releases/download/v${pins.natsServer.version}`;
      const name = `nats-server-v${pins.natsServer.version}-${os}-${arch}`;
      return {
        url: `${base}/${name}.tar.gz`,
        sumsUrl: `${base}/SHA256SUMS`,
        member: `${name}/nats-server`,
      };
    }),
    {
      name: 'apt-get install nats-server (any version)',
      unavailable: (ctx) => ctx.aptUnavailable(),
      install: (ctx) => (
        ctx.apt(['nats-server']),
        ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find(existsSync)
      ),
      anyVersion: true,
    },
    {
      name: 'brew install nats-server (any version)',
      unavailable: (ctx) => ctx.brewUnavailable(),
      install: (ctx) => (ctx.run('brew', ['install', 'nats-server']), ctx.which('nats-server')),
      anyVersion: true,
    },
  ],
  fix: `go install ${pins.natsServer.module}@v${pins.natsServer.version} (then set NATS_SERVER_BIN=$(go env GOPATH)/bin/nats-server)`,
  env: (p) => ({ NATS_SERVER_BIN: p }),
};

export const helm = {
  name: 'helm',
  pin: pins.helm.version,
  candidates: (ctx) => pinnedCandidates(ctx, 'helm'),
  version: (ctx, p) =>
    /v(\d+\.\d+\.\d+)/.exec(ctx.run(p, ['version', '--template', '{{.Version}}']))?.[1],
  methods: [
    // Without helm's release ldflags it would report "v3.22" (its source default).
    goInstall(
      'helm',
      pins.helm.module,
      pins.helm.version,
      `-X helm.sh/helm/v3/internal/version.version=v${pins.helm.version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean`,
    ),
    releaseArchive('helm', (os, arch) => {
      const url = `https://get.helm.sh/helm-v${pins.helm.version}-${os}-${arch}.tar.gz`;
      return { url, sumsUrl: `${url}.sha256sum`, member: `${os}-${arch}/helm` };
    }),
  ],
  fix: `go install ${pins.helm.module}@v${pins.helm.version} and put $(go env GOPATH)/bin on PATH`,
  // The chart tests run the first `helm` on PATH: tools/bin comes first there.
  env: () => ({}),
};

export const coredns = {
  name: 'coredns',
  pin: pins.coredns.version,
  override: 'COREDNS_BIN',
  candidates: (ctx) => pinnedCandidates(ctx, 'coredns'),
  version: (ctx, p) => /CoreDNS-(\d+\.\d+\.\d+)/.exec(ctx.run(p, ['-version']))?.[1],
  methods: [
    goInstall('coredns', pins.coredns.module, pins.coredns.version),
    releaseArchive('coredns', (os, arch) => {
      const url = `https://github.com/coredns/coredns/releases/download/v${pins.coredns.version}/coredns_${pins.coredns.version}_${os}_${arch}.tgz`;
      return { url, sumsUrl: `${url}.sha256`, member: 'coredns' };
    }),
  ],
  fix: `go install ${pins.coredns.module}@v${pins.coredns.version} (then set COREDNS_BIN=$(go env GOPATH)/bin/coredns)`,
  env: (p) => ({ COREDNS_BIN: p }),
};

export const promtool = {
  name: 'promtool',
  pin: pins.promtool.version,
  override: 'PROMTOOL_BIN',
  candidates: (ctx) => pinnedCandidates(ctx, 'promtool'),
  version: (ctx, p) => /version (\d+\.\d+\.\d+)/.exec(ctx.run(p, ['--version']))?.[1],
  methods: [
    // Without Prometheus' release ldflags it would report an empty version.
    goInstall(
      'promtool',
      pins.promtool.module,
      pins.promtool.moduleVersion,
      `-X github.com/prometheus/common/version.Version=${pins.promtool.version}`,
    ),
    releaseArchive('promtool', (os, arch) => {
      const v = pins.promtool.version;
      const base = `https://github.com/prometheus/prometheus/releases/download/v${v}`;
      const name = `prometheus-${v}.${os}-${arch}`;
      return {
        url: `${base}/${name}.tar.gz`,
        sumsUrl: `${base}/sha256sums.txt`,
        member: `${name}/promtool`,
      };
    }),
  ],
  fix: `go install ${pins.promtool.module}@v${pins.promtool.moduleVersion} (then set PROMTOOL_BIN=$(go env GOPATH)/bin/promtool)`,
  env: (p) => ({ PROMTOOL_BIN: p }),
};

export const jaeger = {
  name: 'jaeger',
  pin: pins.jaeger.version,
  override: 'JAEGER_BIN',
  candidates: (ctx) => pinnedCandidates(ctx, 'jaeger'),
  version: (ctx, p) => /"gitVersion":"v(\d+\.\d+\.\d+)"/.exec(ctx.run(p, ['version']))?.[1],
  methods: [
    // The release build embeds the web UI (built from jaeger-ui, not part of the Go module).
    releaseArchive('jaeger', (os, arch) => {
      const v = pins.jaeger.version;
      const base = `https://github.com/jaegertracing/jaeger/releases/download/v${v}`;
      const name = `jaeger-${v}-${os}-${arch}`;
      return {
        url: `${base}/${name}.tar.gz`,
        sumsUrl: `${base}/jaeger-${v}.sha256sum.txt`,
        member: `${name}/jaeger`,
      };
    }),
    {
      // No release download: the Go module. Traces are received and queryable (API at :16686/api),
      // but without the release's embedded UI assets the page at :16686 is a placeholder.
      // `go install jaeger@v…` refuses Jaeger's go.mod (it has a replace directive): build it from a
      // throwaway module requiring the pinned version with the same replace, stamped as its release is.
      name: 'go build',
      unavailable: (ctx) => (ctx.which('go') ? undefined : 'go not found on PATH'),
      install(ctx) {
        const dir = staging(ctx);
        try {
          const { module, moduleVersion, version } = pins.jaeger;
          writeFileSync(
            path.join(dir, 'go.mod'),
            [
              'module jaeger-build',
              'go 1.24.6',
              `require github.com/jaegertracing/jaeger v${moduleVersion}`,
              'replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0',
              '',
            ].join('\n'),
          );
          const opts = { cwd: dir, env: { GOFLAGS: '-mod=mod' }, timeout: 1800000 };
          ctx.run(ctx.which('go'), ['get', `${module}@v${moduleVersion}`], opts);
          const ldflags = `-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v${version}`;
          ctx.run(ctx.which('go'), ['build', `-ldflags=${ldflags}`, '-o', 'jaeger', module], opts);
          return place(path.join(dir, 'jaeger'), path.join(ctx.bin, 'jaeger'));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    },
  ],
  fix: `go install ${pins.jaeger.module}@v${pins.jaeger.moduleVersion} (then set JAEGER_BIN=$(go env GOPATH)/bin/jaeger)`,
  env: (p) => ({ JAEGER_BIN: p }),
};
