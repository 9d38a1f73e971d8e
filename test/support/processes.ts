import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { testEnv } from './env.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  url?: string;
  output: string[];
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to clean up. */
  kill9(): Promise<void>;
}

/** Starts the service as a separate OS process (`node --import tsx src/main.ts`) and waits until it is started. */
export async function spawnService(namespace: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...testEnv(namespace, { LOG_LEVEL: 'info', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let url: string | undefined;
  const started = new Promise<void>((resolve, reject) => {
    const onLine = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        output.push(line);
        if (output.length > 2000) output.shift();
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'started') {
            url = entry.url;
            resolve();
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    child.once('exit', (code) => reject(new Error(`service exited early (${code}):\n${output.slice(-20).join('\n')}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await started.finally(() => clearTimeout(timeout));
  const proc: ServiceProcess = {
    child,
    output,
    ...(url ? { url } : {}),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
  return proc;
}
