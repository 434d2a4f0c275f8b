/**
 * GET /api/version: the protocol version the server speaks, the oldest it accepts, and the build
 * of the web app it serves now. The answer is checked field by field before use.
 * @module
 */

/** What the server says about itself. */
export interface ServerVersion {
  readonly protocolVersion: number;
  readonly minProtocolVersion: number;
  /** The build id of the app the server serves; null when it serves none. */
  readonly appBuild: string | null;
}

/** Checks a parsed /api/version answer; null when it is not one. */
export function parseServerVersion(value: unknown): ServerVersion | null {
  if (typeof value !== 'object' || value === null) return null;
  const { protocolVersion, minProtocolVersion, appBuild } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(protocolVersion) || !Number.isSafeInteger(minProtocolVersion)) return null;
  if (appBuild !== null && (typeof appBuild !== 'string' || !/^[0-9a-f]{8,64}$/.test(appBuild))) return null;
  return { protocolVersion: protocolVersion as number, minProtocolVersion: minProtocolVersion as number, appBuild };
}

/** Asks this page's server; null when it cannot be reached or answers something else. */
export async function fetchServerVersion(): Promise<ServerVersion | null> {
  try {
    const response = await fetch('/api/version', { cache: 'no-store', credentials: 'omit' });
    if (!response.ok) return null;
    return parseServerVersion(await response.json());
  } catch {
    // Offline or the server restarting: the next check will tell.
    return null;
  }
}
