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
 * Signatures cost about a millisecond each, so the cheap checks come first: duplicates are
 * dropped, and the request's own operations must hold the workspace's `create` (its id derived
 * from the author and nonce) and name the signer as a device (its author, added, or admitted)
 * before any signature is checked; then each distinct operation the relay does not hold is
 * checked once, in batches that give the event loop back. Those structural checks look at the
 * request alone, never at what the relay holds, and a refusal short of admin rights reads the
 * same whatever the reason ({@link NOT_ADMIN_MESSAGE}), so a stranger cannot tell a workspace
 * this relay archives from one it does not.
 *
 * Pure but for the signature checks; nothing is stored here.
 */
import { foldTeam, memberOfDevice, type Team } from '../../src/lib/doc/team/fold.ts';
import { decodeOp, isRootPayload, MAX_OP_BYTES, ROLE_RANK, TeamOpFormatError, type TeamOp } from '../../src/lib/doc/team/ops.ts';
import { verifyTeamOp } from '../../src/lib/doc/team/sign.ts';
import { teamWorkspaceId } from '../../src/lib/doc/team/teamId.ts';

/** Most operations one request may carry. */
export const MAX_REQUEST_OPS = 4096;

/** Signatures checked between two turns of the event loop (about a millisecond each). */
const VERIFY_BATCH = 16;

/**
 * The one answer to a signer who may not archive the workspace: a stranger, a member who is
 * not an admin, or operations that do not certify the id. The same words whether or not the
 * relay archives the workspace.
 */
export const NOT_ADMIN_MESSAGE = 'only a current owner or admin of this workspace can ask the relay to archive it';

/** Why an archive request is refused; `reason` picks the HTTP status (api.ts). */
export const ArchiveRefusal = {
	/** The operations do not decode, are not signed by their authors, or name another workspace (400). */
	malformed: 'malformed',
	/** No operation certifies the workspace id: a team made up for someone else's workspace (403, {@link NOT_ADMIN_MESSAGE}). */
	notCertified: 'not-certified',
	/** The signer is not a current owner or admin device (403, {@link NOT_ADMIN_MESSAGE}). */
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
 * Decodes the operations of a request (each an encoded team operation, base64 or bytes), each
 * distinct operation once.
 * @throws {ArchiveRefusedError} `malformed` for anything that is not.
 */
export function decodeRequestOps(encoded: unknown): TeamOp[] {
	if (!Array.isArray(encoded) || encoded.length === 0) {
		throw new ArchiveRefusedError(ArchiveRefusal.malformed, 'send the team: "ops" must be a non-empty list of encoded team operations');
	}
	if (encoded.length > MAX_REQUEST_OPS) throw new ArchiveRefusedError(ArchiveRefusal.malformed, `at most ${MAX_REQUEST_OPS} team operations`);
	return distinct(encoded.map(decodeRequestOp));
}

/** Operation `i` of a request. */
function decodeRequestOp(item: unknown, i: number): TeamOp {
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
	/** Checks an operation's signature; default `verifyTeamOp` (tests count the calls). */
	verify?: (op: TeamOp) => boolean | Promise<boolean>;
}

/**
 * Checks an archive request; returns the team it folds to. See the module comment for the order.
 * @throws {ArchiveRefusedError} saying why it is refused.
 */
export async function checkArchiveRequest(check: ArchiveRequestCheck): Promise<Team> {
	const { workspaceId, signer, relayPeerId } = check;
	const ops = distinct(check.ops);
	for (const op of ops) {
		if (op.payload.ws !== workspaceId) {
			throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${op.id.slice(0, 12)} belongs to another workspace`);
		}
	}
	if (!ops.some((op) => certifies(op, workspaceId))) throw new ArchiveRefusedError(ArchiveRefusal.notCertified, NOT_ADMIN_MESSAGE);
	if (!ops.some((op) => names(op, signer))) throw new ArchiveRefusedError(ArchiveRefusal.notAdmin, NOT_ADMIN_MESSAGE);
	const known = new Set((check.known ?? []).map((op) => op.id));
	// One root, as every replica's roster holds (TeamDoc.ts): a second one never counts (found in
	// review: a removed creator signed another root of the workspace whose id sorted first, and
	// the fold made it owner again under it, so it replaced the relay's secret).
	// A root that does not certify the workspace id is dropped too.
	const heldRoot = (check.known ?? []).some((op) => isRootPayload(op.payload));
	const fresh = ops.filter((op) => !known.has(op.id) && !(isRootPayload(op.payload) && (heldRoot || !certifies(op, workspaceId))));
	if (fresh.filter((op) => isRootPayload(op.payload)).length > 1) {
		throw new ArchiveRefusedError(ArchiveRefusal.malformed, 'a team has one root; the request carries several');
	}
	const bad = await firstUnsigned(fresh, check.verify ?? verifyTeamOp);
	if (bad !== undefined) {
		throw new ArchiveRefusedError(ArchiveRefusal.malformed, `team operation ${bad.id.slice(0, 12)} is not signed by the device it names`);
	}
	const team = foldTeam(workspaceId, [...(check.known ?? []), ...fresh]);
	if (team.root === undefined) throw new ArchiveRefusedError(ArchiveRefusal.notCertified, NOT_ADMIN_MESSAGE);
	const member = memberOfDevice(team, signer);
	if (member === undefined || ROLE_RANK[member.role] < ROLE_RANK.admin) throw new ArchiveRefusedError(ArchiveRefusal.notAdmin, NOT_ADMIN_MESSAGE);
	if (!team.devices.has(relayPeerId)) {
		throw new ArchiveRefusedError(
			ArchiveRefusal.relayNotMember,
			`add this relay to the team first (member ${relayPeerId}, role relay), then send the operations again`
		);
	}
	return team;
}

/** Each operation once (by id), in the order first seen. */
function distinct<T extends TeamOp>(ops: readonly T[]): T[] {
	return [...new Map(ops.map((op) => [op.id, op] as const)).values()];
}

/** Whether `op` can be the root of `workspaceId`'s team: a `create` with no parents whose author and nonce make the id. */
function certifies(op: TeamOp, workspaceId: string): boolean {
	const p = op.payload;
	return p.t === 'create' && p.prev.length === 0 && teamWorkspaceId(p.by, p.nonce) === workspaceId;
}

/** Whether `op` makes `device` a device of the team, if it holds: its `create`, an `add` of it, or its own `admit`. */
function names(op: TeamOp, device: string): boolean {
	const p = op.payload;
	return (p.t === 'create' && p.by === device) || (p.t === 'add' && p.member === device) || (p.t === 'admit' && p.by === device);
}

/** The first operation whose signature does not hold, checking a batch at a time and yielding between batches. */
async function firstUnsigned(ops: readonly TeamOp[], verify: (op: TeamOp) => boolean | Promise<boolean>): Promise<TeamOp | undefined> {
	for (let from = 0; from < ops.length; from += VERIFY_BATCH) {
		if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
		const batch = ops.slice(from, from + VERIFY_BATCH);
		const signed = await Promise.all(batch.map((op) => verify(op)));
		const bad = batch.find((_op, i) => !signed[i]);
		if (bad !== undefined) return bad;
	}
	return undefined;
}
