// Child processes of a benchmark and what /proc says about them (Linux only), shared by
// bench/ring and bench/idle.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Pins every thread of `pid` to `cpu` (a taskset CPU list, such as "1"). */
export function pin(pid, cpu) {
  execFileSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' });
}

/**
 * Pins every running PostgreSQL process (and so the backends the postmaster forks later) to `cpu`,
 * as if the database ran on a machine of its own, away from the server's core. Returns a function
 * that gives each process back the CPUs it had. Needs the right to change those processes.
 */
export function pinPostgres(cpu) {
  const pids = execFileSync('ps', ['-C', 'postgres', '-o', 'pid='], { encoding: 'utf8' }).split('\n').map((line) => line.trim()).filter(Boolean);
  if (pids.length === 0) throw new Error('--postgres-cpu: no postgres process is running on this machine');
  const before = pids.map((pid) => [pid, /: ([0-9a-f]+)\s*$/.exec(execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }))[1]]);
  for (const pid of pids) pin(pid, cpu);
  return () => {
    for (const [pid, mask] of before) {
      try {
        execFileSync('taskset', ['-a', '-p', mask, pid], { stdio: 'ignore' });
      } catch {
        // The process has ended since; a backend forked after the pin inherits the postmaster's mask.
      }
    }
  };
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process, in MiB. */
export function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Starts a child and resolves once `ready` matches its output. */
export function startChild(command, args, env, ready, what) {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${output}`)), 30_000);
    void exited.then((code) => reject(new Error(`${what} exited with ${code}:\n${output}`)));
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        match,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}
