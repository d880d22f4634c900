/**
 * Team operations: the signed, causally linked facts a workspace's team is folded from
 * (PROTOCOL.md "Team operations"). Each operation is a small JSON payload signed by the
 * device that wrote it; its id is the SHA-256 of its encoded bytes, and it names the ids of
 * the operations its author had seen (`prev`), so operations form a DAG that every replica
 * folds the same way (fold.ts).
 *
 * This module only encodes and decodes. Decoding is defensive: operations come from any
 * peer, so every field is bounded and checked, and a bad operation gives a reason, never an
 * exception.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { sha256 } from '@noble/hashes/sha2.js';
import { isId } from '../ids.js';
import { BLOCKED_TYPE, MAX_BLOCKED_TYPES, MAX_POLICY_BYTES } from './filePolicy.js';

/** Roles of team members, most to least powerful. `relay` archives and relays; it never posts. */
export const TeamRole = { owner: 'owner', admin: 'admin', member: 'member', relay: 'relay', guest: 'guest' } as const;
/** One of {@link TeamRole}'s values. */
export type TeamRole = (typeof TeamRole)[keyof typeof TeamRole];

/** Rank of each role: higher may do more. */
export const ROLE_RANK: Readonly<Record<TeamRole, number>> = { owner: 4, admin: 3, member: 2, relay: 1, guest: 0 };

const ROLES = new Set<string>(Object.values(TeamRole));

/** A key generation's check (keyBox.ts `keyCheck`): 16 bytes, unpadded base64url. */
export const KEY_CHECK = /^[A-Za-z0-9_-]{22}$/;

/** Version tag at the start of every encoded operation. */
export const TEAM_OP_TAG = 'outpost/team/1';
/** Largest encoded operation accepted (a key rotation carries one box per device). */
export const MAX_OP_BYTES = 64 * 1024;
/** Most `prev` links an operation may name. */
export const MAX_PREV = 64;
/** Most key boxes one operation may carry. */
export const MAX_BOXES = 512;
/** Longest display name kept. */
export const MAX_TEAM_NAME = 80;

/** The bodies of the operation types. */
export type TeamOpBody =
	/** The root: its author is the workspace's first owner. `nonce` makes the workspace id (teamId.ts). */
	| { t: 'create'; nonce: string; name: string }
	/** An admin adds a device directly as a new member (the relay, a migrated member). */
	| { t: 'add'; member: string; role: TeamRole; name: string }
	/** Changes a member's role. */
	| { t: 'role'; member: string; role: TeamRole }
	/** Removes a member and all of its devices. */
	| { t: 'remove'; member: string }
	/** Removes one device of a member. */
	| { t: 'remove-device'; device: string }
	/**
	 * An invitation: `key` is the hex Ed25519 public key of the invite's secret seed, which
	 * the link carries. `member`, when set, admits a further device of that member.
	 */
	| { t: 'invite'; invite: string; key: string; role: TeamRole; uses: number; expires: number; member?: string }
	/** Revokes an invitation. */
	| { t: 'revoke-invite'; invite: string }
	/**
	 * Written by the new device itself: `proof` is the invite key's base64 signature over
	 * {@link admitProofBytes}, binding the invitation to this device and workspace.
	 */
	| { t: 'admit'; invite: string; proof: string; name: string }
	/** The author's member sets its display name. */
	| { t: 'name'; name: string }
	/**
	 * Workspace key boxes: `gen` is the key generation's id (a new one rotates the key), each
	 * box the generation's key sealed to one device (keyBox.ts). With `space`, the generation is
	 * that private space's own key, sealed to its members' devices only. `check` (the first
	 * operation of a generation; ignored on later ones) lets a device tell the key from another
	 * a key holder might have boxed for it (keyBox.ts `keyCheck`).
	 */
	| { t: 'keys'; gen: string; boxes: Record<string, string>; space?: string; check?: string }
	/**
	 * A private space (a private channel or a direct conversation): only its members' devices
	 * are offered its document (spaces.ts). `members` are member ids; the author is one.
	 * `space` is derived from the workspace, the author device and `nonce`, and marked as a space's
	 * (teamId.ts `teamSpaceId`; the old, unmarked form only in a workspace made before: `isSpaceIdOf`).
	 */
	| { t: 'space'; space: string; nonce: string; kind: SpaceKind; members: string[] }
	/** Adds members to a space, or removes them (a member may remove itself: it leaves). */
	| { t: 'space-members'; space: string; add: string[]; remove: string[] }
	/** Which roles may use a shared model (its advertised id); replaces the model's earlier rule. */
	| { t: 'model-access'; model: string; roles: TeamRole[] }
	/** The workspace's rule for attachments (filePolicy.ts); replaces the earlier one. */
	| { t: 'file-policy'; maxBytes: number; autoFetchBytes: number; blocked: string[] }
	/** Which roles may use a shared tool (an MCP server's, by its advertised `server.tool` name: toolAccess.ts); replaces its earlier rule. */
	| { t: 'tool-access'; tool: string; roles: TeamRole[] };

