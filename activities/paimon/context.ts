// What every Paimon activity gets: the gateway, the Paimon config, and its sessions.
import type { Config } from '../../src/config/config';
import { readClusterProperties, type ReadSlots } from './read-cluster';
import { PaimonSessions, type PaimonSession, type SqlGateway } from './session';

export interface PaimonContext {
  readonly catalog: string;
  /** Pause between awaitTag's checks. */
  readonly pollIntervalMs: number;
  session<T>(attempted: string, work: (session: PaimonSession) => Promise<T>): Promise<T>;
}

/** Sessions whose jobs run on the reads cluster when one is configured, each read checked for a slot first. */
export function paimonContext(
  gateway: SqlGateway,
  paimon: Config['paimon'],
  pollIntervalMs: number,
  slots?: ReadSlots,
): PaimonContext {
  const sessions = new PaimonSessions(gateway, paimon, undefined, {
    properties: readClusterProperties(paimon.readsRestUrl),
    slotCheck: slots ? (attempted, signal) => slots.require(attempted, signal) : undefined,
  });
  return {
    catalog: paimon.catalog,
    pollIntervalMs,
    session: (attempted, work) => sessions.use(attempted, work),
  };
}

/** An input value as it appears in a message: short, whatever it is. */
export function label(value: unknown): string {
  const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
