/**
 * The little the store logs: which database it opened, migrations applied, pool errors. A pino
 * or Fastify logger fits. Nothing logged here may hold a password, a token or message content.
 */
export interface StoreLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
