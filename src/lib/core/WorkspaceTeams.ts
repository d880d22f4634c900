/**
 * One {@link TeamAuthority} per open workspace on this device, shared by everything that
 * asks the team (the mesh's sessions, the UI, the model host): each holds it while it needs
 * it, and the roster document it reads stays loaded until the last one lets go.
 */
import type { PrivateKey } from '@libp2p/interface';
import type { DocHandle, DocStore } from '../store/DocStore.js';
import { TeamAuthority } from './TeamAuthority.js';

interface Entry {
	authority: TeamAuthority;
	handle: DocHandle;
	refs: number;
}

/** See the module comment. */
export class WorkspaceTeams {
	private readonly entries = new Map<string, Entry>();

	constructor(
		private readonly docs: DocStore,
		private readonly device: { peerId: string; privateKey: PrivateKey }
	) {}

	/** The team of `workspaceId` (its roster is `rosterId`), folded; hold it until {@link release}. */
	async acquire(workspaceId: string, rosterId: string): Promise<TeamAuthority> {
		let entry = this.entries.get(workspaceId);
		if (entry) {
			entry.refs++;
		} else {
			const handle = this.docs.open(rosterId);
			const authority = new TeamAuthority({ workspaceId, doc: handle.doc, device: this.device });
			entry = { authority, handle, refs: 1 };
			this.entries.set(workspaceId, entry);
			await handle.ready;
			await authority.refresh();
		}
		await entry.authority.ready;
		return entry.authority;
	}

	/** The team of an acquired workspace, else undefined. */
	get(workspaceId: string): TeamAuthority | undefined {
		return this.entries.get(workspaceId)?.authority;
	}

	/** Lets go of a team acquired with {@link acquire}. */
	release(workspaceId: string): void {
		const entry = this.entries.get(workspaceId);
		if (!entry || --entry.refs > 0) return;
		this.entries.delete(workspaceId);
		entry.authority.destroy();
		this.docs.release(entry.handle);
	}
}
