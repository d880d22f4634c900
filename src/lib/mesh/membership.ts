/**
 * Mutual proof of workspace membership, run at the start of every sync session before any
 * document byte flows (PROTOCOL.md "Membership"):
 *
 *     opener → HELLO {version, workspaceId, nonceA}
 *     responder → CHALLENGE {nonceB, proofB}      proofB = HMAC(K, transcript("responder"))
 *     opener → PROOF {proofA}                     proofA = HMAC(K, transcript("opener"))
 *     responder → OK                              or DENIED {reason} from either side
 *
 * The transcript binds the role, the workspace id, both libp2p peer ids of the
 * authenticated connection (opener first) and both fresh nonces, so a proof cannot be
 * replayed into another session, reflected back to its sender, or relayed between peers.
 * Proofs are checked with `crypto.subtle.verify` (a constant-time comparison). The opener
 * checks the responder's proof before sending its own, so a peer with a wrong secret on
 * either side learns no proof it could not already compute, and gets DENIED.
 */
import * as encoding from 'lib0/encoding';
import { DeniedReason, MessageType, NONCE_BYTES, PROTOCOL_VERSION } from './constants.js';
import { MembershipDeniedError, ProtocolVersionError, UnexpectedMessageError } from './errors.js';
import type { Message } from './wire.js';
import type { WorkspaceKeys } from './workspaceKeys.js';
import type { AdmitVerdict } from './authority.js';

/** Domain-separation label at the start of every proof transcript. */
export const PROOF_LABEL = 'outpost/membership-proof/1';

/** Which side a proof speaks for (the role byte of the transcript). */
export const ProofRole = { responder: 1, opener: 2 } as const;

/** One of {@link ProofRole}'s values. */
export type ProofRole = (typeof ProofRole)[keyof typeof ProofRole];

/** The values a proof is bound to. */
export interface Transcript {
	workspaceId: string;
	openerPeerId: string;
	responderPeerId: string;
	nonceA: Uint8Array;
	nonceB: Uint8Array;
}

/**
 * The exact bytes an HMAC proof covers: lib0 varstring PROOF_LABEL, varuint role,
 * varstring workspaceId, varstring openerPeerId, varstring responderPeerId,
 * varuint8array nonceA, varuint8array nonceB.
 */
export function transcriptBytes(role: ProofRole, t: Transcript): Uint8Array<ArrayBuffer> {
	const encoder = encoding.createEncoder();
	encoding.writeVarString(encoder, PROOF_LABEL);
	encoding.writeVarUint(encoder, role);
	encoding.writeVarString(encoder, t.workspaceId);
	encoding.writeVarString(encoder, t.openerPeerId);
	encoding.writeVarString(encoder, t.responderPeerId);
	encoding.writeVarUint8Array(encoder, t.nonceA);
	encoding.writeVarUint8Array(encoder, t.nonceB);
	return encoding.toUint8Array(encoder) as Uint8Array<ArrayBuffer>;
}

/** HMAC-SHA256 proof of `role` over the transcript. */
export async function createProof(key: CryptoKey, role: ProofRole, t: Transcript): Promise<Uint8Array> {
	return new Uint8Array(await crypto.subtle.sign('HMAC', key, transcriptBytes(role, t)));
}

/** True when `proof` is `role`'s proof over the transcript (constant-time check). */
export function verifyProof(key: CryptoKey, role: ProofRole, t: Transcript, proof: Uint8Array): Promise<boolean> {
	return crypto.subtle.verify('HMAC', key, proof as Uint8Array<ArrayBuffer>, transcriptBytes(role, t));
}

/** A fresh random nonce. */
export function newNonce(): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** What {@link MembershipExchange} needs. */
export interface MembershipInit {
	role: 'opener' | 'responder';
	keys: WorkspaceKeys;
	localPeerId: string;
	remotePeerId: string;
	send: (m: Message) => void;
	/** Whether the remote peer may be served (false for a revoked member); default: yes. */
	isAllowed?: (peerId: string) => boolean | Promise<boolean>;
	/** The opener's admission (a team operation) sent in HELLO; default: none. */
	admission?: Uint8Array;
	/**
	 * The responder's check of an opener that `isAllowed` refused: true when the admission
	 * the opener sent makes it a member device. Default: refused.
	 */
	admits?: (peerId: string, admission: Uint8Array) => AdmitVerdict | Promise<AdmitVerdict>;
}

const VERDICT_REASONS: Record<Exclude<AdmitVerdict, 'ok'>, DeniedReason> = {
	refused: DeniedReason.revoked,
	used: DeniedReason.inviteUsed,
	expired: DeniedReason.inviteExpired,
	revoked: DeniedReason.inviteRevoked
};

type Stage = 'hello' | 'challenge' | 'proof' | 'ok' | 'proven' | 'failed';

