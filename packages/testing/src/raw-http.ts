import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';

/** What came back on a raw connection: the bytes as latin-1 text, whether the peer closed it, and when. */
export interface RawOutcome {
  text: string;
  closed: boolean;
  ms: number;
}

export interface RawExchangeOptions {
  /** How long to collect the answer before giving up (the connection is then destroyed). */
  waitMs: number;
  /** TLS with this SNI name (trusting the CA the process trusts), else plain TCP. */
  tlsServername?: string;
}

/**
 * Writes `data` as is on a fresh connection to 127.0.0.1:`port` (plain or TLS), then collects
 * what comes back until the server closes or `waitMs` passes: for framing, smuggling and
 * slow-client tests that an HTTP client would refuse to send.
 */
export function rawExchange(
  port: number,
  data: string,
  o: RawExchangeOptions,
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = o.tlsServername
      ? connectTls({ port, host: '127.0.0.1', servername: o.tlsServername })
      : connectTcp({ port, host: '127.0.0.1' });
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done(false), o.waitMs);
    socket.on(o.tlsServername ? 'secureConnect' : 'connect', () => socket.write(data));
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}
