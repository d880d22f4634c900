/**
 * The workspace core, in the spirit of automerge-repo's `Repo`: one per device (a browser
 * profile, the relay), built by the composition root (app.ts, relay/run.ts), wrapped by the
 * state classes for the UI. Per open workspace it owns
 *
 * - the documents, over the platform's storage (the browser's store, the relay's archive:
 *   both under the persistence policy of persistence.ts) and under the write policy
 *   (doc/team/writePolicy.ts) that every store applies to remote updates;
 * - the workspace's authority state: a {@link TeamAuthority} over the roster document, kept
 *   loaded while the workspace is open;
 * - awareness (presence), when the device shows any;
 * - once a sync service is attached and the workspace is synced: its place on the mesh, with a
 *   gossip keyring that the key keeper keeps in step with the team (meshWorkspace.ts).
 *
 * Open workspaces are counted: the UI and the mesh each open the one they use and release it;
 * the last release closes it. Every rule lives below this class once, so the browser, the
 * relay and the in-process test peers cannot disagree.
 */
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { MeshAuthority } from '../mesh/authority.js';
import type { GossipKeyring } from '../mesh/keyring.js';
import type { MeshService, MeshWorkspace } from '../mesh/MeshService.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import { teamRosterId } from '../doc/team/teamId.js';
import type { DocsTeam } from '../doc/team/writePolicy.js';
import type { SyncedWorkspace } from './meshWorkspace.js';
import type { SealedMirrorStore } from './sealedSync.js';
import { TeamAuthority, type TeamDevice } from './TeamAuthority.js';

/** A workspace's documents as the core needs them from the platform. */
export interface CoreDocs extends SyncDocs {
	/** Loads document `docId` (creating it when missing) and keeps it loaded until {@link close}. */
	hold(docId: string): Promise<Y.Doc>;
	/** Stores what is pending and lets every document go. */
	close(): void | Promise<void>;
	/**
	 * Tells the documents what the write policy and listing need of the team, asked again on
	 * every use: the private spaces this device is in (documents of the workspace its root does
	 * not list; channels under the write policy) and which devices may write notes.
	 */
	useTeam?(team: DocsTeam): void;
}

/** Which workspace to open. */
export interface CoreWorkspaceRef {
	id: string;
	/** Its roster document; by default the one its id derives (teamId.ts). */
	rosterId?: string;
}

/** Options of {@link OutpostCore}. */
export interface OutpostCoreInit<D extends CoreDocs = CoreDocs> {
	/** This replica's device: it signs team operations and opens key boxes. */
	device: TeamDevice;
	/** Opens the documents of a workspace on this platform. */
	openDocs(workspace: { id: string; rosterId: string }): Promise<D>;
	/** Whether workspaces have awareness (a browser shows presence; the relay does not). */
	awareness?: boolean;
	/** Told about failures of a workspace's key keeper (boxes that do not open, writes that fail). */
	onError?: (error: Error, workspaceId: string) => void;
	/** The key keeper's longest wait before sharing a key (tests shorten it). */
	shareJitterMs?: number;
	/** Where a workspace keeps sealed updates of private spaces this replica is not in (a relay). */
	sealedLogs?: (workspaceId: string) => MeshWorkspace['sealed'];
	/** Where a member device keeps its mirrors of relays' sealed logs of a workspace across restarts (core/sealedSync.ts). */
	sealedMirrors?: (workspaceId: string) => SealedMirrorStore;
}

/** What the core uses of the sync service it is attached to. */
export type CoreMesh = Pick<MeshService, 'addWorkspace' | 'removeWorkspace' | 'putSealed' | 'wantSealed' | 'livePeers' | 'on'>;

/** How an attached mesh sees this device in a workspace. */
export interface AttachOptions {
	/**
	 * The team as this node presents it, when the node's key is not the device key (a second
	 * browser tab: a delegation the device key signs, tabAuthority.ts). Default: the team.
	 */
	presentAs?: (workspace: CoreWorkspace<CoreDocs>) => Promise<MeshAuthority>;
}

