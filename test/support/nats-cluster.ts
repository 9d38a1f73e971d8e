import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './ports.js';


export interface NatsNode {
  name: string;
  url: string;
  /** The running server (replaced by `restart`). */
  readonly child: ChildProcess;
  kill(): Promise<void>;
  /** Starts the server again after `kill`: same name, ports and JetStream store. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Comma list of every node's URL (the service's NATS_URL). */
  url: string;
  stop(): Promise<void>;
}

/** A private 3-node nats-server cluster with JetStream on loopback (nats-server from the machine). */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort() })));
  const routes = ports.map((p) => `nats://127.0.0.1:${p.cluster}`).join(',');
  const nodes: NatsNode[] = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const args = [
      '-a', '127.0.0.1', '-p', String(p.client), '-js', '-sd', join(dir, name), '--server_name', name,
      '--cluster_name', 'test', '--cluster', `nats://127.0.0.1:${p.cluster}`, '--routes', routes,
    ];
    let child = spawn('nats-server', args, { stdio: 'ignore' });
    return {
      name, url: `nats://127.0.0.1:${p.client}`,
      get child() {
        return child;
      },
      kill: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGKILL');
        await once(child, 'exit');
      },
      restart: async () => {
        if (child.exitCode === null && child.signalCode === null) throw new Error(`NATS node ${name} is still running`);
        child = spawn('nats-server', args, { stdio: 'ignore' });
        await once(child, 'spawn');
      },
    };
  });
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  // ready once JetStream has a meta leader and accepts an R3 stream
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const nc = await connect({ servers: cluster.url.split(','), timeout: 1000 });
      try {
        const jsm = await nc.jetstreamManager();
        await jsm.streams.add({ name: 'READY_PROBE', subjects: ['ready.probe'], num_replicas: size });
        await jsm.streams.delete('READY_PROBE');
        return cluster;
      } finally {
        await nc.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await cluster.stop();
        throw new Error(`NATS cluster did not become ready: ${String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
