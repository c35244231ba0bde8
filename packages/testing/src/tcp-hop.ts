import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP hop between the service and PostgreSQL, to cut or stall the network the way a failover
 * or a dead link does while the server itself keeps running.
 */
export class TcpHop {
  /** New connections are accepted and never answered (the startup message is read and dropped). */
  stalled = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      this.track(client);
      if (this.stalled) return void client.resume();
      const upstream = this.track(connect(this.targetPort, '127.0.0.1'));
      client.pipe(upstream).pipe(client);
      // Either side gone (PostgreSQL stopped or refusing): the other goes too, as through a proxy.
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  }

  /** Drops every open connection, both ways. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Existing connections die (as in a failover) and new ones are never answered. */
  stall(): void {
    this.stalled = true;
    this.cut();
  }

  /** `url` with its port replaced by the hop's (listening from now on). */
  async route(url: string): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    const routed = new URL(url);
    routed.port = String(this.port);
    return routed.toString();
  }
  private port = 0;

  /** Closes the port: connections are refused (ECONNREFUSED), as by a host whose database is down. */
  async refuse(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Listens again on the same port after {@link refuse}. */
  async accept(): Promise<void> {
    if (this.server.listening) return;
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.cut();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}
