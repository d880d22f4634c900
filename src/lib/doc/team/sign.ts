/**
 * Signing and checking team operations with device keys (Ed25519 libp2p keys: the author's
 * peer id embeds its public key), and the invitation keys an invite link carries.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { toBase64, verifyByPeerId, type DeviceKey } from '../deviceKey.js';
import { admitProofBytes, checkPayload, encodeOp, hex, opId, signedBytes, type TeamOp, type TeamOpBody } from './ops.js';

/** What an author supplies besides the body. */
export interface TeamOpContext {
	ws: string;
	/** The heads the author has seen. */
	prev: string[];
	at: number;
}

/** Signs a new operation with the device key `key` (its peer id becomes `by`). */
export async function signTeamOp(key: DeviceKey, by: string, context: TeamOpContext, body: TeamOpBody): Promise<TeamOp> {
	const payload = checkPayload({ v: 1, ws: context.ws, by, prev: [...context.prev].sort(), at: context.at, ...body });
	const signed = signedBytes(payload);
	const signature = await key.sign(signed);
	const bytes = encodeOp(signed, signature);
	return { id: opId(bytes), payload, signed, signature, bytes };
}

/** True when the operation's signature is its author's. Never throws. */
export async function verifyTeamOp(op: TeamOp): Promise<boolean> {
	return verifyByPeerId(op.payload.by, op.signed, op.signature);
}

/** A new invitation seed (32 random bytes, carried by the invite link). */
export function newInviteSeed(): Uint8Array {
	return crypto.getRandomValues(new Uint8Array(32));
}

/** The hex public key of an invitation seed (recorded in the `invite` operation). */
export function invitePublicKey(seed: Uint8Array): string {
	return hex(ed25519.getPublicKey(seed));
}

/** The proof, base64, that the holder of `seed` admits `device` with invitation `invite`. */
export function admitProof(seed: Uint8Array, ws: string, invite: string, device: string): string {
	return toBase64(ed25519.sign(admitProofBytes(ws, invite, device), seed));
}
