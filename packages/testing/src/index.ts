export { freePort, waitForPort } from './ports';
export { natsServerBinary, postgresBinDir } from './binaries';
export { startNats, type NatsServerOptions, type TestNatsServer } from './nats';
export { startPostgres, type PostgresOptions, type TestPostgres } from './postgres';
export { startNode, waitForHttp, type RunningProcess } from './process';
export { observeLifecycle, type LifecycleObservation } from './service-lifecycle';
export { callJson, getWithRawHeaders, type JsonCallOptions, type JsonCallResult } from './http';
export { rawExchange, type RawExchangeOptions, type RawOutcome } from './raw-http';
export {
  TokenIssuer,
  DEFAULT_B2C_FLOWS,
  type Realm,
  type TokenIssuerOptions,
  type SignOptions,
  type B2cTokenClaims,
  type CiamTokenClaims,
  type AppTokenClaims,
} from './token-issuer';
export {
  TestKey,
  unsignedToken,
  tamperPayload,
  hs256Token,
  type TestAlg,
  type Claims,
} from './token-keys';
export {
  nowSeconds,
  times,
  b2cUserClaims,
  ciamUserClaims,
  appClaims,
  appClaimsV1,
  type TimeClaims,
  type ClaimsInput,
} from './token-claims';
export { TcpHop } from './tcp-hop';
