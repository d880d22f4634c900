/**
 * Puts a workspace on the mesh the way every replica does (the browser's MeshState, the
 * relay's archive, the in-process test peers): its team as the sessions' authority, a gossip
 * keyring kept in step with the team by the key keeper, and its documents.
 */
import type { Awareness } from 'y-protocols/awareness';
import type { MeshAuthority } from '../mesh/authority.js';
import { GossipKeyring } from '../mesh/keyring.js';
import type { MeshService, MeshWorkspace } from '../mesh/MeshService.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { keepKeys } from './keyKeeper.js';
import { startSealedSync, type SealedMirrorStore } from './sealedSync.js';
import type { TeamAuthority, TeamDevice } from './TeamAuthority.js';

/** What {@link syncWorkspace} needs. */
export interface SyncWorkspaceInit {
	id: string;
	/** The workspace secret (names the gossip topic; the legacy gossip key). */
	secret: Uint8Array;
	docs: SyncDocs;
	authority: TeamAuthority;
	/** This replica's device (the key keeper opens, seals and rotates keys with it). */
	device: TeamDevice;
	/** The authority as this node presents it, when not `authority` itself (a second tab). */
	meshAuthority?: MeshAuthority;
	awareness?: Awareness;
	/** Told about key boxes that do not open and key writes that fail. */
	onError: (error: Error) => void;
	/** The key keeper's longest wait before sharing the key (tests shorten it). */
	shareJitterMs?: number;
	/** MeshWorkspace.sealed. */
	sealed?: MeshWorkspace['sealed'];
	/** Keeps this device's mirrors of relays' sealed logs across restarts (sealedSync.ts). */
	sealedMirrors?: SealedMirrorStore;
}

/** A workspace on the mesh: its keyring, and how to stop keeping its keys. */
export interface SyncedWorkspace {
	keyring: GossipKeyring;
	/** Stops the key keeper (the caller removes the workspace from the mesh). */
	stopKeys: () => void;
}

/** Builds the workspace's keyring and key keeper and adds it to `mesh`. */
export async function syncWorkspace(mesh: Pick<MeshService, 'addWorkspace' | 'putSealed' | 'wantSealed' | 'livePeers' | 'on'>, init: SyncWorkspaceInit): Promise<SyncedWorkspace> {
	const { id, secret, docs, authority, device, onError } = init;
	const keyring = await GossipKeyring.fromSecret(id, secret, onError);
	const stopKeys = keepKeys({ authority, keyring, device, onError, ...(init.shareJitterMs !== undefined ? { shareJitterMs: init.shareJitterMs } : {}) });
	try {
		await mesh.addWorkspace({
			id,
			secret,
			docs,
			authority: init.meshAuthority ?? authority,
			keyring,
			...(init.awareness !== undefined ? { awareness: init.awareness } : {}),
			...(init.sealed !== undefined ? { sealed: init.sealed } : {})
		});
	} catch (error) {
		stopKeys();
		throw error;
	}
	// Private spaces on relays outside them, sealed.
	const stopSealed = startSealedSync({ workspaceId: id, mesh, docs, authority, device, onError, ...(init.sealedMirrors !== undefined ? { mirrors: init.sealedMirrors } : {}) });
	return {
		keyring,
		stopKeys: () => {
			stopKeys();
			stopSealed();
		}
	};
}
