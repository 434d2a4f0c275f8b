import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '@pairwise/client/client-events';
import { notifyIncomingMessages, type NotificationEnvironment } from './notifications.js';

function setup(state: { permission?: NotificationPermission; hidden?: boolean; enabled?: boolean; locked?: boolean } = {}) {
  let listener: ((message: ChatMessage) => void) | null = null;
  const shown: { title: string; body: string }[] = [];
  const environment: NotificationEnvironment = {
    permission: () => state.permission ?? 'granted',
    hidden: () => state.hidden ?? true,
    show: (title, options) => shown.push({ title, body: options.body }),
  };
  notifyIncomingMessages(
    { on: (_event, next) => ((listener = next), () => (listener = null)) },
    { enabled: () => state.enabled ?? true, locked: () => state.locked ?? false },
    environment,
  );
  const receive = (text: string, outgoing = false) =>
    listener?.({ chatId: 'bob', messageId: 'm', senderAccountId: 'bob', senderDeviceId: 'd', text, sentAt: 1, outgoing });
  return { state, shown, receive };
}

describe('message notifications', () => {
  it('show sender and text for an incoming message while the page is hidden', () => {
    const { shown, receive } = setup();
    receive('Dinner at eight?');
    receive('sent by me', true);
    expect(shown).toEqual([{ title: 'bob', body: 'Dinner at eight?' }]);
  });

  it('[LOCK-8] say only "New message" while the app is locked', () => {
    const { shown, receive } = setup({ locked: true });
    receive('Dinner at eight?');
    expect(shown).toEqual([{ title: 'Pairwise', body: 'New message' }]);
    expect(JSON.stringify(shown)).not.toMatch(/Dinner|bob/);
  });

  it('show nothing while the page is visible, without permission, or when turned off', () => {
    for (const state of [{ hidden: false }, { permission: 'denied' as const }, { permission: 'default' as const }, { enabled: false }]) {
      const { shown, receive } = setup(state);
      receive('hello');
      expect(shown, JSON.stringify(state)).toEqual([]);
    }
  });
});
