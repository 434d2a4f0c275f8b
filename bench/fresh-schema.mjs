// A fresh PostgreSQL schema for one benchmark run, on DATABASE_URL (the development machines'
// postgres://postgres@127.0.0.1:5432/test by default), so that runs never see each other's data.
import { randomBytes } from 'node:crypto';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Creates schema `<prefix>_<random>`. Returns the URL a server is given (its search_path set to
 * the schema) and `drop()`, which removes the schema and everything in it.
 */
export async function freshSchema(prefix) {
  const base = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const pg = (await import('pg')).default;
  const run = async (sql) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create schema ${schema}`);
  return {
    url: `${base}${base.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
    drop: () => run(`drop schema ${schema} cascade`),
  };
}
