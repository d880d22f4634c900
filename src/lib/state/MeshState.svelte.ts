/**
 * Runes state of this device on the mesh: starts the browser peer (browserPeer.ts) once the
 * app has opened, syncs every workspace that has a secret, and keeps what the UI shows:
 * connected peers, each workspace's sync state with catch-up progress, and presence and
 * typing from y-protocols awareness.
 *
 * The libp2p code is imported on demand, after the first paint. The device key (the peer id
 * that signs messages) drives the node of one tab only (a Web Lock): a second tab of the
 * same profile runs its node with a throwaway key, so the two tabs are two peers that sync
 * with each other instead of two nodes fighting over one peer id.
 *
 * Given the app's {@link ModelsState}, it also puts models on the mesh (MeshModels.ts): the
 * model loaded here is served and advertised in every workspace while the user shares it
 * (the choice is kept in the settings), and other peers' models are offered in the picker.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Services } from '../app.js';
export { ConnectionState, type ConnectionInfo, type Presence } from './connection.js';
import type { BrowserPeer } from '../mesh/browserPeer.js';
import { inviteLink as buildInviteLink, type InviteToken } from '../mesh/invite.js';
import { archiveOnRelay, isArchivedOnRelay } from '../mesh/relayApi.js';
import type { MeshModels } from './MeshModels.js';
import type { ModelsState } from './ModelsState.svelte.js';
import { DeniedReason } from '../mesh/constants.js';
import { MembershipDeniedError } from '../mesh/errors.js';
import { WorkspaceSyncState, type WorkspaceStatus } from '../mesh/workspaceStatus.js';
import { connectionInfo, readPresence, type ConnectionInfo, type Presence } from './connection.js';
import type { WorkspaceRow } from '../store/db.js';
import { WorkspaceSyncDocs } from '../store/WorkspaceSyncDocs.js';
import type { TeamAuthority } from '../core/TeamAuthority.js';
import { syncWorkspace, type SyncedWorkspace } from '../core/meshWorkspace.js';
import { admitProof } from '../doc/team/sign.js';
import { teamRosterId } from '../doc/team/teamId.js';
import type { MeshAuthority } from '../mesh/authority.js';
import { delegatedAuthority } from '../core/tabAuthority.js';
import { DELEGATION_MS, signDelegation } from '../doc/team/delegation.js';

/** The DENIED reasons that say what is wrong with an invitation. */
const INVITE_PROBLEMS: Partial<Record<number, 'used' | 'expired' | 'revoked'>> = {
	[DeniedReason.inviteUsed]: 'used',
	[DeniedReason.inviteExpired]: 'expired',
	[DeniedReason.inviteRevoked]: 'revoked'
};

/** What this device publishes in awareness. */
interface LocalPresence {
	peer: string;
	name: string;
	channel?: string;
	typing?: string;
}

/** User Timing marks of the mesh's start (read by bench/connect.ts). */
export const MARK_MESH_START = 'outpost:mesh:start';
export const MARK_MESH_NODE = 'outpost:mesh:node-started';
export const MARK_MESH_RELAY = 'outpost:mesh:relay-connected';
/** First time a workspace is live with a peer; `detail` is the workspace id. */
export const MARK_MESH_SYNCED = 'outpost:mesh:synced';

/** How long "is typing" lasts after the last keystroke. */
export const TYPING_MS = 4000;
const WEB_LOCK = 'outpost-device-key';
/** Settings key of "Share this model with the workspace". */
const SHARE_SETTING = 'shareModel';

interface Synced {
	row: WorkspaceRow;
	docs: WorkspaceSyncDocs;
	awareness: Awareness;
	authority: TeamAuthority;
	/** Its keyring and key keeper, once it is on the mesh. */
	keys?: SyncedWorkspace;
	/** Set when it is being (or has been) added to the mesh. */
	onMesh?: boolean;
}

