// Which pending sockets the server takes (SPEC LIMIT-4).
import { describe, expect, it } from 'vitest';
import { Admission, type PendingSocket } from './admission.js';

function socket(linking = false): PendingSocket & { evicted: boolean } {
  const made = { linking, evicted: false, evict: () => (made.evicted = true) };
  return made;
}

describe('[LIMIT-4] Admission', () => {
  it('bounds pending sockets per address, and frees a slot on release', () => {
    const admission = new Admission({ perAddress: 2, total: 10 });
    const [a, b, c] = [socket(), socket(), socket()];
    expect(admission.admit(a, '192.0.2.1')).toBe(true);
    expect(admission.admit(b, '192.0.2.1')).toBe(true);
    expect(admission.mayOpen('192.0.2.1')).toBe(false);
    expect(admission.admit(c, '192.0.2.1')).toBe(false);
    expect(admission.mayOpen('192.0.2.2')).toBe(true);
    admission.release(a);
    admission.release(a);
    expect(admission.size).toBe(1);
    expect(admission.admit(c, '192.0.2.1')).toBe(true);
  });

  it('past the total, evicts the oldest pending socket', () => {
    const admission = new Admission({ perAddress: 5, total: 2 });
    const sockets = [socket(), socket(), socket()];
    sockets.forEach((s, i) => expect(admission.admit(s, `198.51.100.${i}`)).toBe(true));
    expect(sockets.map((s) => s.evicted)).toEqual([true, false, false]);
    expect(admission.size).toBe(2);
    expect(admission.mayOpen('198.51.100.0')).toBe(true);
  });

  it('spares companions showing link codes while anything else can go', () => {
    const admission = new Admission({ perAddress: 5, total: 2 });
    const linking = socket(true);
    const idle = socket();
    admission.admit(linking, '192.0.2.1');
    admission.admit(idle, '192.0.2.2');
    admission.admit(socket(), '192.0.2.3');
    expect([linking.evicted, idle.evicted]).toEqual([false, true]);
    // Only link screens left: the oldest of them goes.
    const admission2 = new Admission({ perAddress: 5, total: 1 });
    const first = socket(true);
    admission2.admit(first, '192.0.2.1');
    admission2.admit(socket(true), '192.0.2.2');
    expect(first.evicted).toBe(true);
  });
});