/** Kinds of private spaces: a private channel, or a direct conversation between a few people. */
export const SpaceKind = { private: 'private', dm: 'dm' } as const;
/** One of {@link SpaceKind}'s values. */
export type SpaceKind = (typeof SpaceKind)[keyof typeof SpaceKind];

/**
 * Most devices one member may have at once. Any member may invite devices of its own, and every
 * device is one more box in each key generation, one more admission in the roster and, before
 * this bound, one more share of every per-device limit a host kept (found in review): a member
 * admitting thousands of throwaway keys made every key rotation that much larger. The fold
 * refuses an invitation for a member's device, and an admission by one, past it; a member
 * removes a device it no longer uses to add another.
 */
export const MAX_DEVICES_PER_MEMBER = 32;

/** Most members a space names. */
export const MAX_SPACE_MEMBERS = 512;
/** Longest model id a model-access rule names. */
export const MAX_MODEL_ID = 200;

/** The type names of {@link TeamOpBody}. */
export type TeamOpType = TeamOpBody['t'];

/** The fields every operation has. */
export interface TeamOpHeader {
	v: 1;
	/** The workspace the operation belongs to. */
	ws: string;
	/** The peer id of the device that wrote and signed it. */
	by: string;
	/** Ids of the operations its author had seen (the heads), sorted. */
	prev: string[];
	/** The author's clock, in ms (claimed; checked only against invite expiry). */
	at: number;
}

/** A decoded operation's payload. */
export type TeamOpPayload = TeamOpHeader & TeamOpBody;

/** A decoded, not yet verified operation. */
export interface TeamOp {
	/** Lower-case hex SHA-256 of {@link bytes}. */
	id: string;
	payload: TeamOpPayload;
	/** The bytes the signature covers. */
	signed: Uint8Array;
	signature: Uint8Array;
	/** The whole encoded operation. */
	bytes: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Whether an operation is a team's root: a `create` with no parents (PROTOCOL.md "The fold"). */
export function isRootPayload(payload: TeamOpPayload): boolean {
	return payload.t === 'create' && payload.prev.length === 0;
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
	let out = '';
	for (const b of bytes) out += b.toString(16).padStart(2, '0');
	return out;
}

/** The id of an encoded operation. */
export function opId(bytes: Uint8Array): string {
	return hex(sha256(bytes));
}

/** The bytes a signature covers: the tag, then the payload's JSON. */
export function signedBytes(payload: TeamOpPayload): Uint8Array {
	return utf8.encode(`${TEAM_OP_TAG}\n${JSON.stringify(payload)}`);
}

/** The bytes an invite key signs to admit `device` with invitation `invite` to workspace `ws`. */
export function admitProofBytes(ws: string, invite: string, device: string): Uint8Array {
	return utf8.encode(JSON.stringify(['outpost/admit/1', ws, invite, device]));
}

/** Encodes a signed operation: varstring tag, varuint8array signed bytes, varuint8array signature. */
export function encodeOp(signed: Uint8Array, signature: Uint8Array): Uint8Array {
	const e = encoding.createEncoder();
	encoding.writeVarString(e, TEAM_OP_TAG);
	encoding.writeVarUint8Array(e, signed);
	encoding.writeVarUint8Array(e, signature);
	return encoding.toUint8Array(e);
}

/** Why an operation could not be decoded. */
export class TeamOpFormatError extends Error {
	override name = 'TeamOpFormatError';
}

function fail(reason: string): never {
	throw new TeamOpFormatError(reason);
}

const HASH_RE = /^[0-9a-f]{64}$/;
const PEER_RE = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const B64_RE = /^[A-Za-z0-9+/=_-]{1,200}$/;

/** True when `v` looks like a base58 libp2p peer id. */
export function isPeerIdString(v: unknown): v is string {
	return typeof v === 'string' && PEER_RE.test(v);
}

function str(v: unknown, max: number): string {
	if (typeof v !== 'string' || v.length > max) fail('bad string');
	return v;
}

function role(v: unknown): TeamRole {
	if (typeof v !== 'string' || !ROLES.has(v)) fail('bad role');
	return v as TeamRole;
}

function peer(v: unknown): string {
	if (!isPeerIdString(v)) fail('bad peer id');
	return v;
}

function count(v: unknown, max: number): number {
	if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) fail('bad number');
	return v;
}

