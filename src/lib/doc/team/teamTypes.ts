/** What the team fold (fold.ts) computes: the team, its members, invitations and key generations. */
import type { FilePolicy } from './filePolicy.js';
import type { SpaceKind, TeamRole } from './ops.js';

/** A current member. */
export interface TeamMember {
	/** The member's id: the peer id of its first device. */
	id: string;
	role: TeamRole;
	name: string;
	/** Peer ids of its current devices, in order of admission. */
	devices: string[];
	/** Position of its admission in the fold (lower is more senior at equal role). */
	seq: number;
	/** The author's clock at its admission. */
	joinedAt: number;
	/** The member that added or invited it (itself for the creator). */
	addedBy: string;
	/** The invitation it was admitted with, when it was. */
	invite?: string;
}

/** A removed member. */
export interface RemovedMember {
	id: string;
	name: string;
	/** Its role when removed. */
	role: TeamRole;
	seq: number;
	devices: string[];
	/** The member that removed it. */
	by: string;
	at: number;
}

/** An invitation and how far it is used. */
export interface TeamInvite {
	id: string;
	key: string;
	role: TeamRole;
	uses: number;
	used: number;
	expires: number;
	revoked: boolean;
	/** The member that created it. */
	createdBy: string;
	createdAt: number;
	/** For a device invitation: the member whose device it admits. */
	member?: string;
	/** Devices admitted with it. */
	admitted: string[];
}

/**
 * Who sealed a device's box of a generation, as the fold ranks it ({@link KeyGeneration.boxBy}):
 * a later box replaces an earlier one only from a higher rank, so a key holder who gave a new
 * device a box first (a useless one, maybe) is overruled by the generation's maker or an admin.
 */
export const BoxRank = {
	/** Any other device holding the key. */
	holder: 0,
	/** An admin or the owner (the workspace's key), or a device of the member who makes the space's keys. */
	keeper: 1,
	/** The device that made the generation. */
	maker: 2
} as const;
export type BoxRank = (typeof BoxRank)[keyof typeof BoxRank];

/** One generation of the workspace key: the boxes sealed to each device. */
export interface KeyGeneration {
	id: string;
	/** Position in the fold; the newest generation is the current one. */
	seq: number;
	boxes: Map<string, string>;
	/** The rank of who sealed each box in {@link boxes}. */
	boxBy: Map<string, BoxRank>;
	/** The device whose operation made the generation. */
	maker: string;
	/** The key's check from that operation (keyBox.ts `keyCheck`); absent in generations made before checks. */
	check?: string;
}

/** A private space (spaces.ts): a private channel or a direct conversation. */
export interface TeamSpace {
	/** The id of its channel document. */
	id: string;
	kind: SpaceKind;
	/** The member that created it. */
	creator: string;
	/** Its members' ids (removed team members are dropped from every space). */
	members: Set<string>;
	createdAt: number;
	/** The space's own key generations (sealed to its members' devices), newest last. */
	keyGenerations: Map<string, KeyGeneration>;
	/** The newest generation's id. */
	currentKey: string | undefined;
}

/** What the fold computes. */
export interface Team {
	workspaceId: string;
	/** The id of the `create` operation, or undefined while it has not arrived. */
	root: string | undefined;
	/**
	 * Whether spaces also take ids of the legacy form (teamId.ts `legacySpaceId`): in a
	 * workspace whose root was made before space ids were marked, or while the root has not
	 * arrived. Otherwise only marked ids (`isSpaceId`), which the root never lists.
	 */
	legacySpaceIds: boolean;
	members: Map<string, TeamMember>;
	/** Current device → its member. */
	devices: Map<string, string>;
	removed: Map<string, RemovedMember>;
	/** Devices removed one by one (their member stays). */
	removedDevices: Set<string>;
	/**
	 * Every device that belonged to a member while its role wrote notes (see `writesNotes`),
	 * removed and demoted ones included: what they wrote then stays part of a note's history
	 * for every replica, a newcomer's too (notePolicy.ts).
	 */
	noteWriters: Set<string>;
	invites: Map<string, TeamInvite>;
	keyGenerations: Map<string, KeyGeneration>;
	/** The newest key generation's id. */
	currentKey: string | undefined;
	/** Private spaces by their document's id. */
	spaces: Map<string, TeamSpace>;
	/**
	 * Every id a `space` operation names with a valid derivation from its author (teamId.ts
	 * `isSpaceIdOf`), accepted or not: such a document stays private (no readers) even when
	 * its space is refused or dropped, so a roster trick never makes a space's history open.
	 */
	claimedSpaces: Set<string>;
	/** Shared model id → the roles an admin allowed to use it (models with no rule: modelAccess.ts). */
	modelAccess: Map<string, Set<TeamRole>>;
	/** Shared tool (`server.tool`) → the roles an admin allowed to use it (tools with no rule: toolAccess.ts). */
	toolAccess: Map<string, Set<TeamRole>>;
	/** The workspace's rule for attachments, once an admin set one (filePolicy.ts). */
	filePolicy: FilePolicy | undefined;
	/** Operations in effect, in fold order. */
	accepted: string[];
	/** Operations with no effect, and why. */
	rejected: Map<string, string>;
	/** Operations whose ancestry has not arrived. */
	waiting: string[];
	/** Ids of the ordered operations no other names in `prev` (the `prev` of the next one written). */
	heads: string[];
}

/** Options of {@link foldTeam}. */
export interface FoldOptions {
	/**
	 * A root accepted although its workspace id is not self-certifying (a workspace made
	 * before signed teams, whose root this device pinned when it first saw it).
	 */
	pinnedRoot?: string;
}

