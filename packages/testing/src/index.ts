export { freePort, waitForPort } from './ports';
export { natsServerBinary, postgresBinDir } from './binaries';
export { startNats, type NatsServerOptions, type TestNatsServer } from './nats';
export { startPostgres, type PostgresOptions, type TestPostgres } from './postgres';
export { startNode, waitForHttp, type RunningProcess } from './process';
export { callJson, type JsonCallOptions, type JsonCallResult } from './http';