function body(p: Record<string, unknown>): TeamOpBody {
	switch (p.t) {
		case 'create':
			return { t: 'create', nonce: str(p.nonce, 64), name: str(p.name, MAX_TEAM_NAME) };
		case 'add':
			return { t: 'add', member: peer(p.member), role: role(p.role), name: str(p.name, MAX_TEAM_NAME) };
		case 'role':
			return { t: 'role', member: peer(p.member), role: role(p.role) };
		case 'remove':
			return { t: 'remove', member: peer(p.member) };
		case 'remove-device':
			return { t: 'remove-device', device: peer(p.device) };
		case 'invite': {
			if (!isId(p.invite)) fail('bad invite id');
			const key = str(p.key, 64);
			if (!/^[0-9a-f]{64}$/.test(key)) fail('bad invite key');
			const out: TeamOpBody = {
				t: 'invite',
				invite: p.invite,
				key,
				role: role(p.role),
				uses: count(p.uses, 10_000),
				expires: count(p.expires, Number.MAX_SAFE_INTEGER)
			};
			if (p.member !== undefined) out.member = peer(p.member);
			return out;
		}
		case 'revoke-invite':
			if (!isId(p.invite)) fail('bad invite id');
			return { t: 'revoke-invite', invite: p.invite };
		case 'admit': {
			if (!isId(p.invite)) fail('bad invite id');
			const proof = str(p.proof, 200);
			if (!B64_RE.test(proof)) fail('bad proof');
			return { t: 'admit', invite: p.invite, proof, name: str(p.name, MAX_TEAM_NAME) };
		}
		case 'name':
			return { t: 'name', name: str(p.name, MAX_TEAM_NAME) };
		case 'keys': {
			if (!isId(p.gen)) fail('bad key generation');
			const boxes = p.boxes;
			if (typeof boxes !== 'object' || boxes === null || Array.isArray(boxes)) fail('bad boxes');
			const entries = Object.entries(boxes);
			if (entries.length > MAX_BOXES) fail('too many boxes');
			const out: Record<string, string> = {};
			for (const [device, box] of entries) out[peer(device)] = str(box, 400);
			const body: Extract<TeamOpBody, { t: 'keys' }> = { t: 'keys', gen: p.gen, boxes: out };
			if (p.check !== undefined) {
				if (typeof p.check !== 'string' || !KEY_CHECK.test(p.check)) fail('bad key check');
				body.check = p.check;
			}
			if (p.space === undefined) return body;
			if (!isId(p.space)) fail('bad space id');
			return { ...body, space: p.space };
		}
		case 'space': {
			if (!isId(p.space)) fail('bad space id');
			if (p.kind !== SpaceKind.private && p.kind !== SpaceKind.dm) fail('bad space kind');
			return { t: 'space', space: p.space, nonce: str(p.nonce, 64), kind: p.kind, members: peers(p.members, MAX_SPACE_MEMBERS) };
		}
		case 'space-members': {
			if (!isId(p.space)) fail('bad space id');
			return { t: 'space-members', space: p.space, add: peers(p.add, MAX_SPACE_MEMBERS), remove: peers(p.remove, MAX_SPACE_MEMBERS) };
		}
		case 'model-access':
		case 'tool-access': {
			if (!Array.isArray(p.roles) || p.roles.length > ROLES.size) fail('bad roles');
			const roles = p.roles.map(role);
			if (new Set(roles).size !== roles.length) fail('repeated role');
			if (p.t === 'tool-access') return { t: 'tool-access', tool: str(p.tool, MAX_MODEL_ID), roles };
			return { t: 'model-access', model: str(p.model, MAX_MODEL_ID), roles };
		}
		case 'file-policy': {
			const maxBytes = count(p.maxBytes, MAX_POLICY_BYTES);
			if (maxBytes < 1) fail('bad size');
			if (!Array.isArray(p.blocked) || p.blocked.length > MAX_BLOCKED_TYPES) fail('bad blocked list');
			const blocked = p.blocked.map((entry) => {
				if (typeof entry !== 'string' || !BLOCKED_TYPE.test(entry)) fail('bad blocked type');
				return entry;
			});
			if (new Set(blocked).size !== blocked.length) fail('repeated blocked type');
			return { t: 'file-policy', maxBytes, autoFetchBytes: count(p.autoFetchBytes, MAX_POLICY_BYTES), blocked };
		}
		default:
			fail('unknown operation type');
	}
}

