// Integration: who may do what (SPEC ROLES-2). Only the phone links, removes other devices, sets
// the PIN or the policies and reads the security log; a companion can only log itself out. A
// companion's own socket sends each request here, as a modified client would.
import { describe, expect, it } from 'vitest';
import { LinkRequest } from '@pairwise/client/link-request';
import { MemoryStore } from '@pairwise/client/memory-store';
import { decodeLinkQr } from '@pairwise/protocol/link-qr';
import { RawConnection } from './raw-connection.js';
import type { ServerProcess } from './server-process.js';
import { useServerProcess } from './test-support/use-server-process.js';
import { connectOptions, createPrimary, eventually, linkCompanion } from './test-clients.js';

let server: ServerProcess;
useServerProcess({ get: () => server, set: (started) => (server = started) });

const PIN = '364108';

describe('[ROLES-2] only the primary manages the account', () => {
  it('a companion gets FORBIDDEN for every primary-only request, and nothing changes', async () => {
    const alice = await createPrimary(server, 'alice_roles2');
    const laptopStore = new MemoryStore();
    const laptop = await linkCompanion(server, alice, { store: laptopStore });
    const tablet = await linkCompanion(server, alice);
    await alice.setPin(PIN);
    const securityBefore = await alice.refreshSecurity();
    const logBefore = await alice.securityLog();
    const devicesBefore = (await alice.devices()).map((device) => device.deviceId);

    // A code waiting to be linked, which the companion tries to look up and approve.
    const request = new LinkRequest({ ...connectOptions(server, new MemoryStore()), deviceName: 'Waiting browser' });
    const qr = request.once('qr');
    await request.start();
    const code = (await qr).text;
    const token = decodeLinkQr(code)!.token;

    const raw = await RawConnection.open(server);
    expect((await raw.authenticateAs(laptopStore, server.origin)).error).toBeUndefined();
    const attempts = {
      getLinkRequest: await raw.request({ case: 'getLinkRequest', value: { token } }),
      approveLink: await raw.request({ case: 'approveLink', value: { token, pin: PIN } }),
      removeDevice: await raw.request({ case: 'removeDevice', value: { deviceId: tablet.deviceId } }),
      removePrimary: await raw.request({ case: 'removeDevice', value: { deviceId: alice.deviceId } }),
      updateDeviceList: await raw.request({ case: 'updateDeviceList', value: {} }),
      turnPinOff: await raw.request({ case: 'setPin', value: { currentPin: PIN, newPin: '' } }),
      changePin: await raw.request({ case: 'setPin', value: { currentPin: PIN, newPin: '111111' } }),
      verifyPin: await raw.request({ case: 'verifyPin', value: { pin: '000000' } }),
      setPolicies: await raw.request({ case: 'setPolicies', value: { inactiveDays: 1, phoneUnusedDays: 0 } }),
      getSecurityLog: await raw.request({ case: 'getSecurityLog', value: {} }),
    };
    for (const [name, response] of Object.entries(attempts)) {
      expect(response.error?.code, name).toBe('FORBIDDEN');
      expect(response.result.case, name).toBeUndefined();
    }

    // Nothing changed: same devices, same PIN (no wrong try counted), same policies, same log.
    expect((await alice.devices()).map((device) => device.deviceId)).toEqual(devicesBefore);
    const securityAfter = await alice.refreshSecurity();
    expect({ ...securityAfter, serverTime: 0 }).toEqual({ ...securityBefore, serverTime: 0 });
    expect(await alice.verifyPin(PIN)).toMatchObject({ pinEnabled: true, pinFailures: 0 });
    expect((await alice.securityLog()).slice(0, logBefore.length)).toEqual(logBefore);
    expect((await alice.securityLog()).length).toBe(logBefore.length);
    // The waiting code was neither used nor spent: the phone can still link it.
    const { details, approve } = await alice.inspectLink(code);
    expect(details.deviceName).toBe('Waiting browser');
    const linked = request.once('linked');
    await approve(PIN);
    await linked;

    // What a companion may do: read the account's security state (to show warnings)...
    const security = await raw.request({ case: 'getSecurity', value: {} });
    expect(security.error).toBeUndefined();
    expect(security.result.case === 'security' && security.result.value.pinEnabled).toBe(true);
    raw.close();
    // ...and log itself out, which removes itself and nobody else.
    await laptop.logOut();
    await eventually(async () => !(await alice.devices()).some((device) => device.deviceId === laptop.deviceId), 3000, 'laptop gone');
    expect((await alice.devices()).map((device) => device.deviceId)).toContain(tablet.deviceId);
    await Promise.all([alice.close(), tablet.close()]);
  });

  it('the primary cannot log itself out, nor remove a device of another account', async () => {
    const aliceStore = new MemoryStore();
    const alice = await createPrimary(server, 'alice_roles3', aliceStore);
    const bob = await createPrimary(server, 'bob_roles3');
    const bobLaptop = await linkCompanion(server, bob);
    const raw = await RawConnection.open(server);
    await raw.authenticateAs(aliceStore, server.origin);
    expect((await raw.request({ case: 'logOut', value: {} })).error?.code).toBe('FORBIDDEN');
    const foreign = await raw.request({ case: 'removeDevice', value: { deviceId: bobLaptop.deviceId } });
    expect(foreign.error?.code).toBe('UNKNOWN_DEVICE');
    expect((await bob.devices()).map((device) => device.deviceId)).toContain(bobLaptop.deviceId);
    expect((await alice.devices()).length).toBe(1);
    raw.close();
    await Promise.all([alice.close(), bob.close(), bobLaptop.close()]);
  });
});
