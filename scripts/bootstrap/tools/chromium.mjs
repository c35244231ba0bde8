// Chromium for the browser tests: CHROMIUM_PATH, else one on PATH or in the usual places, else the
// OS package (apt as root/sudo, brew on macOS), else Playwright's own download into tools/playwright.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../context.mjs';

const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const macApps = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];
const playwrightDir = (ctx) => path.join(ctx.tools, 'playwright');

function playwrightChromium(ctx) {
  const require = createRequire(path.join(repoRoot, 'test', 'package.json'));
  const prev = process.env.PLAYWRIGHT_BROWSERS_PATH;
  process.env.PLAYWRIGHT_BROWSERS_PATH = playwrightDir(ctx);
  try {
    return require('playwright-core').chromium.executablePath();
  } finally {
    if (prev === undefined) delete process.env.PLAYWRIGHT_BROWSERS_PATH;
    else process.env.PLAYWRIGHT_BROWSERS_PATH = prev;
  }
}
const safely = (f) => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

export const chromium = {
  name: 'chromium',
  override: 'CHROMIUM_PATH',
  candidates: (ctx) =>
    [
      ...names.map((n) => ctx.which(n)),
      ...macApps.filter(existsSync),
      safely(() => playwrightChromium(ctx)),
    ]
      .filter((p) => p && existsSync(p))
      .map((p) => ({ path: p })),
  version: (ctx, p) => /(\d+\.\d+\.\d+\.\d+)/.exec(ctx.run(p, ['--version']))?.[1],
  methods: [
    {
      name: 'apt-get install chromium',
      unavailable: (ctx) => ctx.aptUnavailable(),
      install: (ctx) => (ctx.apt(['chromium']), '/usr/bin/chromium'),
    },
    {
      name: 'brew install --cask chromium',
      unavailable: (ctx) => ctx.brewUnavailable(),
      install: (ctx) => (ctx.run('brew', ['install', '--cask', 'chromium']), macApps[0]),
    },
    {
      name: 'playwright install chromium',
      unavailable: () =>
        existsSync(path.join(repoRoot, 'node_modules', 'playwright-core', 'cli.js'))
          ? undefined
          : 'playwright-core is not installed (npm install first)',
      install(ctx) {
        ctx.run(
          process.execPath,
          [path.join(repoRoot, 'node_modules', 'playwright-core', 'cli.js'), 'install', 'chromium'],
          { env: { PLAYWRIGHT_BROWSERS_PATH: playwrightDir(ctx) }, timeout: 900000 },
        );
        return playwrightChromium(ctx);
      },
    },
  ],
  fix: 'apt-get install chromium (Debian/Ubuntu), brew install --cask chromium (macOS), or set CHROMIUM_PATH to a Chromium or Chrome binary',
  env: (p) => ({ CHROMIUM_PATH: p }),
};
