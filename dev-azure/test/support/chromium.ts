import { createHash, X509Certificate } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';

/**
 * Chromium (CHROMIUM_PATH, else /usr/bin/chromium) trusting exactly the dev CA's key, for the
 * stand-ins' HTTPS: Chromium ignores NODE_EXTRA_CA_CERTS, so the key is pinned by its SPKI hash.
 */
export function launchChromium(ca: { certPem: string }): Promise<Browser> {
  const spki = createHash('sha256')
    .update(new X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
}
