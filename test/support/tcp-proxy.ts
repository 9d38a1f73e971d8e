import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback between the service and a real server (MariaDB in the outage tests). `cut()` destroys
 * every connection and refuses new ones (accepted and reset at once) — as if the server had gone away; `restore()`
 * lets connections through again. The listening port never changes, so clients reconnect by themselves.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private down = false;
  /** Connections refused while cut. */
  refused = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    const p = new TcpProxy(server, address.port);
    server.on('connection', (client: Socket) => {
      if (p.down) {
        p.refused++;
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      p.sockets.add(client);
      p.sockets.add(upstream);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
        p.sockets.delete(client);
        p.sockets.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return p;
  }

  get connections(): number {
    return this.sockets.size / 2;
  }

  /** Destroys every open connection and refuses new ones until `restore()`. */
  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
