/**
 * CPU accounting from /proc (Linux): utime + stime of a process, read before and after a load window, and the
 * pids of the shared servers found by the TCP port they listen on. Elsewhere every reading is null.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every Linux the bench runs on

/** CPU time (ms) a process has used so far, or null when it is gone or /proc is not there. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: fields are counted after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Busy and total CPU time (ms, all cores) of the machine, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
  } catch {
    return null;
  }
}

export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** The pid of the process listening on a local TCP port (IPv4 or IPv6), or null. Needs to see its /proc/<pid>/fd. */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      if (parseInt(f[1]!.split(':').pop()!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) return Number(pid);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return null;
}

export interface Watched {
  name: string;
  pid: number;
  /** true: a server the machine shares (its CPU includes whatever else uses it meanwhile). */
  shared: boolean;
}

export interface CpuShare {
  name: string;
  pid: number;
  shared: boolean;
  cpu_ms: number;
  ms_per_op: number;
  pct_of_window: number;
}

/** Takes a reading of every watched process; `finish` turns two readings into shares of the window. */
export function cpuSnapshot(watched: Watched[]): { at: number; machine: ReturnType<typeof machineCpuMs>; cpu: Map<number, number | null> } {
  return { at: performance.now(), machine: machineCpuMs(), cpu: new Map(watched.map((w) => [w.pid, processCpuMs(w.pid)])) };
}

export function cpuShares(watched: Watched[], before: ReturnType<typeof cpuSnapshot>, after: ReturnType<typeof cpuSnapshot>, ops: number): { windowMs: number; shares: CpuShare[]; machineBusyPct: number | null; machineCores: number | null } {
  const windowMs = after.at - before.at;
  const shares: CpuShare[] = [];
  for (const w of watched) {
    const a = before.cpu.get(w.pid);
    const b = after.cpu.get(w.pid);
    if (a == null || b == null) continue;
    const ms = b - a;
    shares.push({ name: w.name, pid: w.pid, shared: w.shared, cpu_ms: ms, ms_per_op: round(ms / Math.max(1, ops), 4), pct_of_window: round((100 * ms) / windowMs, 1) });
  }
  let machineBusyPct: number | null = null;
  let machineCores: number | null = null;
  if (before.machine && after.machine) {
    const total = after.machine.total - before.machine.total;
    machineBusyPct = round((100 * (after.machine.busy - before.machine.busy)) / Math.max(1, total), 1);
    machineCores = Math.round(total / windowMs);
  }
  return { windowMs, shares, machineBusyPct, machineCores };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
