/**
 * Protocol ids, message types and size limits of the Outpost sync protocol. The wire format
 * is written down in PROTOCOL.md beside this file; change both together.
 */

/** libp2p protocol id of the per-connection sync stream. */
export const SYNC_PROTOCOL_ID = '/outpost/sync/1.0.0';

/**
 * Protocol version carried in HELLO; a peer answers any other value with DENIED. Version 2
 * adds the admission to HELLO and admits peers by the team (signed teams).
 */
export const PROTOCOL_VERSION = 2;

/** Largest admission (an encoded team operation) a HELLO may carry, in bytes. */
export const MAX_ADMISSION_BYTES = 8 * 1024;

/** Prefix of the gossip topic of a workspace; the rest is derived from the secret. */
export const GOSSIP_TOPIC_PREFIX = '/outpost/ws/1/';

/** Numeric message types (first varuint of every message). */
export const MessageType = {
	hello: 1,
	challenge: 2,
	proof: 3,
	ok: 4,
	denied: 5,
	digest: 16,
	syncStep1: 17,
	syncStep2: 18,
	update: 19,
	done: 20,
	/** Sealed storage of private spaces on a relay outside them (sealedMessages.ts). */
	sealedPut: 21,
	sealedWant: 22,
	sealedBatch: 23
} as const;

/** One of {@link MessageType}'s values. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Why a peer refused membership (the DENIED message's reason code). */
export const DeniedReason = {
	/** The HELLO named a workspace this peer does not serve. */
	unknownWorkspace: 1,
	/** The HELLO carried a protocol version this peer does not speak. */
	version: 2,
	/** A membership proof did not verify. */
	badProof: 3,
	/** A message could not be decoded or came out of order. */
	malformed: 4,
	/** The peer is not a member device of the team (never was, or was removed). */
	revoked: 5,
	/** The admission's invitation has admitted as many devices as it may. */
	inviteUsed: 6,
	/** The admission's invitation has expired. */
	inviteExpired: 7,
	/** The admission's invitation was revoked. */
	inviteRevoked: 8
} as const;

/** One of {@link DeniedReason}'s values. */
export type DeniedReason = (typeof DeniedReason)[keyof typeof DeniedReason];

/** Bytes of a membership nonce. */
export const NONCE_BYTES = 32;
/** Bytes of an HMAC-SHA256 membership proof. */
export const PROOF_BYTES = 32;
/** Bytes of a document digest (SHA-256). */
export const DIGEST_BYTES = 32;
/** Bytes of an AES-GCM initialisation vector. */
export const IV_BYTES = 12;

const MiB = 1024 * 1024;

/** Size and count limits applied to every inbound message; see PROTOCOL.md "Limits". */
export interface SyncLimits {
	/** Largest membership, DIGEST, SYNC_STEP1 or DONE message, in bytes. */
	maxControlBytes: number;
	/** Largest UPDATE message (one live update), in bytes. */
	maxUpdateBytes: number;
	/** Largest SYNC_STEP2 message (the whole missing state of one document), in bytes. */
	maxStep2Bytes: number;
	/** Most entries in one DIGEST message. */
	maxDigestEntries: number;
	/** Most documents one peer may list in its whole digest. */
	maxDocs: number;
	/** Milliseconds allowed for the membership exchange before the session gives up. */
	membershipTimeoutMs: number;
	/**
	 * Milliseconds a catching-up session may go without any message from the peer before it
	 * gives up (the next anti-entropy round starts a fresh one).
	 */
	syncStallTimeoutMs: number;
	/**
	 * An update larger than this is checked and applied in pieces of about this size, in
	 * dependency order, with the event loop given back between them (updatePieces.ts).
	 */
	pieceBytes: number;
}

/** The limits used when a caller gives none. */
export const DEFAULT_LIMITS: Readonly<SyncLimits> = Object.freeze({
	maxControlBytes: 1 * MiB,
	maxUpdateBytes: 16 * MiB,
	maxStep2Bytes: 64 * MiB,
	maxDigestEntries: 4096,
	maxDocs: 100_000,
	membershipTimeoutMs: 10_000,
	syncStallTimeoutMs: 30_000,
	pieceBytes: 256 * 1024
});

/** Largest sealed gossip envelope accepted by `openEnvelope`, in bytes. */
export const MAX_ENVELOPE_BYTES = 1 * MiB;

/** Largest sealed awareness (presence) envelope sent or accepted, in bytes. */
export const MAX_AWARENESS_ENVELOPE_BYTES = 16 * 1024;

/** Largest sealed model advert envelope (kind 3) sent or accepted, in bytes. */
export const MAX_ADVERT_ENVELOPE_BYTES = 16 * 1024;