/** See the module comment. */
export class MeshState {
	/** Whether the peer runs. */
	started = $state(false);
	/** Why the peer could not start, if it failed. */
	error = $state('');
	/** Sync state by workspace id. */
	statuses = $state.raw<Record<string, WorkspaceStatus>>({});
	/** The serving relay's app URLs on the LAN (empty: none, or not known yet). */
	appUrls = $state.raw<string[]>([]);
	/** Whether the app was served by a relay (it can archive workspaces). */
	servedByRelay = $state(false);
	/**
	 * Workspaces whose secret another peer's proof did not match (a damaged or forged invite,
	 * when this device is joining); by workspace id.
	 */
	secretMismatch = $state.raw<Record<string, boolean>>({});
	/**
	 * Why a peer refused this device's invitation while it joins (used up, expired or
	 * revoked), by workspace id: the joining screen says so.
	 */
	inviteProblem = $state.raw<Record<string, 'used' | 'expired' | 'revoked'>>({});
	/** Presence by workspace id (others only). */
	presence = $state.raw<Record<string, Presence[]>>({});

	private peer: BrowserPeer | undefined;
	/** The peer id of the relay that served the app (its device in a team), when known. */
	private relayPeerId: string | undefined;
	private starting: Promise<void> | undefined;
	private readonly synced = new Map<string, Synced>();
	/** Workspaces being added (addWorkspace awaits before it records them). */
	private readonly adding = new Set<string>();
	private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
	private stopped = false;
	private meshModels: MeshModels | undefined;

	/** `models`: the app's model choices, to share this browser's model and offer the mesh's. */
	constructor(
		private readonly services: Services,
		private readonly models?: ModelsState
	) {
		if (models) void this.keepShareSetting(models);
	}

	/** Restores "Share this model with the workspace" and saves it whenever it changes. */
	private async keepShareSetting(models: ModelsState): Promise<void> {
		const { settings } = this.services.db;
		try {
			if ((await settings.get(SHARE_SETTING))?.value === true) models.setShared(true);
		} catch (error) {
			console.warn('mesh: could not read the model sharing setting', error);
		}
		let saved = models.shared;
		models.onSharedChange(() => {
			if (models.shared === saved) return;
			saved = models.shared;
			settings.put({ key: SHARE_SETTING, value: saved }).catch((error: unknown) => console.warn('mesh: could not save the model sharing setting', error));
		});
	}

	/** Starts the peer (once) with the relays it knows; workspaces added before are synced then. */
	start(relays: string[] = []): Promise<void> {
		this.starting ??= this.run(relays).catch((error: unknown) => {
			this.error = error instanceof Error ? error.message : String(error);
			console.error('mesh: could not start', error);
		});
		return this.starting;
	}

	private async run(relays: string[]): Promise<void> {
		performance.mark(MARK_MESH_START);
		// Code, key and the relay's addresses at once: each is a wait of its own.
		const [{ BrowserPeer }, { createMeshNode }, { MeshModels }, served, privateKey] = await Promise.all([
			import('../mesh/browserPeer.js'),
			import('../mesh/node.browser.js'),
			import('./MeshModels.js'),
			import('../mesh/relayInfo.js').then(({ fetchServingRelay }) => fetchServingRelay()),
			this.nodeKey()
		]);
		this.appUrls = served.urls;
		this.servedByRelay = served.addresses.length > 0;
		this.relayPeerId = served.peerId;
		if (this.stopped) return;
		const peer = await BrowserPeer.start({
			privateKey,
			relays: [...served.addresses, ...relays, ...[...this.synced.values()].flatMap((s) => s.row.relays ?? [])],
			createNode: createMeshNode,
			onDialError: (error, target) => console.info('mesh: dial failed', target, error.message)
		});
		if (this.stopped) {
			await peer.stop();
			return;
		}
		this.peer = peer;
		performance.mark(MARK_MESH_NODE);
		peer.mesh.on('peer-count', () => this.markRelayConnected());
		const synced = new Set<string>();
		peer.mesh.on('workspace-status', (status) => {
			this.statuses = { ...this.statuses, [status.workspaceId]: status };
			if (status.state === WorkspaceSyncState.live && !synced.has(status.workspaceId)) {
				synced.add(status.workspaceId);
				performance.mark(MARK_MESH_SYNCED, { detail: status.workspaceId });
			}
		});
		peer.mesh.on('error', ({ error, peerId, workspaceId }) => {
			console.info('mesh:', error.name, error.message, peerId ?? '');
			if (workspaceId !== undefined && error instanceof MembershipDeniedError && error.reason === DeniedReason.badProof) {
				this.secretMismatch = { ...this.secretMismatch, [workspaceId]: true };
			}
			const problem = error instanceof MembershipDeniedError ? INVITE_PROBLEMS[error.reason] : undefined;
			if (workspaceId !== undefined && problem !== undefined && this.synced.get(workspaceId)?.authority.joined === false) {
				this.inviteProblem = { ...this.inviteProblem, [workspaceId]: problem };
			}
		});
		if (this.models) {
			try {
				this.meshModels = await MeshModels.start(
					peer,
					this.models,
					{ peerId: this.services.identity.peerId, key: this.services.identity.privateKey, clock: this.services.clock },
					(workspaceId, peerId) => this.synced.get(workspaceId)?.authority.isMember(peerId) ?? false
				);
			} catch (error) {
				console.error('mesh: could not serve models', error);
			}
		}
		for (const synced of this.synced.values()) await this.addToMesh(synced);
		this.started = true;
		this.markRelayConnected();
	}

