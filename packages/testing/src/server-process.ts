/**
 * Starts the real server as a child process, the way `npm start` runs it, on a free port with a
 * fresh data directory. Integration tests talk to it over real WebSockets and may kill it.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_MAIN = join(dirname(fileURLToPath(import.meta.url)), '../../server/dist/main.js');

/** A running server process. */
export interface ServerProcess {
  /** The WebSocket URL. */
  readonly url: string;
  /** The public origin the server was told it has. */
  readonly origin: string;
  readonly port: number;
  readonly dataDir: string;
  /** The server child's process id, e.g. to read its memory use from /proc/<pid>/status. */
  readonly pid: number;
  /** Everything it printed (structured logs), for tests that check what is logged. */
  readonly output: () => string;
  /** SIGKILL: no shutdown code runs, exactly like a crash or power cut. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /**
   * Starts the same server again (same port and data) after kill or stop, with the same settings
   * unless `env` changes some of them (e.g. a new WEB_ROOT or MIN_PROTOCOL_VERSION).
   */
  restart(env?: Record<string, string>): Promise<ServerProcess>;
  /** Moves the server's clock forward (the harness starts servers with the test clock on). */
  advanceClock(ms: number): Promise<void>;
  /** Runs the server's housekeeping now (expiry) instead of waiting for its timer. */
  sweep(): Promise<void>;
}

/** Options for a test server. */
export interface ServerProcessOptions {
  /** Extra environment (e.g. MAX_COMPANIONS, REGISTRATION). */
  readonly env?: Record<string, string>;
  /** Reuse a data directory (restart); a fresh temporary one otherwise. */
  readonly dataDir?: string;
  readonly port?: number;
}

/** Starts a server process and resolves once it is listening. */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pairwise-server-'));
  let output = '';
  // The public origin (and so the port) must be known before start: device signatures bind it.
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      PAIRWISE_TEST_CLOCK: '1',
      // Every test client comes from 127.0.0.1, dozens at once: the limits per address (SPEC LIMIT-4,
      // LIMIT-8) are tested by the tests that set them low again.
      REGISTRATIONS_PER_HOUR_PER_ADDRESS: '1000000',
      MAX_PENDING_CONNECTIONS_PER_ADDRESS: '1000',
      ...(process.env.DATABASE_URL_FOR_SERVER ? { DATABASE_URL: process.env.DATABASE_URL_FOR_SERVER } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /"address":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
    setTimeout(() => reject(new Error(`server did not start within 20 s:\n${output}`)), 20_000).unref();
  });
  const actualPort = await listening;
  // A child that is listening has been spawned, so it has a pid.
  const pid = child.pid;
  if (pid === undefined) throw new Error('the server process has no pid');
  const origin = options.env?.PUBLIC_ORIGIN ?? `http://localhost:${actualPort}`;
  const processHandle: ServerProcess = {
    url: `ws://127.0.0.1:${actualPort}/ws`,
    origin,
    port: actualPort,
    dataDir,
    pid,
    output: () => output,
    kill: () => stopChild(child, 'SIGKILL'),
    stop: () => stopChild(child, 'SIGTERM'),
    restart: (env = {}) => startServerProcess({ ...options, env: { ...options.env, ...env }, dataDir, port: actualPort }),
    async advanceClock(ms: number) {
      await testHook(actualPort, 'clock', { advanceMs: ms });
    },
    async sweep() {
      await testHook(actualPort, 'sweep', {});
    },
  };
  return processHandle;
}

/** Removes a server's data directory once no test needs it. */
export function removeDataDir(server: ServerProcess): void {
  rmSync(server.dataDir, { recursive: true, force: true });
}

async function testHook(port: number, name: string, body: object): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/__test__/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`test hook ${name} failed: ${response.status}`);
}

/** A port that was free a moment ago (loopback only), e.g. for a METRICS_PORT. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