/** A list of distinct peer ids, at most `max`. */
function peers(v: unknown, max: number): string[] {
	if (!Array.isArray(v) || v.length > max) fail('bad member list');
	const out = v.map(peer);
	if (new Set(out).size !== out.length) fail('repeated member');
	return out;
}

/** Checks a payload's shape; returns a clean copy. @throws {TeamOpFormatError} */
export function checkPayload(value: unknown): TeamOpPayload {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not an object');
	const p = value as Record<string, unknown>;
	if (p.v !== 1) fail('unknown version');
	if (!isId(p.ws)) fail('bad workspace id');
	const by = peer(p.by);
	if (!Array.isArray(p.prev) || p.prev.length > MAX_PREV) fail('bad prev');
	const prev = p.prev.map((h) => {
		if (typeof h !== 'string' || !HASH_RE.test(h)) fail('bad prev link');
		return h;
	});
	for (let i = 1; i < prev.length; i++) if (prev[i - 1]! >= prev[i]!) fail('prev not sorted or repeated');
	const at = count(p.at, Number.MAX_SAFE_INTEGER);
	return { v: 1, ws: p.ws, by, prev, at, ...body(p) };
}

/**
 * Decodes an encoded operation (its signature is not checked here: verify.ts).
 * @throws {TeamOpFormatError} on anything malformed.
 */
export function decodeOp(bytes: Uint8Array): TeamOp {
	if (!(bytes instanceof Uint8Array) || bytes.length > MAX_OP_BYTES) fail('too large');
	let signed: Uint8Array;
	let signature: Uint8Array;
	try {
		const d = decoding.createDecoder(bytes);
		if (decoding.readVarString(d) !== TEAM_OP_TAG) fail('unknown tag');
		signed = decoding.readVarUint8Array(d);
		signature = decoding.readVarUint8Array(d);
		if (decoding.hasContent(d)) fail('trailing bytes');
	} catch (error) {
		if (error instanceof TeamOpFormatError) throw error;
		fail('truncated');
	}
	if (signature.length !== 64) fail('bad signature length');
	const text = (() => {
		try {
			return utf8Decoder.decode(signed);
		} catch {
			fail('not UTF-8');
		}
	})();
	const prefix = `${TEAM_OP_TAG}\n`;
	if (!text.startsWith(prefix)) fail('unknown tag');
	let json: unknown;
	try {
		json = JSON.parse(text.slice(prefix.length));
	} catch {
		fail('not JSON');
	}
	const payload = checkPayload(json);
	// The signed bytes must be exactly what this payload encodes to, so one operation has one id.
	const again = signedBytes(payload);
	if (again.length !== signed.length || !again.every((b, i) => b === signed[i])) fail('not canonical');
	return { id: opId(bytes), payload, signed, signature, bytes };
}