	/** Syncs a workspace (needs its secret); idempotent. */
	async addWorkspace(row: WorkspaceRow, displayName: string): Promise<void> {
		if (row.secret === undefined || this.synced.has(row.id) || this.stopped || this.adding.has(row.id)) return;
		this.adding.add(row.id);
		try {
			await this.addWorkspaceNow(row, displayName);
		} finally {
			this.adding.delete(row.id);
		}
	}

	private async addWorkspaceNow(row: WorkspaceRow, displayName: string): Promise<void> {
		const { identity, teams } = this.services;
		const rosterId = row.rosterId || teamRosterId(row.id);
		const docs = await WorkspaceSyncDocs.open({ workspaceId: row.id, rosterId, docs: this.services.docs, db: this.services.db });
		const authority = await teams.acquire(row.id, rosterId);
		if (row.invitation && !authority.joined && !authority.hasAdmission(row.invitation.id)) {
			// A joiner's admission names the invitation operation, which arrives with the team.
			const { id, opId, seed } = row.invitation;
			await authority.writeAfter([opId], { t: 'admit', invite: id, proof: admitProof(seed, row.id, id, identity.peerId), name: displayName });
		}
		const awareness = new Awareness(new Y.Doc());
		awareness.setLocalState({ peer: identity.peerId, name: displayName } satisfies LocalPresence);
		awareness.on('change', () => this.refreshPresence(row.id));
		const synced: Synced = { row, docs, awareness, authority };
		this.synced.set(row.id, synced);
		this.peer?.addRelays(row.relays ?? []);
		if (this.peer) await this.addToMesh(synced);
	}

	private async addToMesh(synced: Synced): Promise<void> {
		const mesh = this.peer?.mesh;
		const { row, docs, awareness, authority } = synced;
		if (!mesh || row.secret === undefined || synced.onMesh) return;
		synced.onMesh = true;
		const { identity } = this.services;
		synced.keys = await syncWorkspace(mesh, {
			id: row.id,
			secret: row.secret,
			docs,
			awareness,
			authority,
			meshAuthority: await this.tabAuthority(row.id, authority),
			device: { peerId: identity.peerId, privateKey: identity.privateKey },
			onError: (error) => console.info('team keys:', error.name, error.message)
		});
		this.meshModels?.addWorkspace(row.id);
	}

	/** The workspace's sync documents (for waiting on a joined workspace's root). */
	syncDocs(workspaceId: string): WorkspaceSyncDocs | undefined {
		return this.synced.get(workspaceId)?.docs;
	}

	/**
	 * The workspace's awareness (presence, typing, note cursors), shared over the mesh; for
	 * collaborative editors. Set fields with `setLocalStateField`-style merges: the presence
	 * fields of the local state belong to this class.
	 */
	awareness(workspaceId: string): Awareness | undefined {
		return this.synced.get(workspaceId)?.awareness;
	}

	/** What the "Connection" element shows for a workspace. */
	connection(workspaceId: string): ConnectionInfo {
		return connectionInfo(this.started, this.error !== '', this.statuses[workspaceId]);
	}

	/** Whether `peerId` is a relay this device keeps connected (to name it "the relay"). */
	isRelay(peerId: string): boolean {
		return this.peer?.isRelay(peerId) ?? false;
	}

