// System tests, one Jest project per tier (see jest.preset.cjs):
// - unit: config/ (the config reference and dev-only switches, from the services' built config);
// - integration: contracts/ (the NATS contracts against a real nats-server);
// - e2e: e2e/ (the local stack, bootstrap, daemon), chart/ (helm, images, kind) and observability/.
module.exports = require('../jest.preset.cjs').tiers({
  dirs: {
    unit: ['config'],
    integration: ['contracts'],
    e2e: ['e2e', 'chart', 'observability'],
  },
});
