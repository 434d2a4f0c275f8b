// A generator process of bench/idle (forked by run.mjs, which it answers over IPC): registers its
// share of the idle accounts, then signs their devices in and keeps the sockets open, doing
// nothing else (ws answers the server's keepalive pings by itself). One process can hold only as
// many sockets as its open-file limit allows, hence several.
//
//   -> { type: 'register', mode, url, origin, first, count, prefix, concurrency }  <- { type: 'registered', seconds }
//   -> { type: 'connect', url, origin, addresses: [{ address, count }], concurrency } <- { type: 'connected', seconds }
//   -> { type: 'status' }  <- { type: 'status', open, closed, closeCodes }
//   -> { type: 'stop' }    (closes everything and exits)
// Any failure: <- { type: 'error', message }, and the process exits.
import { performance } from 'node:perf_hooks';
import { signInDevice } from '../ring/pairwise-system.mjs';
import { registerIdleAccounts } from './register-accounts.mjs';

let accounts = [];
const sockets = [];
let closed = 0;
const closeCodes = {};

const handlers = {
  async register({ mode, url, origin, first, count, prefix, concurrency }) {
    const result = await registerIdleAccounts({ mode, url, origin, count, first, prefix, concurrency });
    accounts = result.accounts;
    return { type: 'registered', seconds: result.seconds };
  },
  async connect({ url, origin, addresses, concurrency }) {
    // Account i signs in from the address whose run of counts covers i.
    const sourceOf = addresses.flatMap(({ address, count }) => Array(count).fill(address));
    if (sourceOf.length !== accounts.length) throw new Error(`${sourceOf.length} source addresses for ${accounts.length} accounts`);
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < accounts.length) {
        const i = next++;
        const socket = await signInDevice({ url, origin, account: accounts[i], localAddress: sourceOf[i] });
        socket.once('close', (code) => {
          closed++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        });
        sockets.push(socket);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
    return { type: 'connected', seconds: (performance.now() - started) / 1000 };
  },
  status() {
    return { type: 'status', open: sockets.filter((socket) => socket.readyState === socket.OPEN).length, closed, closeCodes };
  },
  stop() {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  },
};

process.on('message', (message) => {
  Promise.resolve()
    .then(() => handlers[message.type](message))
    .then((answer) => process.send(answer))
    .catch((error) => {
      process.send({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
    });
});
