/**
 * A contact's account key changes, as it does when someone sets Pairwise up again: the server
 * reports a new key for the account. No request lets an account change its key, so the test
 * writes it into the server's SQLite database itself, the way a re-registration would leave it:
 * the key, a device list signed by the new key (the same devices, one version up) and the
 * device's countersignature of the new key, so that every check a client makes of the report
 * passes and the change is a real one, not a forgery the clients would refuse.
 *
 * The contact is a Node primary with one device (its keys are in its memory store, so the test
 * can sign for it). It is reopened with the new key, and its list is written close to expiry, so
 * that the primary re-signs it at once as it connects (SPEC DEVLIST-4): the server then pushes
 * the new list to the contact's contacts, whose clients see the key change.
 * @module
 */
import { StoreTable } from '@pairwise/client/client-store';
import type { StoredIdentity } from '@pairwise/client/identity';
import type { MemoryStore } from '@pairwise/client/memory-store';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { signDeviceAttestation } from '@pairwise/crypto/device-attestation';
import { decodeVerifiedDeviceListBody, signDeviceList } from '@pairwise/crypto/device-list';
import { generateAccountIdentity, publicIdentity } from '@pairwise/crypto/keys';
import type { ServerProcess } from '@pairwise/testing/server-process';
import { connectOptions } from '@pairwise/testing/test-clients';
import { withServerDatabase } from './server-database.js';

/** Well inside the third of its life at which a primary renews its list. */
const SHORT_LIST_LIFE_MS = 60 * 60 * 1000;

/**
 * Gives `client`'s account a new key on `server` and returns the account's client reopened with
 * it. `store` is the client's own store. The server must use SQLite (not DATABASE_URL).
 */
export async function replaceAccountKey(server: ServerProcess, client: PairwiseClient, store: MemoryStore): Promise<PairwiseClient> {
  const accountId = client.accountId;
  await client.close();
  const identity = await store.get<StoredIdentity>(StoreTable.Identity, 'self');
  if (identity?.kind !== 'primary') throw new Error(`${accountId}'s store holds no primary device`);
  const account = await generateAccountIdentity();

  const row = withServerDatabase(server, (database) =>
    database.prepare('select list_body from accounts where account_id = ?').get(accountId),
  ) as { list_body: Uint8Array } | undefined;
  const current = row && decodeVerifiedDeviceListBody(new Uint8Array(row.list_body));
  if (!current) throw new Error(`the server has no device list for ${accountId}`);
  if (current.devices.some((device) => device.deviceId !== identity.deviceId)) {
    throw new Error(`${accountId} has other devices, whose attestations the test cannot sign`);
  }
  const now = Date.now();
  const list = await signDeviceList(account.privateKey, {
    ...current,
    version: current.version + 1,
    issuedAt: now,
    expiresAt: now + SHORT_LIST_LIFE_MS,
  });
  const attestation = await signDeviceAttestation(identity.device.signing.privateKey, {
    accountId,
    accountKey: account.publicKey,
    deviceId: identity.deviceId,
    identity: publicIdentity(identity.device),
  });
  withServerDatabase(server, (database) => {
    database
      .prepare('update accounts set identity_key = ?, list_body = ?, list_signature = ?, list_version = ?, list_expires_at = ? where account_id = ?')
      .run(Buffer.from(account.publicKey), Buffer.from(list.body), Buffer.from(list.signature), current.version + 1, now + SHORT_LIST_LIFE_MS, accountId);
    database.prepare('update devices set attestation = ? where device_id = ?').run(Buffer.from(attestation), identity.deviceId);
  });

  await store.put<StoredIdentity>(StoreTable.Identity, 'self', { ...identity, account, accountKey: account.publicKey });
  const reopened = await PairwiseClient.open(connectOptions(server, store));
  if (reopened === null) throw new Error(`${accountId}'s device was not kept`);
  await reopened.ready();
  return reopened;
}
