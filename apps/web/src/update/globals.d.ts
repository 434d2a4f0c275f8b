/** Replaced at build time (vite.config.ts `define`): the protocol version the app speaks. */
declare const __PAIRWISE_PROTOCOL_VERSION__: number;
