// unit: configuration parsing; integration: the stand-ins on free ports driven by the real
// Azure SDKs, MSAL and HTTP; e2e: the sign-in pages in Chromium.
module.exports = require('../jest.preset.cjs').tiers();
