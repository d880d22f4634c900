/**
 * Runes state of the private spaces this device's member is in: private channels and direct
 * conversations (doc/team/spaces.ts). The team says which spaces exist and who is in them;
 * each space's own document says its name and topic, so nobody outside it learns them. The
 * documents of the member's spaces stay loaded while the workspace is open (there are few),
 * to show their names; the mesh offers them only to the space's members.
 */
import { ChannelDoc, type SpaceInfo } from '../doc/ChannelDoc.js';
import { newSpaceId } from '../doc/team/teamId.js';
import type { ChannelInfo } from '../doc/schema.js';
import { ROLE_RANK, SpaceKind } from '../doc/team/ops.js';
import { findDirect, spacesOf } from '../doc/team/spaces.js';
import type { TeamSpace } from '../doc/team/fold.js';
import type { TeamAuthority } from '../core/TeamAuthority.js';
import type { DocHandle, DocStore } from '../store/DocStore.js';
import { LOCAL_ORIGIN } from './ChannelState.svelte.js';

/** A direct conversation as the list shows it. */
export interface DirectInfo {
	id: string;
	/** The other members' ids (the member itself left out). */
	others: string[];
	createdAt: number;
}

/** See the module comment. */
export class SpacesState {
	/** Bumps when a space's name arrives or changes, or the team changes. */
	version = $state(0);
	private readonly handles = new Map<string, { handle: DocHandle; off: () => void }>();
	private closed = false;

	constructor(
		private readonly authority: TeamAuthority,
		private readonly docs: DocStore
	) {}

	/** This device's member id. */
	private get me(): string | undefined {
		const device = this.authority.devicePeerId;
		return device === undefined ? undefined : this.authority.team.devices.get(device);
	}

	/**
	 * A new space's id and nonce, made by this device (teamId.ts `newSpaceId`): of the marked
	 * form, which the root never lists; of the legacy form only in a workspace made before
	 * (team `legacySpaceIds`), where devices not updated yet take no other.
	 */
	private newSpace(): { space: string; nonce: string } {
		const device = this.authority.devicePeerId;
		if (device === undefined) throw new Error('this device is not a member');
		return newSpaceId(this.authority.workspaceId, device, this.authority.team.legacySpaceIds);
	}

	/** The member's spaces, oldest first. */
	private get mine(): TeamSpace[] {
		void this.version;
		return spacesOf(this.authority.team, this.me);
	}

	/** Loads the documents of spaces the member joined, lets go of those it left. Call after every change of the team. */
	refresh(): void {
		if (this.closed) return;
		const ids = new Set(this.mine.map((s) => s.id));
		for (const id of ids) {
			if (this.handles.has(id)) continue;
			const handle = this.docs.open(id);
			const bump = () => this.version++;
			handle.doc.on('update', bump);
			this.handles.set(id, { handle, off: () => handle.doc.off('update', bump) });
			void handle.ready.then(bump, () => undefined);
		}
		for (const [id, held] of this.handles) {
			if (ids.has(id)) continue;
			held.off();
			this.docs.release(held.handle);
			this.handles.delete(id);
		}
		this.version++;
	}

	/** A space's name and topic, once its document has arrived. */
	private info(id: string): SpaceInfo | undefined {
		const held = this.handles.get(id);
		return held === undefined ? undefined : new ChannelDoc(held.handle.doc).spaceInfo();
	}

	/** The member's private channels, as the channel list shows them. */
	get channels(): ChannelInfo[] {
		return this.mine.filter((s) => s.kind === SpaceKind.private).map((s) => this.channelInfo(s));
	}

	/** A private channel or direct conversation of the member, as a channel's header shows it; undefined for others. */
	channel(id: string): ChannelInfo | undefined {
		const space = this.mine.find((s) => s.id === id);
		return space === undefined ? undefined : this.channelInfo(space);
	}

	private channelInfo(space: TeamSpace): ChannelInfo {
		const info = this.info(space.id);
		return {
			id: space.id,
			name: info?.name ?? '…',
			topic: info?.topic ?? '',
			private: true,
			readOnly: false,
			archived: false,
			createdAt: space.createdAt,
			createdBy: space.creator
		};
	}

	/** The member's direct conversations, oldest first. */
	get directs(): DirectInfo[] {
		const me = this.me;
		return this.mine
			.filter((s) => s.kind === SpaceKind.dm)
			.map((s) => ({ id: s.id, others: [...s.members].filter((m) => m !== me).sort(), createdAt: s.createdAt }));
	}

	/** Whether `id` is a direct conversation of the member. */
	isDirect(id: string): boolean {
		return this.mine.some((s) => s.id === id && s.kind === SpaceKind.dm);
	}

	/** Members of space `id` (ids), or undefined when it is not one of the member's spaces. */
	members(id: string): string[] | undefined {
		const space = this.mine.find((s) => s.id === id);
		return space === undefined ? undefined : [...space.members];
	}

	/** Whether this member may add others to space `id` and remove them (its creator; an admin or owner in a private channel, not in a direct conversation: fold.ts). */
	mayManage(id: string): boolean {
		const space = this.mine.find((s) => s.id === id);
		const me = this.me;
		if (space === undefined || me === undefined) return false;
		const role = this.authority.team.members.get(me)?.role;
		return space.creator === me || (role !== undefined && ROLE_RANK[role] >= ROLE_RANK.admin && space.kind !== 'dm');
	}

	/**
	 * Creates a private channel of the member and `members` (member ids): the signed space
	 * first, so the mesh never offers its document to anyone else, then its name and topic in
	 * its own document. Returns its id.
	 */
	async createChannel(name: string, topic: string, members: string[]): Promise<string> {
		const me = this.me;
		if (me === undefined) throw new Error('this device is not a member');
		const { space: id, nonce } = this.newSpace();
		await this.authority.write({ t: 'space', space: id, nonce, kind: SpaceKind.private, members: [me, ...members.filter((m) => m !== me)] });
		this.refresh();
		this.write(id, { name, topic });
		return id;
	}

	/** The direct conversation of the member with `others` (member ids), created when there is none yet. */
	async direct(others: string[]): Promise<string> {
		const me = this.me;
		if (me === undefined) throw new Error('this device is not a member');
		const members = [me, ...others.filter((m) => m !== me)];
		const existing = findDirect(this.authority.team, members);
		if (existing !== undefined) return existing.id;
		const { space: id, nonce } = this.newSpace();
		await this.authority.write({ t: 'space', space: id, nonce, kind: SpaceKind.dm, members });
		this.refresh();
		return id;
	}

	/** Adds members to space `id` (they get its history) or removes them (they get nothing new). */
	async changeMembers(id: string, add: string[], remove: string[]): Promise<void> {
		if (add.length === 0 && remove.length === 0) return;
		await this.authority.write({ t: 'space-members', space: id, add, remove });
		this.refresh();
	}

	/** Leaves space `id`. */
	async leave(id: string): Promise<void> {
		const me = this.me;
		if (me !== undefined) await this.changeMembers(id, [], [me]);
	}

	private write(id: string, info: SpaceInfo): void {
		const held = this.handles.get(id);
		if (held === undefined) return;
		const doc = new ChannelDoc(held.handle.doc);
		held.handle.doc.transact(() => doc.setSpaceInfo(info), LOCAL_ORIGIN);
	}

	/** Lets every space document go. */
	close(): void {
		this.closed = true;
		for (const held of this.handles.values()) {
			held.off();
			this.docs.release(held.handle);
		}
		this.handles.clear();
	}
}
