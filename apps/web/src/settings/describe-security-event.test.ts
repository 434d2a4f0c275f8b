import { describe, expect, it } from 'vitest';
import { describeSecurityEvent, type SecurityLogEntry } from './describe-security-event.js';

function entry(kind: SecurityLogEntry['kind'], actor = '', deviceName = 'Chrome on Linux'): SecurityLogEntry {
  return { at: 0, kind, deviceId: 'd1', deviceName, actor, network: '203.0.113.0/24' };
}

describe('describeSecurityEvent', () => {
  it('names the device linked', () => {
    expect(describeSecurityEvent(entry('device-linked'), 30)).toBe('Chrome on Linux linked');
  });

  it.each([
    ['phone', 'Chrome on Linux logged out by your phone'],
    ['device', 'Chrome on Linux logged out by itself'],
    ['expiry', 'Chrome on Linux logged out after 30 days inactive'],
    ['phone-unused', 'Chrome on Linux logged out because this phone was unused'],
    ['temporary', 'Chrome on Linux logged out when its temporary session ended'],
    ['someone-new', 'Chrome on Linux logged out'],
  ])('says who logged a device out: %s', (actor, text) => {
    expect(describeSecurityEvent(entry('device-removed', actor), 30)).toBe(text);
  });

  it('says "1 day" and copes without a known policy', () => {
    expect(describeSecurityEvent(entry('device-removed', 'expiry'), 1)).toBe('Chrome on Linux logged out after 1 day inactive');
    expect(describeSecurityEvent(entry('device-removed', 'expiry'), null)).toBe('Chrome on Linux logged out for being inactive');
  });

  it.each([
    ['pin-enabled', 'Two-step PIN turned on'],
    ['pin-changed', 'Two-step PIN changed'],
    ['pin-disabled', 'Two-step PIN turned off'],
    ['pin-failed', 'Wrong PIN entered'],
    ['pin-locked', 'Linking locked for an hour'],
    ['policies-changed', 'Automatic log out settings changed'],
    ['unknown', 'Security event'],
  ] as const)('describes %s', (kind, text) => {
    expect(describeSecurityEvent(entry(kind), 30)).toBe(text);
  });

  it('a device without a name is "A device"', () => {
    expect(describeSecurityEvent(entry('device-linked', '', ''), 30)).toBe('A device linked');
  });
});
