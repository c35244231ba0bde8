// A certified OpenID Provider (panva/oidc-provider) as an independent judge of our client
// assertions: one client authenticating with private_key_jwt against the certificate's public
// key. Runs in its own process because oidc-provider is ESM-only.
// Env: PORT, CLIENT_ID, CLIENT_JWK (public JWK JSON). Prints {"issuer","tokenEndpoint"} when listening.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [JSON.parse(process.env.CLIENT_JWK ?? '{}')] },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
});
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ issuer, tokenEndpoint: `${issuer}/token` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