	/**
	 * The invite link of a workspace for an invitation of its team (empty without a secret):
	 * on the relay's LAN URL when this page is on the relay's own machine, naming every relay
	 * this device knows for it. Without `invitation` the link admits nobody: it only tells a
	 * relay which workspace to archive ("Add this workspace to the relay").
	 */
	inviteLink(row: WorkspaceRow, name: string, invitation?: InviteToken): string {
		if (row.secret === undefined) return '';
		const local = /^(localhost|127\.|\[::1\])/.test(location.hostname);
		const origin = (local ? this.appUrls[0] : undefined) ?? location.origin;
		const relays = [...new Set([...this.relayAddresses(), ...(row.relays ?? [])])];
		return buildInviteLink(origin, { workspaceId: row.id, secret: row.secret, name, relays, ...(invitation ? { invitation } : {}) });
	}

	/** The team of a workspace this device syncs, else undefined. */
	team(workspaceId: string): TeamAuthority | undefined {
		return this.synced.get(workspaceId)?.authority;
	}

	/**
	 * Makes the relay that served the app an archive peer of a workspace: adds the relay's
	 * device to the team (role relay) when it is not in it, then sends the relay the team's
	 * operations in a request signed by this device, which must be an owner or admin.
	 * @throws {RelayApiError} with the relay's explanation; an Error when no relay served the app.
	 */
	async archiveOnRelay(workspaceId: string): Promise<void> {
		const synced = this.synced.get(workspaceId);
		const relay = this.relayPeerId;
		const secret = synced?.row.secret;
		if (!synced || relay === undefined || secret === undefined) throw new Error('this app was not opened from a relay');
		const { authority, row } = synced;
		if (!authority.isMember(relay)) await authority.write({ t: 'add', member: relay, role: 'relay', name: 'Relay' });
		await authority.settled();
		const { identity } = this.services;
		const name = (await this.services.db.workspaces.get(workspaceId))?.name ?? row.name;
		await archiveOnRelay({
			workspaceId,
			secret,
			name,
			relays: row.relays ?? [],
			ops: authority.operations().map((op) => op.bytes),
			signer: { peerId: identity.peerId, privateKey: identity.privateKey }
		});
	}

	/** Whether the relay that served the app archives `workspaceId` (undefined: no relay, or unknown). */
	async isArchivedOnRelay(workspaceId: string): Promise<boolean | undefined> {
		if (!this.servedByRelay) return undefined;
		const { identity } = this.services;
		return isArchivedOnRelay(workspaceId, { peerId: identity.peerId, privateKey: identity.privateKey });
	}

	/** Relay addresses to put in invites. */
	relayAddresses(): string[] {
		return this.peer?.relayAddresses() ?? [];
	}

	/** Publishes the channel this device looks at (and stops "typing" elsewhere). */
	setChannel(workspaceId: string, channelId: string | undefined): void {
		this.updateLocal(workspaceId, (s) => ({ ...s, channel: channelId, typing: undefined }));
	}

	/** Publishes that this device types in `channelId`; it lapses after {@link TYPING_MS}. */
	typing(workspaceId: string, channelId: string): void {
		const synced = this.synced.get(workspaceId);
		if (!synced) return;
		const current = synced.awareness.getLocalState() as LocalPresence | null;
		if (current?.typing !== channelId) this.updateLocal(workspaceId, (s) => ({ ...s, typing: channelId }));
		clearTimeout(this.typingTimers.get(workspaceId));
		this.typingTimers.set(
			workspaceId,
			setTimeout(() => this.stopTyping(workspaceId), TYPING_MS)
		);
	}

	/** Clears "typing" (a message was sent, or the composer emptied). */
	stopTyping(workspaceId: string): void {
		clearTimeout(this.typingTimers.get(workspaceId));
		const current = this.synced.get(workspaceId)?.awareness.getLocalState() as LocalPresence | null | undefined;
		if (current?.typing !== undefined) this.updateLocal(workspaceId, (s) => ({ ...s, typing: undefined }));
	}

	/** Publishes a new display name in every workspace. */
	setDisplayName(name: string): void {
		for (const id of this.synced.keys()) this.updateLocal(id, (s) => ({ ...s, name }));
	}

