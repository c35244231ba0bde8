// The ways a pinned tool gets into the tools folder: go install, an npm registry package,
// a release archive checked against its sha256. Each stages in a temporary folder inside the
// tools folder and renames into place, so a half-done install is never picked up.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { archiveSha256 } from './pins.mjs';

export function staging(ctx) {
  mkdirSync(ctx.tools, { recursive: true });
  // Readable by other users: as root, PostgreSQL runs from here as the `postgres` user.
  chmodSync(ctx.tools, 0o755);
  return mkdtempSync(path.join(ctx.tools, '.staging-'));
}

/** Moves a staged file or folder to `dest`, replacing what was there (running copies keep their inode). */
export function place(from, dest) {
  mkdirSync(path.dirname(dest), { recursive: true });
  if (existsSync(dest) && statSync(dest).isDirectory())
    rmSync(dest, { recursive: true, force: true });
  renameSync(from, dest);
  return dest;
}

/**
 * `go install <module>@v<version>` with GOBIN in a staging folder, the binary then moved to tools/bin.
 * `ldflags`: what the project's own release build stamps in (e.g. helm's full version).
 */
export function goInstall(binary, module, version, ldflags) {
  return {
    name: 'go install',
    unavailable: (ctx) => (ctx.which('go') ? undefined : 'go not found on PATH'),
    install(ctx) {
      const dir = staging(ctx);
      try {
        // Outside the repository (no go.mod around), with the user's module and build caches.
        ctx.run(
          ctx.which('go'),
          ['install', ...(ldflags ? [`-ldflags=${ldflags}`] : []), `${module}@v${version}`],
          { cwd: dir, env: { GOBIN: dir, GOFLAGS: '-mod=mod' }, timeout: 1800000 },
        );
        return place(path.join(dir, binary), path.join(ctx.bin, binary));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const goArch = { x64: 'amd64', arm64: 'arm64' };
const goOs = { linux: 'linux', darwin: 'darwin' };

/**
 * A release archive (tar.gz) from the project's download site, verified against archiveSha256 or,
 * when not pinned there, the checksum file published with it; `member` is the binary's path inside.
 */
export function releaseArchive(binary, describe) {
  return {
    name: 'release archive',
    unavailable: (ctx) =>
      goOs[ctx.platform] && goArch[ctx.arch]
        ? ctx.which('tar')
          ? undefined
          : 'tar not found'
        : `no release build for ${ctx.platform}-${ctx.arch}`,
    async install(ctx) {
      const { url, sumsUrl, member } = describe(goOs[ctx.platform], goArch[ctx.arch]);
      const file = url.split('/').pop();
      const dir = staging(ctx);
      try {
        const archive = Buffer.from(await (await fetchOk(url, 300000)).arrayBuffer());
        const actual = createHash('sha256').update(archive).digest('hex');
        const expected =
          archiveSha256[file] ?? sumFor(await (await fetchOk(sumsUrl, 60000)).text(), file);
        if (actual !== expected)
          throw new Error(`sha256 mismatch for ${file}: got ${actual}, expected ${expected}`);
        writeFileSync(path.join(dir, file), archive);
        ctx.run('tar', ['-xzf', file], { cwd: dir });
        chmodSync(path.join(dir, member), 0o755);
        return place(path.join(dir, member), path.join(ctx.bin, binary));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function fetchOk(url, ms) {
  const res = await fetch(url, { signal: AbortSignal.timeout(ms) }).catch((e) => {
    throw new Error(`${url}: ${e.cause?.message ?? e.message}`);
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

/** The hex sha256 for `file` in a checksum file ("<hex>  <name>" lines, or a lone hex). */
function sumFor(text, file) {
  const lines = text.trim().split('\n');
  const line =
    lines.find((l) => l.trim().endsWith(file)) ?? (lines.length === 1 ? lines[0] : undefined);
  const hex = line?.trim().split(/\s+/)[0];
  if (!hex || !/^[0-9a-f]{64}$/i.test(hex))
    throw new Error(`no sha256 for ${file} in its checksum file`);
  return hex.toLowerCase();
}

/**
 * An npm registry package unpacked into `dest` without running any of its scripts: `npm pack`
 * fetches the tarball (through npm's cache), its sha512 is checked against the pinned integrity.
 */
export function npmPackage(ctx, { pkg, version, integrity }, dest) {
  const npm = ctx.which('npm');
  if (!npm) throw new Error('npm not found on PATH');
  const dir = staging(ctx);
  try {
    ctx.run(
      npm,
      ['pack', `${pkg}@${version}`, '--ignore-scripts', '--silent', '--pack-destination', dir],
      { cwd: dir, timeout: 900000 },
    );
    const tgz = path.join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.tgz')),
    );
    const actual = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
    if (actual !== integrity)
      throw new Error(`${pkg}@${version}: integrity mismatch (got ${actual})`);
    ctx.run('tar', ['-xzf', tgz], { cwd: dir });
    return place(path.join(dir, 'package'), dest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