/** One open workspace of the core. */
export interface CoreWorkspace<D extends CoreDocs = CoreDocs> {
	readonly id: string;
	readonly rosterId: string;
	readonly docs: D;
	readonly authority: TeamAuthority;
	/** Presence, when the core has awareness. */
	readonly awareness: Awareness | undefined;
	/** The gossip keyring, while the workspace is on a mesh. */
	readonly keyring: GossipKeyring | undefined;
	/** The secret it syncs with, once {@link OutpostCore.sync} was called. */
	readonly secret: Uint8Array | undefined;
}

interface Entry<D extends CoreDocs> {
	workspace: CoreWorkspace<D> & { keyring: GossipKeyring | undefined; secret: Uint8Array | undefined };
	refs: number;
	/** Its place on the mesh, while it has one. */
	synced?: SyncedWorkspace;
	/** The mesh work in progress (adding, removing), one step at a time. */
	meshStep: Promise<void>;
}

/** See the module comment. */
export class OutpostCore<D extends CoreDocs = CoreDocs> {
	private readonly entries = new Map<string, Entry<D>>();
	private readonly opening = new Map<string, Promise<Entry<D>>>();
	private mesh: CoreMesh | undefined;
	private attachOptions: AttachOptions = {};

	constructor(private readonly init: OutpostCoreInit<D>) {}

	/** This replica's device. */
	get device(): TeamDevice {
		return this.init.device;
	}

	/** Opens a workspace (or counts one more use of it); pair with {@link release}. */
	async open(ref: CoreWorkspaceRef): Promise<CoreWorkspace<D>> {
		const open = this.entries.get(ref.id);
		if (open !== undefined) {
			open.refs++;
			return open.workspace;
		}
		const opening = this.opening.get(ref.id);
		if (opening !== undefined) {
			const entry = await opening;
			entry.refs++;
			return entry.workspace;
		}
		const loading = this.load(ref)
			.then((entry) => {
				this.entries.set(ref.id, entry);
				return entry;
			})
			.finally(() => this.opening.delete(ref.id));
		this.opening.set(ref.id, loading);
		return (await loading).workspace;
	}

	private async load(ref: CoreWorkspaceRef): Promise<Entry<D>> {
		const rosterId = ref.rosterId || teamRosterId(ref.id);
		const docs = await this.init.openDocs({ id: ref.id, rosterId });
		try {
			const authority = new TeamAuthority({ workspaceId: ref.id, doc: await docs.hold(rosterId), device: this.init.device });
			await authority.ready;
			docs.useTeam?.({ spaces: () => authority.mySpaces(), isWriter: (device) => authority.wroteNotes(device), carries: (peerId) => authority.carries(peerId), settled: () => authority.settled() });
			await docs.hold(ref.id); // the root: asked whether it lists a document on every update sent
			const awareness = this.init.awareness ? new Awareness(new Y.Doc()) : undefined;
			const workspace = { id: ref.id, rosterId, docs, authority, awareness, keyring: undefined, secret: undefined };
			return { workspace, refs: 1, meshStep: Promise.resolve() };
		} catch (error) {
			await docs.close();
			throw error;
		}
	}

	/** An open workspace, else undefined. */
	get(id: string): CoreWorkspace<D> | undefined {
		return this.entries.get(id)?.workspace;
	}

	/** Ids of the open workspaces. */
	ids(): string[] {
		return [...this.entries.keys()];
	}

