/**
 * Runes state of this device on the mesh: a wrapper of the workspace core (core/OutpostCore.ts)
 * and the transport the composition root starts (app.ts `startMesh`) for the UI. It starts the
 * peer once the app has opened, syncs every workspace that has a secret through the core, and
 * keeps what the UI shows: connected peers, each workspace's sync state with catch-up progress,
 * and presence and typing from the core's awareness.
 *
 * Given the app's {@link ModelsState}, the root also puts models on the mesh (MeshModels.ts):
 * the model loaded here is served and advertised in every workspace while the user shares it
 * (the choice is kept in the settings), and other peers' models are offered in the picker.
 */
import type { Awareness } from 'y-protocols/awareness';
import { startMesh, type Services } from '../app.js';
import type { BlobMesh } from '../core/blobMesh.js';
export { ConnectionState, type ConnectionInfo, type Presence } from './connection.js';
import type { BrowserPeer } from '../mesh/browserPeer.js';
import { inviteLink as buildInviteLink, type InviteToken } from '../mesh/invite.js';
import { archiveOnRelay, isArchivedOnRelay } from '../mesh/relayApi.js';
import type { MeshModels } from './MeshModels.js';
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import { HuddleState } from './HuddleState.svelte.js';
import type { ModelsState } from './ModelsState.svelte.js';
import { DeniedReason } from '../mesh/constants.js';
import { MembershipDeniedError } from '../mesh/errors.js';
import { WorkspaceSyncState, type WorkspaceStatus } from '../mesh/workspaceStatus.js';
import { connectionInfo, presentPeople, type ConnectionInfo, type Presence } from './connection.js';
import type { WorkspaceRow } from '../store/db.js';
import type { WorkspaceSyncDocs } from '../store/WorkspaceSyncDocs.js';
import type { CoreWorkspace } from '../core/OutpostCore.js';
import type { TeamAuthority } from '../core/TeamAuthority.js';
import { admitProof } from '../doc/team/sign.js';
import { teamRosterId } from '../doc/team/teamId.js';

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

/** User Timing marks of the mesh's start (read by bench/connect.ts; the first is app.ts's `MARK_MESH_START`). */
export const MARK_MESH_NODE = 'outpost:mesh:node-started';
export const MARK_MESH_RELAY = 'outpost:mesh:relay-connected';
/** First time a workspace is live with a peer; `detail` is the workspace id. */
export const MARK_MESH_SYNCED = 'outpost:mesh:synced';

/** How long "is typing" lasts after the last keystroke. */
export const TYPING_MS = 4000;
/** Settings key of "Share this model with the workspace". */
const SHARE_SETTING = 'shareModel';

interface Synced {
	row: WorkspaceRow;
	/** The workspace in the core, opened for as long as it syncs. */
	workspace: CoreWorkspace<WorkspaceSyncDocs>;
	awareness: Awareness;
	/** Stops following its awareness. */
	unwatch: () => void;
}

/** See the module comment. */
export class MeshState {
	/** Whether the peer runs. */
	started = $state(false);
	/** Why the peer could not start, if it failed. */
	error = $state('');
	/** Sync state by workspace id. */
	statuses = $state.raw<Record<string, WorkspaceStatus>>({});
	/** Open connections to the relays this device keeps (the "Connection" element's "connected"). */
	relayLinks = $state(0);
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
	private blobMesh: BlobMesh | undefined;
	/** Huddles (audio calls in channels); they can start once the mesh runs. */
	readonly huddles: HuddleState;

