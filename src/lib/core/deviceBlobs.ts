/**
 * A device's blobs, per workspace: its blob store (IndexedDB in the browser), and once the
 * mesh runs, the blob service that fetches from the workspace's live peers. What the state
 * layer uses of it is {@link BlobAccess} (state/ChannelBlobs.svelte.ts). Every fetch, the
 * view's and the pins' ({@link DeviceBlobs.room}), goes through the device's storage budget
 * (blob/blobBudget.ts): automatic ones within it, those the user asked for within the device's
 * storage; files it sends are marked as its own and never dropped.
 */
import { admitReferenced } from '../blob/blobAdmission.js';
import { BlobBudget, type BlobBudgetInit, type BlobLedger, type BlobOrigin } from '../blob/blobBudget.js';
import { chunkLength, chunkOf, manifestOf, type BlobManifest } from '../blob/blobManifest.js';
import type { BlobStore } from '../blob/BlobStore.js';
import { readBlob } from '../blob/BlobStore.js';
import type { Admission, BlobService } from '../blob/blobService.js';
import type { BlobAccess } from '../state/ChannelBlobs.svelte.js';

/** The mesh side: fetching, and whom to ask. */
export interface BlobNetwork {
	service: Pick<BlobService, 'fetch'>;
	/** Peers with a live session in the workspace (they may hold the blob). */
	livePeers(workspaceId: string): string[];
	/** Asks the relays outside private space `docId` to keep its sealed blobs (BlobMesh.pinOnRelays). */
	pinOnRelays?(workspaceId: string, docId: string, blobIds: readonly string[]): Promise<number>;
	/** Asks them to drop those no message shows any more (BlobMesh.unpinOnRelays). */
	unpinOnRelays?(workspaceId: string, docId: string, blobIds: readonly string[]): Promise<number>;
	/** Who posted the (first) message of document `docId` naming blob `blobId`: whose share of the budget an automatic fetch takes. */
	senderOf?(workspaceId: string, docId: string, blobId: string): Promise<string | undefined>;
}

/** The mesh is not running (or has no peer of the workspace): nothing can be fetched now. */
export class NoPeersError extends Error {
	override name = 'NoPeersError';
	constructor() {
		super('no peer of the workspace is connected');
	}
}

/** See the module comment. */
export class DeviceBlobs {
	private network: BlobNetwork | undefined;
	private readonly stores = new Map<string, BlobLedger>();
	/** The device's storage budget for blobs, over every workspace's store. */
	readonly budget: BlobBudget;

	constructor(
		private readonly openStore: (workspaceId: string) => BlobLedger,
		/** The budget's limits (default: a share of the browser's quota, blobBudget.ts). */
		budget: Omit<BlobBudgetInit, 'ledgers'> = {},
		/** Every workspace this device keeps blobs of: the budget counts them all, not only those used so far. */
		private readonly workspaceIds: () => Iterable<string> = () => []
	) {
		this.budget = new BlobBudget({
			...budget,
			ledgers: () => {
				for (const id of this.workspaceIds()) this.store(id);
				return this.stores.values();
			}
		});
	}

	/** The store of a workspace (one per workspace, made on first use). */
	store(workspaceId: string): BlobLedger {
		let store = this.stores.get(workspaceId);
		if (store === undefined) this.stores.set(workspaceId, (store = this.openStore(workspaceId)));
		return store;
	}

	/** Fetches go through `network` from now on (the mesh started); undefined detaches it. */
	attach(network: BlobNetwork | undefined): void {
		this.network = network;
	}

	/**
	 * Whether workspace `workspaceId` takes `bytes` of blob `blobId`, which document `docId`
	 * names, fetched automatically (a pin: BlobMeshInit.room): within the budget, making room
	 * by dropping older automatic fetches. `manifest`: the blob's, stored with its mark (so the
	 * browser's other tabs count it: blobBudget.ts).
	 */
	async room(workspaceId: string, blobId: string, bytes: number, docId: string, manifest?: BlobManifest): Promise<Admission> {
		const sender = await this.network?.senderOf?.(workspaceId, docId, blobId).catch(() => undefined);
		return this.budget.admitAuto(this.store(workspaceId), blobId, bytes, sender, manifest);
	}

	/** What the state layer uses for workspace `workspaceId`. */
	access(workspaceId: string): BlobAccess {
		return {
			put: async (bytes, onProgress) => {
				const manifest = await putBlob(this.store(workspaceId), bytes, onProgress);
				await this.store(workspaceId).mark(manifest.id, manifest.size, 'sent');
				return manifest;
			},
			held: (blobId) => heldOf(this.store(workspaceId), blobId),
			read: (blobId) => readBlob(this.store(workspaceId), blobId),
			fetch: async (docId, ref, onProgress, signal, origin: BlobOrigin = 'opened') => {
				const network = this.network;
				const peers = network?.livePeers(workspaceId) ?? [];
				if (network === undefined || peers.length === 0) throw new NoPeersError();
				// Only the blob the reference says: its size is what the policy and the auto-fetch judged.
				const matches = admitReferenced(ref);
				const admit = async (manifest: BlobManifest): Promise<Admission> => {
					const verdict = matches(manifest);
					if (verdict !== true) return verdict;
					const store = this.store(workspaceId);
					if (origin !== 'auto') return this.budget.admitOpened(store, manifest.id, manifest.size, manifest);
					return this.room(workspaceId, manifest.id, manifest.size, docId, manifest);
				};
				await network.service.fetch(workspaceId, ref.blob, peers, { docId, onProgress, signal, admit });
			},
			keep: async (blobId) => {
				const store = this.store(workspaceId);
				const manifest = await store.manifest(blobId);
				if (manifest !== undefined) await store.mark(blobId, manifest.size, 'opened');
			},
			keepOnRelays: async (docId, blobIds) => (await this.network?.pinOnRelays?.(workspaceId, docId, blobIds)) ?? 0,
			dropOnRelays: async (docId, blobIds) => (await this.network?.unpinOnRelays?.(workspaceId, docId, blobIds)) ?? 0
		};
	}
}

/** Stores `bytes` chunk by chunk, telling progress; the same bytes are stored once. */
export async function putBlob(store: BlobStore, bytes: Uint8Array, onProgress?: (done: number, total: number) => void): Promise<BlobManifest> {
	const manifest = await manifestOf(bytes);
	await store.putManifest(manifest);
	const missing = new Set((await store.missing(manifest.id)) ?? []);
	for (let index = 0; index < manifest.hashes.length; index++) {
		if (missing.has(index)) await store.putChunk(manifest.id, index, chunkOf(bytes, index, manifest.chunkBytes));
		onProgress?.(Math.min(manifest.size, (index + 1) * manifest.chunkBytes), manifest.size);
	}
	return manifest;
}

/** Bytes of a blob held, and its size once its manifest is known. */
export async function heldOf(store: BlobStore, blobId: string): Promise<{ held: number; size: number | undefined }> {
	const manifest = await store.manifest(blobId);
	if (manifest === undefined) return { held: 0, size: undefined };
	const missing = (await store.missing(blobId)) ?? [];
	let held = manifest.size;
	for (const index of missing) held -= chunkLength(manifest, index);
	return { held, size: manifest.size };
}