	/**
	 * Syncs an open workspace with `secret` (its gossip topic) on the attached mesh, now or once
	 * one is attached; with a different secret than before, it leaves the mesh and comes back
	 * under the new one. Resolves once it is on the mesh (at once without one).
	 */
	sync(id: string, secret: Uint8Array): Promise<void> {
		const entry = this.entries.get(id);
		if (entry === undefined) return Promise.reject(new Error(`workspace ${id} is not open`));
		const previous = entry.workspace.secret;
		if (previous !== undefined && sameSecret(previous, secret)) return entry.meshStep;
		entry.workspace.secret = secret;
		return this.step(entry, async () => {
			if (entry.synced !== undefined) await this.leaveMesh(entry);
			await this.joinMesh(entry);
		});
	}

	/** Takes an open workspace off the mesh (it stays open for its other uses). */
	unsync(id: string): Promise<void> {
		const entry = this.entries.get(id);
		if (entry === undefined) return Promise.resolve();
		entry.workspace.secret = undefined;
		return this.step(entry, () => this.leaveMesh(entry));
	}

	/**
	 * Attaches the sync service: every workspace synced so far goes on it, and later ones as
	 * {@link sync} is called. Once per core.
	 */
	async attach(mesh: CoreMesh, options: AttachOptions = {}): Promise<void> {
		if (this.mesh !== undefined) throw new Error('a sync service is attached already');
		this.mesh = mesh;
		this.attachOptions = options;
		await Promise.all([...this.entries.values()].map((entry) => this.step(entry, () => this.joinMesh(entry))));
	}

	/** Counts one use less; the last one takes the workspace off the mesh and closes it. */
	async release(id: string): Promise<void> {
		const entry = this.entries.get(id);
		if (entry === undefined || --entry.refs > 0) return;
		this.entries.delete(id);
		await this.step(entry, () => this.leaveMesh(entry));
		const { authority, awareness, docs } = entry.workspace;
		authority.destroy();
		awareness?.destroy();
		await docs.close();
	}

	/** Takes every workspace off the mesh and closes it, however many uses it has. */
	async stop(): Promise<void> {
		await Promise.allSettled([...this.opening.values()]);
		for (const [id, entry] of [...this.entries]) {
			entry.refs = 1;
			await this.release(id);
		}
	}

	/** Runs mesh work of one workspace after the work before it. */
	private step(entry: Entry<D>, work: () => Promise<void>): Promise<void> {
		const next = entry.meshStep.then(work);
		entry.meshStep = next.catch(() => undefined);
		return next;
	}

	private async joinMesh(entry: Entry<D>): Promise<void> {
		const { mesh } = this;
		const { workspace } = entry;
		if (mesh === undefined || workspace.secret === undefined || entry.synced !== undefined) return;
		const presentAs = this.attachOptions.presentAs;
		// The mesh's keyring and sync code load with the mesh, not with the first paint.
		const { syncWorkspace } = await import('./meshWorkspace.js');
		if (entry.synced !== undefined || workspace.secret === undefined) return;
		entry.synced = await syncWorkspace(mesh, {
			id: workspace.id,
			secret: workspace.secret,
			docs: workspace.docs,
			authority: workspace.authority,
			device: this.init.device,
			...(presentAs !== undefined ? { meshAuthority: await presentAs(workspace) } : {}),
			...(workspace.awareness !== undefined ? { awareness: workspace.awareness } : {}),
			onError: (error) => this.init.onError?.(error, workspace.id),
			...(this.init.sealedLogs !== undefined ? { sealed: this.init.sealedLogs(workspace.id) } : {}),
			...(this.init.sealedMirrors !== undefined ? { sealedMirrors: this.init.sealedMirrors(workspace.id) } : {}),
			...(this.init.shareJitterMs !== undefined ? { shareJitterMs: this.init.shareJitterMs } : {})
		});
		workspace.keyring = entry.synced.keyring;
	}

	private async leaveMesh(entry: Entry<D>): Promise<void> {
		const { synced } = entry;
		if (synced === undefined) return;
		entry.synced = undefined;
		entry.workspace.keyring = undefined;
		await this.mesh?.removeWorkspace(entry.workspace.id);
		synced.stopKeys();
	}
}

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let difference = 0;
	for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
	return difference === 0;
}