	/** `models`: the app's model choices, to share this browser's model and offer the mesh's. */
	constructor(
		private readonly services: Services,
		private readonly models?: ModelsState
	) {
		if (models) void this.keepShareSetting(models);
		this.huddles = new HuddleState({ me: services.identity.peerId, awareness: (id) => this.awareness(id), team: (id) => this.team(id) });
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
		const synced = new Set<string>();
		const started = await startMesh(
			this.services,
			{
				relays: [...relays, ...[...this.synced.values()].flatMap((s) => s.row.relays ?? [])],
				...(this.models ? { models: this.models } : {}),
				onDialError: (error, target) => console.info('mesh: dial failed', target, error.message),
				onPeer: (peer, served) => {
					this.peer = peer;
					this.appUrls = served.urls;
					this.servedByRelay = served.addresses.length > 0;
					this.relayPeerId = served.peerId;
					performance.mark(MARK_MESH_NODE);
					this.follow(peer, synced);
				}
			},
			() => this.stopped
		);
		if (started === undefined) return;
		this.meshModels = started.models;
		this.blobMesh = started.blobs;
		if (started.huddle) await this.huddles.attach(started.huddle);
		this.started = true;
		this.onPeerCount();
	}

	/** Follows the peer's events: peer count, sync states, refusals. */
	private follow(peer: BrowserPeer, synced: Set<string>): void {
		peer.mesh.on('peer-count', () => this.onPeerCount());
		this.onPeerCount();
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
			if (workspaceId !== undefined && problem !== undefined && this.synced.get(workspaceId)?.workspace.authority.joined === false) {
				this.inviteProblem = { ...this.inviteProblem, [workspaceId]: problem };
			}
		});
	}

	/** Syncs a workspace (needs its secret); idempotent. */
	async addWorkspace(row: WorkspaceRow, displayName: string): Promise<void> {
		if (row.secret === undefined || this.synced.has(row.id) || this.stopped || this.adding.has(row.id)) return;
		this.adding.add(row.id);
		try {
			await this.addWorkspaceNow(row, row.secret, displayName);
		} finally {
			this.adding.delete(row.id);
		}
	}

	private async addWorkspaceNow(row: WorkspaceRow, secret: Uint8Array, displayName: string): Promise<void> {
		const { identity, core } = this.services;
		const workspace = await core.open({ id: row.id, rosterId: row.rosterId || teamRosterId(row.id) });
		const { authority, awareness } = workspace;
		if (awareness === undefined) throw new Error('the core has no awareness');
		if (row.invitation && !authority.joined && !authority.hasAdmission(row.invitation.id)) {
			// A joiner's admission names the invitation operation, which arrives with the team.
			const { id, opId, seed } = row.invitation;
			await authority.writeAfter([opId], { t: 'admit', invite: id, proof: admitProof(seed, row.id, id, identity.peerId), name: displayName });
		}
		awareness.setLocalState({ peer: identity.peerId, name: displayName } satisfies LocalPresence);
		const onChange = () => this.refreshPresence(row.id);
		awareness.on('change', onChange);
		this.synced.set(row.id, { row, workspace, awareness, unwatch: () => awareness.off('change', onChange) });
		this.peer?.addRelays(row.relays ?? []);
		await core.sync(row.id, secret);
		if (this.peer) this.meshModels?.addWorkspace(row.id);
		this.blobMesh?.follow(row.id);
	}

	/** The workspace's sync documents (for waiting on a joined workspace's root). */
	syncDocs(workspaceId: string): WorkspaceSyncDocs | undefined {
		return this.synced.get(workspaceId)?.workspace.docs;
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
		const relays = { reachable: this.relayLinks > 0, isRelay: (peerId: string) => this.isRelay(peerId) };
		return connectionInfo(this.started, this.error !== '', this.statuses[workspaceId], relays);
	}

	/** Whether `peerId` is a relay this device keeps connected (to name it "the relay"). */
	isRelay(peerId: string): boolean {
		return this.peer?.isRelay(peerId) ?? false;
	}

	/**
	 * The invite link of a workspace for an invitation of its team (empty without a secret):
	 * on the relay's LAN URL when this page is on the relay's own machine, naming every relay
	 * this device knows for it. Without `invitation` the link admits nobody: it only tells a
	 * relay which workspace to archive ("Add this workspace to the relay"). `channel`, the
	 * channel it is made from, is where the new member lands.
	 */
	inviteLink(row: WorkspaceRow, name: string, invitation?: InviteToken, channel?: string): string {
		if (row.secret === undefined) return '';
		const local = /^(localhost|127\.|\[::1\])/.test(location.hostname);
		const origin = (local ? this.appUrls[0] : undefined) ?? location.origin;
		const relays = [...new Set([...this.relayAddresses(), ...(row.relays ?? [])])];
		return buildInviteLink(origin, { workspaceId: row.id, secret: row.secret, name, relays, ...(invitation ? { invitation } : {}), ...(channel !== undefined ? { channel } : {}) });
	}

	/** The team of a workspace this device syncs, else undefined. */
	team(workspaceId: string): TeamAuthority | undefined {
		return this.synced.get(workspaceId)?.workspace.authority;
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
		const { row } = synced;
		const { authority } = synced.workspace;
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

	/**
	 * The tools the relays share with this device's member in `workspaceId` (their MCP
	 * servers'): those the workspace's relays advertise on the mesh (MeshModels.sharedTools), and
	 * those of the relay that served the app (over HTTPS); a name offered twice (by two relays, or
	 * by one relay both ways) is offered once, the first.
	 */
	async sharedTools(workspaceId: string): Promise<RunnableTool[]> {
		const { identity } = this.services;
		const served = async () => {
			if (!this.servedByRelay) return [];
			const { servingRelayTools } = await import('../mesh/relayTools.js');
			return servingRelayTools({ peerId: identity.peerId, privateKey: identity.privateKey }, workspaceId);
		};
		const lists = await Promise.all([this.meshModels?.sharedTools(workspaceId).catch(() => []) ?? [], served().catch(() => [])]);
		const seen = new Set<string>();
		return lists.flat().filter((tool) => !seen.has(tool.spec.name) && seen.add(tool.spec.name));
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

	/** Stops syncing a workspace (its presence is withdrawn) and lets the core close it when nothing else uses it. */
	async removeWorkspace(workspaceId: string): Promise<void> {
		const synced = this.synced.get(workspaceId);
		if (!synced) return;
		if (this.huddles.joined?.workspaceId === workspaceId) this.huddles.leave();
		this.synced.delete(workspaceId);
		clearTimeout(this.typingTimers.get(workspaceId));
		await this.meshModels?.removeWorkspace(workspaceId);
		this.blobMesh?.unfollow(workspaceId);
		synced.unwatch();
		const { core } = this.services;
		await core.unsync(workspaceId);
		await core.release(workspaceId);
		const { [workspaceId]: _status, ...statuses } = this.statuses;
		this.statuses = statuses;
		// A later join of the same workspace (a new link after a refused one) starts with no verdict.
		const { [workspaceId]: _problem, ...problems } = this.inviteProblem;
		this.inviteProblem = problems;
		const { [workspaceId]: _mismatch, ...mismatches } = this.secretMismatch;
		this.secretMismatch = mismatches;
		const { [workspaceId]: _presence, ...presence } = this.presence;
		this.presence = presence;
	}

	/** Stops the peer and lets go of every workspace it synced. */
	async stop(): Promise<void> {
		this.stopped = true;
		this.huddles.leave();
		for (const timer of this.typingTimers.values()) clearTimeout(timer);
		await this.meshModels?.stop();
		this.services.blobs.attach(undefined);
		await this.blobMesh?.stop().catch(() => undefined);
		await this.peer?.stop();
		const { core } = this.services;
		for (const [id, { unwatch }] of this.synced) {
			unwatch();
			await core.unsync(id);
			await core.release(id);
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
		const { authority } = synced.workspace;
		const people = presentPeople(synced.awareness.getStates(), synced.awareness.clientID, this.services.identity.peerId, (peerId) => authority.deviceOf(peerId));
		this.presence = { ...this.presence, [workspaceId]: people };
	}

	/**
	 * Connections came or went: counts the open relay links, and marks (once) the moment the
	 * first relay is connected, for bench/connect.ts.
	 */
	private onPeerCount(): void {
		if (!this.peer) return;
		this.relayLinks = this.peer.links().relays;
		if (this.relayLinks === 0 || performance.getEntriesByName(MARK_MESH_RELAY).length > 0) return;
		performance.mark(MARK_MESH_RELAY);
	}
}
