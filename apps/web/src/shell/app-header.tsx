import type { ComponentChildren } from 'preact';

/** The bar at the top of both roles: the name, whose account this is, and role-specific controls. */
export function AppHeader({ accountId, children }: { accountId: string; children?: ComponentChildren }) {
  return (
    <header class="app-header">
      <span class="brand" aria-hidden="true">
        Pairwise
      </span>
      <span class="account">
        <span class="visually-hidden">Signed in as </span>
        {accountId}
      </span>
      {children}
    </header>
  );
}