/**
 * One side of the membership exchange. {@link handle} takes each inbound message in order
 * and resolves true once both sides are proven; on failure it sends DENIED (unless the
 * remote sent it) and throws a named error.
 */
export class MembershipExchange {
	private stage: Stage;
	private nonceA: Uint8Array | undefined;
	private nonceB: Uint8Array | undefined;
	/** The admission the opener sent in HELLO. */
	private remoteAdmission: Uint8Array = new Uint8Array(0);

	constructor(private readonly init: MembershipInit) {
		this.stage = init.role === 'opener' ? 'challenge' : 'hello';
	}

	/** True once both sides are proven. */
	get proven(): boolean {
		return this.stage === 'proven';
	}

	/**
	 * True once the remote has proved membership to this side (the opener knows it from the
	 * responder's CHALLENGE, before its own proof is checked; the responder once both are).
	 */
	get remoteProven(): boolean {
		return this.stage === 'ok' || this.stage === 'proven';
	}

	/** The opener sends HELLO; the responder waits. */
	start(): void {
		if (this.init.role !== 'opener' || this.nonceA) return;
		this.nonceA = newNonce();
		const { workspaceId } = this.init.keys;
		const admission = this.init.admission ?? new Uint8Array(0);
		this.init.send({ type: MessageType.hello, version: PROTOCOL_VERSION, workspaceId, nonce: this.nonceA, admission });
	}

	/** Handles one inbound message; true when membership is now proven. */
	async handle(m: Message): Promise<boolean> {
		try {
			return await this.step(m);
		} catch (error) {
			this.stage = 'failed';
			throw error;
		}
	}

	private async step(m: Message): Promise<boolean> {
		if (m.type === MessageType.denied) {
			if (m.reason === DeniedReason.version) throw new ProtocolVersionError(undefined);
			throw new MembershipDeniedError(m.reason, true);
		}
		const { keys, role } = this.init;
		if (this.stage === 'hello' && m.type === MessageType.hello) {
			if (m.version !== PROTOCOL_VERSION) this.deny(DeniedReason.version, new ProtocolVersionError(m.version));
			if (m.workspaceId !== keys.workspaceId) this.deny(DeniedReason.unknownWorkspace);
			this.nonceA = m.nonce;
			this.remoteAdmission = m.admission;
			this.nonceB = newNonce();
			const proof = await createProof(keys.membership, ProofRole.responder, this.transcript());
			this.stage = 'proof';
			this.init.send({ type: MessageType.challenge, nonce: this.nonceB, proof });
			return false;
		}
		if (this.stage === 'challenge' && m.type === MessageType.challenge) {
			this.nonceB = m.nonce;
			const t = this.transcript();
			if (!(await verifyProof(keys.membership, ProofRole.responder, t, m.proof))) this.deny(DeniedReason.badProof);
			await this.checkAllowed();
			const proof = await createProof(keys.membership, ProofRole.opener, t);
			this.stage = 'ok';
			this.init.send({ type: MessageType.proof, proof });
			return false;
		}
		if (this.stage === 'proof' && m.type === MessageType.proof) {
			if (!(await verifyProof(keys.membership, ProofRole.opener, this.transcript(), m.proof))) {
				this.deny(DeniedReason.badProof);
			}
			await this.checkAllowed();
			this.stage = 'proven';
			this.init.send({ type: MessageType.ok });
			return true;
		}
		if (this.stage === 'ok' && m.type === MessageType.ok) {
			// Asked again: a removal that folded since CHALLENGE would otherwise reach this
			// session only at the next team change (sessions still proving are not revisited).
			await this.checkAllowed();
			this.stage = 'proven';
			return true;
		}
		this.deny(DeniedReason.malformed, new UnexpectedMessageError(`message type ${m.type} during membership (${role})`));
	}

	private async checkAllowed(): Promise<void> {
		const { isAllowed, admits, remotePeerId, role } = this.init;
		if ((await isAllowed?.(remotePeerId)) ?? true) return;
		if (role === 'responder' && admits !== undefined && this.remoteAdmission.length > 0) {
			const verdict = await admits(remotePeerId, this.remoteAdmission);
			if (verdict === 'ok') return;
			this.deny(VERDICT_REASONS[verdict]);
		}
		this.deny(DeniedReason.revoked);
	}

	private deny(reason: DeniedReason, error: Error = new MembershipDeniedError(reason, false)): never {
		this.stage = 'failed';
		this.init.send({ type: MessageType.denied, reason });
		throw error;
	}

	private transcript(): Transcript {
		const { role, localPeerId, remotePeerId, keys } = this.init;
		return {
			workspaceId: keys.workspaceId,
			openerPeerId: role === 'opener' ? localPeerId : remotePeerId,
			responderPeerId: role === 'opener' ? remotePeerId : localPeerId,
			nonceA: this.nonceA ?? new Uint8Array(0),
			nonceB: this.nonceB ?? new Uint8Array(0)
		};
	}
}
