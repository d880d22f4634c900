/**
 * Whether an archive request may make this relay archive a workspace (api.ts, archivePeer.ts):
 * the requesting device presents the team's operations; the relay checks every signature,
 * folds them (with the operations it already holds for that workspace) and accepts only when
 *
 * 1. the fold has a root, i.e. the workspace id is self-certifying (teamId.ts): nobody can
 *    make up a team for a workspace someone else created;
 * 2. the signer of the request is a current device of an owner or admin;
 * 3. this relay's own peer id is a current member device (an admin wrote
 *    `{t: 'add', member: <relay peer id>, role: 'relay'}` first).
 *
 * Pure but for the signature checks; nothing is stored here.
 */
import { foldTeam, memberOfDevice, type Team } from '../../src/lib/doc/team/fold.ts';
import { decodeOp, MAX_OP_BYTES, ROLE_RANK, TeamOpFormatError, type TeamOp } from '../../src/lib/doc/team/ops.ts';
import { verifyTeamOp } from '../../src/lib/doc/team/sign.ts';

/** Most operations one request may carry. */
export const MAX_REQUEST_OPS = 4096;

/** Why an archive request is refused; `reason` picks the HTTP status (api.ts). */
export const ArchiveRefusal = {
	/** The operations do not decode, are not signed by their authors, or name another workspace (400). */
	malformed: 'malformed',
	/** No operation certifies the workspace id: a team made up for someone else's workspace (403). */
	notCertified: 'not-certified',
	/** The signer is not a current owner or admin device (403). */
	notAdmin: 'not-admin',
	/** The relay is not a member device of the team yet (403). */
	relayNotMember: 'relay-not-member'
} as const;
/** One of {@link ArchiveRefusal}'s values. */
export type ArchiveRefusal = (typeof ArchiveRefusal)[keyof typeof ArchiveRefusal];

/** An archive request the relay refuses; nothing was stored. */
export class ArchiveRefusedError extends Error {
	override name = 'ArchiveRefusedError';
	constructor(
		readonly reason: ArchiveRefusal,
		message: string
	) {
		super(message);
	}
}

/**
 * Decodes the operations of a request (each an encoded team operation, base64 or bytes).
 * @throws {ArchiveRefusedError} `malformed` for anything that is not.
 */
export function decodeRequestOps(encoded: unknown): TeamOp[] {
	if (!Array.isArray(encoded) || encoded.length === 0) {
		throw new ArchiveRefusedError(ArchiveRefusal.malformed, 'send the team: "ops" must be a non-empty list of encoded team operations');
	}
	if (encoded.length > MAX_REQUEST_OPS) throw new ArchiveRefusedError(ArchiveRefusal.malformed, `at most ${MAX_REQUEST_OPS} team operations`);
	return encoded.map((item, i) => {
		let bytes: Uint8Array;
		if (item instanceof Uint8Array) bytes = item;
		else if (typeof item === 'string' && item.length <= (MAX_OP_BYTES * 4) / 3 + 4 && /^[A-Za-z0-9+/_-]*={0,2}$/.test(item)) {
			bytes = new Uint8Array(Buffer.from(item, 'base64'));
		} else throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${i} is not base64`);
		try {
			return decodeOp(bytes);
		} catch (error) {
			const why = error instanceof TeamOpFormatError ? error.message : 'unreadable';
			throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${i} is malformed (${why})`);
		}
	});
}

/** What {@link checkArchiveRequest} checks. */
export interface ArchiveRequestCheck {
	workspaceId: string;
	/** The operations sent with the request (decoded). */
	ops: readonly TeamOp[];
	/** The operations the relay holds already (signatures checked), none for a new workspace. */
	known?: readonly TeamOp[];
	/** The peer id that signed the request (authenticated by the HTTP layer). */
	signer: string;
	/** This relay's peer id. */
	relayPeerId: string;
}

/**
 * Checks an archive request; returns the team it folds to.
 * @throws {ArchiveRefusedError} saying why it is refused.
 */
export async function checkArchiveRequest(check: ArchiveRequestCheck): Promise<Team> {
	const { workspaceId, ops, signer, relayPeerId } = check;
	const known = new Set((check.known ?? []).map((op) => op.id));
	const fresh = ops.filter((op) => !known.has(op.id));
	for (const op of fresh) {
		if (op.payload.ws !== workspaceId) {
			throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${op.id.slice(0, 12)} belongs to another workspace`);
		}
	}
	const signed = await Promise.all(fresh.map((op) => verifyTeamOp(op)));
	const bad = fresh.find((_op, i) => !signed[i]);
	if (bad !== undefined) {
		throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${bad.id.slice(0, 12)} is not signed by the device it names`);
	}
	const team = foldTeam(workspaceId, [...(check.known ?? []), ...fresh]);
	if (team.root === undefined) {
		throw new ArchiveRefusedError(ArchiveRefusal.notCertified, 'these operations do not found this workspace: its id is not certified by their creator');
	}
	const member = memberOfDevice(team, signer);
	if (member === undefined) throw new ArchiveRefusedError(ArchiveRefusal.notAdmin, 'you are not a current member of this workspace');
	if (ROLE_RANK[member.role] < ROLE_RANK.admin) {
		throw new ArchiveRefusedError(ArchiveRefusal.notAdmin, 'only owners and admins can ask the relay to archive a workspace');
	}
	if (!team.devices.has(relayPeerId)) {
		throw new ArchiveRefusedError(
			ArchiveRefusal.relayNotMember,
			`add this relay to the team first (member ${relayPeerId}, role relay), then send the operations again`
		);
	}
	return team;
}
