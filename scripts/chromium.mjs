// Where Debian's Chromium lives and how Pairwise launches it (see docs/operations.md, "Tests").
// The background-networking flags stop Chromium from trying to reach the internet, which the
// machines this runs on may not have.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
