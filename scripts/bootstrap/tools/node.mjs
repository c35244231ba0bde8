// Node 24 LTS: the running node when it is 24.11 or newer (unless IDP_USE_PINNED_NODE=1), else the
// pinned build in tools/node (the npm registry's node-<os>-<arch> package, nodejs.org's archive, or brew on macOS).
import { symlinkSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { npmPackage, releaseArchive } from '../methods.mjs';
import { pins } from '../pins.mjs';

export const minimumNode = [24, 11, 0];
export const isCurrentNode = (version) => {
  const [a, b, c] = version.replace(/^v/, '').split('.').map(Number);
  const [x, y, z] = minimumNode;
  return a !== x ? a > x : b !== y ? b > y : c >= z;
};

const home = (ctx) => path.join(ctx.tools, 'node');
const own = (ctx) => path.join(home(ctx), 'bin', 'node');
const archive = releaseArchive('node', (os, arch) => {
  const name = `node-v${pins.node.version}-${os}-${arch === 'amd64' ? 'x64' : arch}`;
  const base = `https://nodejs.org/dist/v${pins.node.version}`;
  return {
    url: `${base}/${name}.tar.gz`,
    sumsUrl: `${base}/SHASUMS256.txt`,
    member: `${name}/bin/node`,
  };
});

export const node = {
  name: 'node',
  pin: pins.node.version,
  candidates: (ctx) => [
    ...(ctx.env.IDP_USE_PINNED_NODE === '1'
      ? []
      : [{ path: process.execPath, pinned: false, accept: isCurrentNode }]),
    {
      path: own(ctx),
      pinned: true,
      stale: () => rmSync(home(ctx), { recursive: true, force: true }),
    },
  ],
  version: (ctx, p) => /v(\d+\.\d+\.\d+)/.exec(ctx.run(p, ['--version']))?.[1],
  methods: [
    {
      name: 'npm registry package',
      unavailable: (ctx) =>
        pins.node.npm[`${ctx.platform}-${ctx.arch}`]
          ? undefined
          : `no npm build of Node ${pins.node.version} for ${ctx.platform}-${ctx.arch}`,
      install(ctx) {
        const { pkg, integrity } = pins.node.npm[`${ctx.platform}-${ctx.arch}`];
        npmPackage(
          ctx,
          { pkg, version: pins.node.version, integrity },
          path.join(home(ctx), 'package'),
        );
        return linkBin(ctx, path.join('..', 'package', 'bin', 'node'));
      },
    },
    {
      ...archive,
      name: 'nodejs.org archive',
      // The archive method puts the binary in tools/bin; node lives apart so tools/bin never shadows the user's node.
      async install(ctx) {
        const p = await archive.install({ ...ctx, bin: path.join(home(ctx), 'package', 'bin') });
        return linkBin(ctx, path.relative(path.join(home(ctx), 'bin'), p));
      },
    },
    {
      name: 'brew install node@24 (any 24.x)',
      unavailable: (ctx) => ctx.brewUnavailable(),
      install: (ctx) => (
        ctx.run('brew', ['install', 'node@24']),
        `${ctx.run('brew', ['--prefix', 'node@24']).trim()}/bin/node`
      ),
      anyVersion: true,
    },
  ],
  fix: 'install Node 24 LTS (https://nodejs.org, nvm install 24, or brew install node@24) and run the command with it',
  env: () => ({}),
};

function linkBin(ctx, target) {
  mkdirSync(path.join(home(ctx), 'bin'), { recursive: true });
  rmSync(own(ctx), { force: true });
  symlinkSync(target, own(ctx));
  return own(ctx);
}
