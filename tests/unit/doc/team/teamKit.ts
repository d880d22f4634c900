/**
 * Devices and operations for team tests: real Ed25519 device keys, operations signed with
 * them exactly as the app signs them, and a canonical form of a folded team to compare
 * replicas by.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Team } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp, TeamOpBody, TeamRole } from '../../../../src/lib/doc/team/ops.js';
import { admitProof, invitePublicKey, newInviteSeed, signTeamOp } from '../../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamInviteId, teamWorkspaceId } from '../../../../src/lib/doc/team/teamId.js';
import { mulberry32 } from '../../../fixtures/random.js';

/** A device with its key. */
export interface Device {
	peerId: string;
	key: PrivateKey;
}

/** A new device key. */
export async function newDevice(): Promise<Device> {
	const key = await generateKeyPair('Ed25519');
	return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/** Heads of a set of operations (those no other names). */
export function headsOf(ops: Iterable<TeamOp>): string[] {
	const all = [...ops];
	const named = new Set(all.flatMap((op) => op.payload.prev));
	return all.map((op) => op.id).filter((id) => !named.has(id)).sort().slice(0, 64);
}

/** Signs `body` by `device`, seeing exactly `seen`. */
export function write(device: Device, ws: string, seen: Iterable<TeamOp>, body: TeamOpBody, at = 1_000): Promise<TeamOp> {
	// An invitation from {@link invitation} gets the id its author derives (the same body signed again by its author keeps it).
	if (body.t === 'invite' && body.invite === '') body.invite = teamInviteId(ws, device.peerId, body.key);
	return signTeamOp(device.key, device.peerId, { ws, prev: headsOf(seen), at }, body);
}

/** A new workspace: its id and the creator's `create` operation. */
export async function createWorkspace(owner: Device, name = 'owner'): Promise<{ ws: string; create: TeamOp }> {
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const create = await signTeamOp(owner.key, owner.peerId, { ws, prev: [], at: 1_000 }, { t: 'create', nonce, name });
	return { ws, create };
}

/** An invitation body and its seed. */
export function invitation(
	role: TeamRole,
	uses = 1,
	expires = 10_000_000,
	member?: string
): { body: TeamOpBody; seed: Uint8Array; id: string } {
	const seed = newInviteSeed();
	// The id derives from the author (teamInviteId): `write` sets it when it signs the body.
	const body: TeamOpBody = { t: 'invite', invite: '', key: invitePublicKey(seed), role, uses, expires };
	if (member !== undefined) body.member = member;
	return {
		body,
		seed,
		get id() {
			return body.t === 'invite' ? body.invite : '';
		}
	};
}

/** The admission `device` writes with an invitation's seed. */
export function admission(device: Device, ws: string, seen: Iterable<TeamOp>, invite: { seed: Uint8Array; id: string }, at = 2_000): Promise<TeamOp> {
	return write(device, ws, seen, { t: 'admit', invite: invite.id, proof: admitProof(invite.seed, ws, invite.id, device.peerId), name: device.peerId.slice(-4) }, at);
}

/** A canonical text of everything a team says, to compare replicas by. */
export function canonical(team: Team): string {
	return JSON.stringify({
		root: team.root,
		members: [...team.members.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
		devices: [...team.devices].sort(),
		removed: [...team.removed.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
		removedDevices: [...team.removedDevices].sort(),
		invites: [...team.invites.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
		keys: [...team.keyGenerations.values()].map((g) => [g.id, g.seq, [...g.boxes].sort()]).sort(),
		currentKey: team.currentKey,
		accepted: team.accepted,
		rejected: [...team.rejected].sort()
	});
}

/** A seeded pseudo-random generator. */
export const rng = mulberry32;
