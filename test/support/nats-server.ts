import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface NatsServer {
  url: string;
  /** Its temporary directory (config, JetStream store). */
  dir: string;
  stop(): Promise<void>;
}


/**
 * A private nats-server (the machine's binary) with JetStream in a temporary directory, on a random loopback port,
 * with `config` (nats-server syntax) appended to its own listen and JetStream settings. `files` are written next to
 * the config first (for `include`); `env` is the server's environment (for `$VARIABLE` references).
 */
export async function startNatsServer(config: string, opts: { files?: Record<string, string>; env?: Record<string, string> } = {}): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nats-server-'));
  const port = await freePort();
  for (const [name, text] of Object.entries(opts.files ?? {})) await writeFile(join(dir, name), text);
  const file = join(dir, 'server.conf');
  await writeFile(file, `host: 127.0.0.1\nport: ${port}\njetstream { store_dir: "${join(dir, 'js')}" }\n${config}\n`);
  const child = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '', ...opts.env } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nats-server exited: ${stderr}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return { url: `nats://127.0.0.1:${port}`, dir, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nats-server did not listen: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