	/** Stops syncing a workspace (its presence is withdrawn) and closes its sync documents. */
	async removeWorkspace(workspaceId: string): Promise<void> {
		const synced = this.synced.get(workspaceId);
		if (!synced) return;
		this.synced.delete(workspaceId);
		clearTimeout(this.typingTimers.get(workspaceId));
		await this.meshModels?.removeWorkspace(workspaceId);
		await this.peer?.mesh.removeWorkspace(workspaceId);
		synced.keys?.stopKeys();
		this.services.teams.release(workspaceId);
		synced.awareness.destroy();
		synced.docs.close();
		const { [workspaceId]: _status, ...statuses } = this.statuses;
		this.statuses = statuses;
		// A later join of the same workspace (a new link after a refused one) starts with no verdict.
		const { [workspaceId]: _problem, ...problems } = this.inviteProblem;
		this.inviteProblem = problems;
		const { [workspaceId]: _mismatch, ...mismatches } = this.secretMismatch;
		this.secretMismatch = mismatches;
	}

	/** Stops the peer and closes every workspace's sync documents. */
	async stop(): Promise<void> {
		this.stopped = true;
		for (const timer of this.typingTimers.values()) clearTimeout(timer);
		await this.meshModels?.stop();
		await this.peer?.stop();
		for (const [id, { docs, awareness, keys }] of this.synced) {
			keys?.stopKeys();
			this.services.teams.release(id);
			awareness.destroy();
			docs.close();
		}
		this.synced.clear();
		this.started = false;
	}

	private updateLocal(workspaceId: string, change: (state: LocalPresence) => LocalPresence): void {
		const awareness = this.synced.get(workspaceId)?.awareness;
		if (!awareness) return;
		const current = (awareness.getLocalState() ?? { peer: this.services.identity.peerId, name: '' }) as LocalPresence;
		const next = change(current);
		// Awareness compares states by value; undefined fields would still count as a change.
		awareness.setLocalState(JSON.parse(JSON.stringify(next)) as LocalPresence);
	}

	private refreshPresence(workspaceId: string): void {
		const synced = this.synced.get(workspaceId);
		if (!synced) return;
		const me = this.services.identity.peerId;
		const byPeer = new Map<string, Presence>();
		for (const [clientId, state] of synced.awareness.getStates()) {
			if (clientId === synced.awareness.clientID) continue;
			const presence = readPresence(state);
			// The same person in a second tab shows once; this device's other tabs never.
			if (!presence || presence.peerId === me) continue;
			const seen = byPeer.get(presence.peerId);
			byPeer.set(presence.peerId, seen ? { ...seen, typingIn: seen.typingIn ?? presence.typingIn } : presence);
		}
		this.presence = { ...this.presence, [workspaceId]: [...byPeer.values()] };
	}

	/** Marks (once) the moment the first relay is connected, for bench/connect.ts. */
	private markRelayConnected(): void {
		if (!this.peer || this.peer.links().relays === 0 || performance.getEntriesByName(MARK_MESH_RELAY).length > 0) return;
		performance.mark(MARK_MESH_RELAY);
	}

	/**
	 * The team as this tab's node presents it: the team itself in the tab whose node has the
	 * device key; in any other tab (a throwaway key) the same team, shown to peers through a
	 * delegation the device key signs (delegation.ts).
	 */
	private async tabAuthority(workspaceId: string, authority: TeamAuthority): Promise<MeshAuthority> {
		const tab = this.peer?.peerId;
		const { identity } = this.services;
		if (tab === undefined || tab === identity.peerId) return authority;
		const delegation = await signDelegation(identity.privateKey, {
			ws: workspaceId,
			device: identity.peerId,
			tab,
			expires: Date.now() + DELEGATION_MS
		});
		return delegatedAuthority(authority, delegation);
	}

	/** The device key in the tab that holds the Web Lock; a throwaway key in any other tab. */
	private async nodeKey(): Promise<PrivateKey> {
		const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
		if (locks === undefined) return this.services.identity.privateKey;
		const held = await new Promise<boolean>((resolve) => {
			void locks.request(WEB_LOCK, { ifAvailable: true }, (lock) => {
				resolve(lock !== null);
				// Held for the life of the tab.
				return lock === null ? undefined : new Promise<void>(() => {});
			});
		});
		return held ? this.services.identity.privateKey : generateKeyPair('Ed25519');
	}
}
