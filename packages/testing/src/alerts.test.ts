// Integration: "New device linked" on every device of the account (SPEC ALERT-1), through the SDK's
// 'device-linked' event: on the phone, on companions already linked (one of them offline during the
// link, told when it connects), never on the new device about itself.
import { describe, expect, it } from 'vitest';
import type { DeviceSummary } from '@pairwise/client/pairwise-client';
import { PairwiseClient } from '@pairwise/client/pairwise-client';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { StoreTable } from '@pairwise/client/client-store';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

function alerts(client: PairwiseClient): DeviceSummary[] {
  const seen: DeviceSummary[] = [];
  client.on('device-linked', (device) => seen.push(device));
  return seen;
}

/** Links a companion, listening on it from before its first connection. */
async function linkListening(phone: PairwiseClient, deviceName: string, temporary = false) {
  const store = new MemoryStore();
  const request = new LinkRequest({ ...connectOptions(server, store), deviceName, temporary });
  const qr = request.once('qr');
  const linked = request.once('linked');
  await request.start();
  await (await phone.inspectLink((await qr).text)).approve();
  await linked;
  const client = (await PairwiseClient.open(connectOptions(server, store)))!;
  const seen = alerts(client);
  await client.ready();
  return { client, seen };
}

describe('[ALERT-1] "New device linked" on every device of the account', () => {
  it('the phone and every companion are told once, an offline one when it connects, the new device never about itself', async () => {
    const alice = await createPrimary(server, 'alice_alert');
    const laptop = await linkCompanion(server, alice, { deviceName: 'Laptop' });
    const tabletStore = new MemoryStore();
    const tablet = await linkCompanion(server, alice, { store: tabletStore, deviceName: 'Tablet' });
    // The tablet has seen the account's devices once (its first look only records them)...
    await eventually(async () => (await tabletStore.get(StoreTable.Meta, 'known-devices')) !== undefined, 3000, 'the tablet looked');
    await tablet.close(); // ...and is offline while the desk is linked
    await new Promise((resolve) => setTimeout(resolve, 200));
    const onPhone = alerts(alice);
    const onLaptop = alerts(laptop);

    const { client: desk, seen: onDesk } = await linkListening(alice, 'Desk', true);
    for (const [name, seen] of [['phone', onPhone], ['laptop', onLaptop]] as const) {
      await eventually(() => seen.length > 0, 3000, `the ${name} told`);
      // Browser, OS and place come with it: the User-Agent and the coarse network.
      expect(seen[0], name).toMatchObject({
        deviceId: desk.deviceId,
        name: 'Desk',
        kind: 'companion',
        temporary: true,
        userAgent: 'Pairwise Node SDK',
        network: '127.0.0.0/24',
        isThisDevice: false,
      });
    }

    // The tablet was offline: it is told when it connects.
    const tabletBack = (await PairwiseClient.open(connectOptions(server, tabletStore)))!;
    const onTablet = alerts(tabletBack);
    await eventually(() => onTablet.some((device) => device.deviceId === desk.deviceId), 3000, 'the tablet told on connect');

    // One more link: the desk hears about it, never about itself; nobody hears twice.
    const { client: kiosk, seen: onKiosk } = await linkListening(alice, 'Kiosk');
    for (const seen of [onDesk, onPhone, onLaptop, onTablet]) {
      await eventually(() => seen.some((device) => device.deviceId === kiosk.deviceId), 3000, 'told of the kiosk');
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(onDesk.map((device) => device.deviceId)).toEqual([kiosk.deviceId]);
    expect(onKiosk).toEqual([]);
    expect(onPhone.map((device) => device.deviceId)).toEqual([desk.deviceId, kiosk.deviceId]);
    expect(onLaptop.map((device) => device.deviceId)).toEqual([desk.deviceId, kiosk.deviceId]);
    expect(onTablet.map((device) => device.deviceId)).toEqual([desk.deviceId, kiosk.deviceId]);

    // "Not you? Log it out": one removal by the phone, and the new device is gone.
    const gone = kiosk.once('logged-out');
    await alice.removeDevice(kiosk.deviceId);
    expect((await gone).reason).toBe('removed');
    await Promise.all([alice, laptop, tabletBack, desk].map((client) => client.close()));
  });
});
