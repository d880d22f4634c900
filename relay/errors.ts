/**
 * Named errors thrown by the relay. Callers match on `name`, never on the message.
 */

/** The command line could not be understood; the process should exit with status 2. */
export class UsageError extends Error {
	override name = 'UsageError';
}

/** `vite build` failed, so there is no app to serve. */
export class BuildError extends Error {
	override name = 'BuildError';
}

/** `<data>/peer-key` exists but does not hold a libp2p private key. */
export class PeerKeyError extends Error {
	override name = 'PeerKeyError';
}
