// nats-server authorization for the tests, the same shape as production (see the README):
// every service its own user; only `<user>` may publish to tokens.acquire.v1.<user>; replies
// come back on the user's own inbox prefix.
export const BROKER_USER = { user: 'token-broker', password: 'broker-dev-pw' };
/** As service-kit opens the broker's connection: its own inbox prefix, all it may subscribe to. */
export const BROKER_INBOX_PREFIX = `_INBOX.${BROKER_USER.user}`;
export const CALLERS = ['policy-reader', 'claims-sync', 'intruder'] as const;
export type Caller = (typeof CALLERS)[number];
export const callerPassword = (u: Caller): string => `${u}-dev-pw`;

export function natsAuthorization(): string {
  const caller = (u: string) =>
    `{ user: "${u}", password: "${u}-dev-pw", permissions: { publish: { allow: ["tokens.acquire.v1.${u}"] }, subscribe: { allow: ["_INBOX.${u}.>"] } } }`;
  return `authorization {
  users = [
    { user: "${BROKER_USER.user}", password: "${BROKER_USER.password}", permissions: {
        publish: { allow: ["$JS.API.>", "tokens.issued.>", "$SRV.>", "_INBOX.>"] },
        subscribe: { allow: ["tokens.acquire.v1.*", "$SRV.>", "_INBOX.${BROKER_USER.user}.>"] },
        allow_responses: true } }
    ${CALLERS.map(caller).join('\n    ')}
  ]
}`;
}
