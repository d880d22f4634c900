/**
 * Named errors of the sync protocol. Anything a remote peer sends that cannot be accepted
 * surfaces as one of these (match on `name`), never as an exception from inside lib0 or Yjs.
 */
import type { DeniedReason } from './constants.js';

/** Bytes that do not decode as a protocol message (bad type, bad length, bad id, trailing bytes). */
export class MalformedMessageError extends Error {
	override name = 'MalformedMessageError';
}

/** A message larger than the limit for its type. */
export class MessageTooLargeError extends Error {
	override name = 'MessageTooLargeError';
	constructor(
		readonly size: number,
		readonly limit: number
	) {
		super(`message of ${size} bytes exceeds the limit of ${limit}`);
	}
}

/** A well-formed message that is not allowed at this stage of the session. */
export class UnexpectedMessageError extends Error {
	override name = 'UnexpectedMessageError';
}

/** The remote peer speaks another protocol version. */
export class ProtocolVersionError extends Error {
	override name = 'ProtocolVersionError';
	constructor(readonly remoteVersion: number | undefined) {
		super(`peer speaks protocol version ${remoteVersion ?? 'unknown'}`);
	}
}

/** Membership could not be proven: either side refused, or a proof did not verify. */
export class MembershipDeniedError extends Error {
	override name = 'MembershipDeniedError';
	constructor(
		readonly reason: DeniedReason,
		/** True when the remote peer sent DENIED; false when this peer refused. */
		readonly byRemote: boolean
	) {
		super(`membership denied ${byRemote ? 'by the peer' : 'to the peer'} (reason ${reason})`);
	}
}

/** The membership exchange did not finish in time. */
export class MembershipTimeoutError extends Error {
	override name = 'MembershipTimeoutError';
}

/** A catching-up session heard nothing from its peer for `syncStallTimeoutMs`. */
export class SyncStalledError extends Error {
	override name = 'SyncStalledError';
}

/** A document update that decoded but that Yjs (or the store) refused to apply. */
export class UpdateRejectedError extends Error {
	override name = 'UpdateRejectedError';
	constructor(
		readonly docId: string,
		cause: unknown
	) {
		super(`document ${docId}: update rejected (${cause instanceof Error ? cause.message : String(cause)})`);
	}
}

/** A document the root does not list was refused: its sender's (or the workspace's) allowance is spent (unlistedAllowance.ts). */
export class UnlistedLimitError extends Error {
	override name = 'UnlistedLimitError';
	constructor(readonly docId: string) {
		super(`the root does not list ${docId}, and the allowance of unlisted documents is spent`);
	}
}

/** A gossip envelope that could not be opened: tampered, sealed with another key, or garbage. */
export class EnvelopeError extends Error {
	override name = 'EnvelopeError';
}

/**
 * The team has a key generation this device holds no key of (its box has not arrived, or did
 * not open), so gossip cannot be sealed yet; sync sessions carry its updates meanwhile.
 */
export class GossipKeyUnavailableError extends Error {
	override name = 'GossipKeyUnavailableError';
	constructor(readonly generation: string) {
		super(`this device holds no key of key generation ${generation} yet`);
	}
}

/** This device's key box of a key generation did not open (keyring.ts); the generation stays unreadable here. */
export class KeyBoxRejectedError extends Error {
	override name = 'KeyBoxRejectedError';
	constructor(
		readonly generation: string,
		cause: unknown
	) {
		super(`key generation ${generation}: this device's box does not open (${cause instanceof Error ? cause.message : String(cause)})`);
	}
}

/** A workspace secret that is not 32 bytes of base64url. */
export class InvalidSecretError extends Error {
	override name = 'InvalidSecretError';
}

/** The session was aborted through its AbortSignal or closed locally. */
export class SessionAbortedError extends Error {
	override name = 'SessionAbortedError';
}

/** The peer ended the stream before the session was established (before membership was proved): not a clean end. */
export class SessionEndedEarlyError extends Error {
	override name = 'SessionEndedEarlyError';
}

/** Every error class above, for `instanceof` checks at the outer layer. */
export type SyncError =
	| MalformedMessageError
	| MessageTooLargeError
	| UnexpectedMessageError
	| ProtocolVersionError
	| MembershipDeniedError
	| MembershipTimeoutError
	| UpdateRejectedError
	| SessionAbortedError
	| SessionEndedEarlyError;

/** An awareness (presence) update that opened but does not decode, or that y-protocols refused. */
export class AwarenessRejectedError extends Error {
	override name = 'AwarenessRejectedError';
}

/** Envelopes arrived on a workspace's topic faster than they are opened, past its receive queue's bounds: some were dropped (receiveQueue.ts). */
export class GossipOverloadError extends Error {
	override name = 'GossipOverloadError';
}
