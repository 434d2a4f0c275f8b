#!/usr/bin/env node
// `npm start`. The server does not exist yet (it arrives with the server and SDK issue); until
// then this says what the project holds and how to exercise it, instead of pretending to serve.
console.log(`Pairwise: a self-hosted, end-to-end-encrypted messenger.

What exists today:
  packages/crypto   the cryptographic core (PQXDH, Double Ratchet, device certificates and lists,
                    link bundles, safety numbers) on WebCrypto, tested in Node and in Chromium.

Try:
  npm test              type check, lint, Node and Chromium test suites
  npm run bench:crypto  operations per second of the cryptographic core on this machine

The server, the client SDK and the web app are not built yet: see docs/architecture.md.`);
