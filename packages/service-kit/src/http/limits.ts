/**
 * How long a client may take and what it may hold, on every service's HTTP server. Fastify's own
 * defaults leave a request without a deadline (requestTimeout 0): a client that sends headers and
 * then trickles or withholds its body kept a socket and a request slot forever.
 */
export interface HttpLimits {
  /** Whole request line + headers must arrive within this (Node answers 408 and closes). */
  headersTimeoutMs: number;
  /** Whole request, body included, must arrive within this (Node answers 408 and closes). */
  requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this. Longer than ingress-nginx's upstream
   * keep-alive (60 s) and the entry proxy's (4 s), so the proxy never reuses a socket the
   * service is closing at that moment (which would fail a request with a reset).
   */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two request deadlines above (its default, 30 s, stretches them). */
  checkIntervalMs: number;
  /** Largest request line + headers in bytes; more is a 431 (Node's default, said explicitly). */
  maxHeaderSize: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  checkIntervalMs: 1_000,
  maxHeaderSize: 16 * 1024,
};

/**
 * Which peers' X-Forwarded-For / -Host / -Proto are believed (proxy-addr names and CIDRs):
 * loopback (the local entry proxy) and private ranges (ingress controller pods). A peer on a
 * public address is taken at its word for nothing; it gets its socket address, Host and scheme.
 */
export const DEFAULT_TRUSTED_PROXIES = ['loopback', 'linklocal', 'uniquelocal'];
