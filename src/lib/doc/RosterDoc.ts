/**
 * Typed accessors over a workspace's roster document: members with their display names
 * and roles, and revocations. Invites are recorded by the mesh issue.
 */
import * as Y from 'yjs';
import { Role, type Member } from './schema.js';

const ROLES = new Set<string>(Object.values(Role));
const MAX_NAME = 80;

/** Accessors over a roster document. */
export class RosterDoc {
	readonly members: Y.Map<Y.Map<unknown>>;
	readonly revoked: Y.Map<number>;

	constructor(readonly doc: Y.Doc) {
		this.members = doc.getMap('members');
		this.revoked = doc.getMap('revoked');
	}

	/** Adds or updates a member (display name and role are separate fields, merged per field). */
	upsert(member: Member): void {
		this.doc.transact(() => {
			let entry = this.members.get(member.peerId);
			if (!(entry instanceof Y.Map)) {
				entry = new Y.Map<unknown>();
				this.members.set(member.peerId, entry);
				entry.set('joinedAt', member.joinedAt);
				entry.set('role', member.role);
			}
			if (entry.get('name') !== member.name) entry.set('name', member.name);
		});
	}

	/** Sets a member's display name. */
	rename(peerId: string, name: string): void {
		const entry = this.members.get(peerId);
		if (entry instanceof Y.Map) entry.set('name', name.slice(0, MAX_NAME));
	}

	/** One member, or undefined. */
	member(peerId: string): Member | undefined {
		const entry = this.members.get(peerId);
		if (!(entry instanceof Y.Map)) return undefined;
		const name = entry.get('name');
		const role = entry.get('role');
		const joinedAt = entry.get('joinedAt');
		return {
			peerId,
			name: typeof name === 'string' ? name.slice(0, MAX_NAME) : '',
			role: typeof role === 'string' && ROLES.has(role) ? (role as Role) : Role.member,
			joinedAt: typeof joinedAt === 'number' ? joinedAt : 0
		};
	}

	/** Every member, by display name (ties broken by peer id, so every peer shows the same order). */
	list(): Member[] {
		const out: Member[] = [];
		for (const id of this.members.keys()) {
			const m = this.member(id);
			if (m && !this.revoked.has(id)) out.push(m);
		}
		return out.sort((a, b) => a.name.localeCompare(b.name) || (a.peerId < b.peerId ? -1 : 1));
	}

	/** A member's display name, or a short form of the peer id for strangers. */
	displayName(peerId: string): string {
		const m = this.member(peerId);
		return m && m.name ? m.name : `…${peerId.slice(-6)}`;
	}
}
