/**
 * For tests that need NATS: the shared broker of the machine (NATS_URL), or a private
 * `nats-server` child that a test may stop and start again (a broker restart, a partition).
 * Under CI=true both are required; elsewhere the tests that need them are skipped, saying so.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect as connectTcp } from 'node:net';

/** The shared broker's URL, or `null` when none is configured. */
export function sharedNatsUrl(): string | null {
  return process.env.NATS_URL?.trim() || null;
}

/** A subject no other test run uses, so that runs on one broker never hear each other. */
export function freshSubject(prefix = 'pairwise-test'): string {
  return `${prefix}.${randomBytes(6).toString('hex')}.events`;
}

/** Whether a `nats-server` binary is on the PATH. */
export async function hasNatsServerBinary(): Promise<boolean> {
  return await new Promise((resolve) => {
    const child = spawn('nats-server', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** A private broker on its own port. */
export interface PrivateNats {
  readonly url: string;
  /** Stops the broker (SIGKILL: clients see the connection drop as in a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/**
 * Starts `nats-server` on a free loopback port; no JetStream, nothing kept on disk. `args` go to
 * nats-server as they are (`--user u --pass p` for a broker that wants a login).
 */
export async function startPrivateNats(args: readonly string[] = []): Promise<PrivateNats> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: 'ignore' });
    await waitForPort(port);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    async kill() {
      const running = child;
      child = null;
      if (running === null || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGKILL');
      });
    },
  };
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
