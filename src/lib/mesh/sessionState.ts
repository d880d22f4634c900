/**
 * The stages of a sync session, in a module of their own: the app's connection status reads
 * them at first paint, before the sync code (SyncSession.ts) has loaded.
 */

/** Stages of a session, in order. */
export const SessionState = { membership: 'membership', syncing: 'syncing', live: 'live', closed: 'closed' } as const;

/** One of {@link SessionState}'s values. */
export type SessionState = (typeof SessionState)[keyof typeof SessionState];
