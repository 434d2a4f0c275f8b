import { describe, expect, it } from 'vitest';
import { natsAddress, withoutCredentials } from './nats-address.js';

describe('[BUS-5] NATS_URL', () => {
  it('gives the client a user and password, or a token, and the server without them', () => {
    expect(natsAddress('nats://bus.internal:4222')).toEqual({ server: 'bus.internal:4222', tls: false });
    expect(natsAddress('nats://pairwise:secret@bus:4222')).toEqual({ server: 'bus:4222', tls: false, user: 'pairwise', pass: 'secret' });
    expect(natsAddress('tls://s3cr3t-token@bus:4222')).toEqual({ server: 'bus:4222', tls: true, token: 's3cr3t-token' });
    // A password may hold '@' and '/' as they are, or percent-encoded.
    expect(natsAddress('nats://u:p@ss/w@bus:4222')).toMatchObject({ server: 'bus:4222', user: 'u', pass: 'p@ss/w' });
    expect(natsAddress('nats://u:p%40ss@bus:4222')).toMatchObject({ user: 'u', pass: 'p@ss' });
    expect(() => natsAddress('http://bus:4222')).toThrow(/nats:\/\//);
  });

  it('is shown without any credentials, whatever they hold', () => {
    expect(withoutCredentials('nats://u:secret@bus:4222')).toBe('nats://bus:4222');
    expect(withoutCredentials('nats://u:p@ss@bus:4222')).toBe('nats://bus:4222');
    expect(withoutCredentials('tls://u:p/ss@bus:4222')).toBe('tls://bus:4222');
    expect(withoutCredentials('nats://token@bus:4222')).toBe('nats://bus:4222');
    expect(withoutCredentials('nats://bus:4222')).toBe('nats://bus:4222');
  });
});
