/**
 * The browser's composition root. {@link createServices} builds, once, the local database,
 * the document store (IndexedDB under the core's persistence policy), the device identity and
 * the workspace core ({@link OutpostCore}) over them. {@link startMesh} builds the transport
 * once the app has painted: the libp2p peer (its code loaded on demand), attached to the core,
 * and the models this browser shares. State classes only wrap these for the UI.
 *
 * The relay's root is relay/run.ts; it builds the same core over its archive on disk.
 */
import type { PrivateKey } from '@libp2p/interface';
import { DeviceBlobs } from './core/deviceBlobs.js';
import { OutpostCore } from './core/OutpostCore.js';
import { delegatedAuthority } from './core/tabAuthority.js';
import { HybridClock } from './doc/hlc.js';
import { DELEGATION_MS, signDelegation } from './doc/team/delegation.js';
import type { BrowserPeer } from './mesh/browserPeer.js';
import type { ServingRelay } from './mesh/relayInfo.js';
import type { BlobMesh } from './core/blobMesh.js';
import type { HuddleSignalling } from './huddle/HuddleSignalling.js';
import { autoFetches, limitsOf } from './state/ChannelBlobs.svelte.js';
import { DEFAULT_FILE_POLICY, filePolicy } from './doc/team/filePolicy.js';
import type { MeshModels } from './state/MeshModels.js';
import type { ModelsState } from './state/ModelsState.svelte.js';
import { OutpostDb } from './store/db.js';
import { DocStore } from './store/DocStore.js';
import { IdbBlobStore } from './store/IdbBlobStore.js';
import { loadOrCreateIdentity, type Identity } from './store/identity.js';
import { WorkspaceSyncDocs } from './store/WorkspaceSyncDocs.js';
import { settingsMirrors } from './store/sealedMirrors.js';

/** Everything the state layer needs from below. */
export interface Services {
	db: OutpostDb;
	docs: DocStore;
	identity: Identity;
	/** This device's hybrid logical clock (node = peer id). */
	clock: HybridClock;
	/** The workspace core: each open workspace's documents, team, awareness and place on the mesh. */
	core: OutpostCore<WorkspaceSyncDocs>;
	/** The device's blobs (attachments), per workspace; fetched over the mesh once it runs. */
	blobs: DeviceBlobs;
}

/** Opens the local database and loads (or creates) the device identity. */
export async function createServices(dbName = 'outpost'): Promise<Services> {
	const db = new OutpostDb(dbName);
	await db.open();
	const identity = await loadOrCreateIdentity(db);
	return assembleServices(db, new DocStore(), identity);
}

/** The services over an open database, a document store and an identity (tests build them so too). */
export function assembleServices(db: OutpostDb, docs: DocStore, identity: Identity): Services {
	const core = new OutpostCore({
		device: { peerId: identity.peerId, privateKey: identity.privateKey },
		openDocs: ({ id, rosterId }) => WorkspaceSyncDocs.open({ workspaceId: id, rosterId, docs, db }),
		awareness: true,
		onError: (error) => console.info('team keys:', error.name, error.message),
		sealedMirrors: (workspaceId) => settingsMirrors(db, workspaceId)
	});
	// Within a storage budget: a share of the browser's quota (blob/blobBudget.ts).
	const blobs = new DeviceBlobs((workspaceId) => new IdbBlobStore(db, workspaceId), {}, () => core.ids());
	return { db, docs, identity, clock: new HybridClock(identity.peerId), core, blobs };
}

/** User Timing mark of the mesh's start (read by bench/connect.ts). */
export const MARK_MESH_START = 'outpost:mesh:start';

/** What {@link startMesh} needs besides the services. */
export interface MeshInit {
	/** Relays to dial besides the one that served the app. */
	relays: string[];
	/** The app's model choices: this browser's model is shared and the mesh's are offered. */
	models?: ModelsState;
	/** Told about peers that could not be dialled. */
	onDialError?: (error: Error, target: string) => void;
	/** Called with the started peer before the core's workspaces go on it (to follow its events from the start). */
	onPeer?: (peer: BrowserPeer, served: ServingRelay) => void;
}

/** The running transport. */
export interface StartedMesh {
	peer: BrowserPeer;
	/** The relay that served the app (no addresses when none did). */
	served: ServingRelay;
	/** Models put on the mesh, when `models` was given and they could start. */
	models: MeshModels | undefined;
	/** Blobs served to and fetched from the mesh; follow each synced workspace with it (small images are pinned). */
	blobs: BlobMesh | undefined;
	/** Huddle signalling (`/outpost/huddle/1`) on the peer, under the team's rule; the calls are the state layer's. */
	huddle: HuddleSignalling | undefined;
}

const WEB_LOCK = 'outpost-device-key';

/**
 * Starts the libp2p peer with the relays it knows and attaches it to the core (workspaces
 * synced so far go on the mesh at once), then puts models on the mesh. `isStopped` is asked
 * after each wait: a peer started for an app that went away meanwhile is stopped again.
 */
export async function startMesh(services: Services, init: MeshInit, isStopped: () => boolean): Promise<StartedMesh | undefined> {
	performance.mark(MARK_MESH_START);
	// Code, key and the relay's addresses at once: each is a wait of its own.
	const [{ BrowserPeer }, { createMeshNode }, { MeshModels }, served, privateKey] = await Promise.all([
		import('./mesh/browserPeer.js'),
		import('./mesh/node.browser.js'),
		import('./state/MeshModels.js'),
		import('./mesh/relayInfo.js').then(({ fetchServingRelay }) => fetchServingRelay()),
		nodeKey(services.identity)
	]);
	if (isStopped()) return undefined;
	const peer = await BrowserPeer.start({
		privateKey,
		relays: [...served.addresses, ...init.relays],
		createNode: createMeshNode,
		...(init.onDialError !== undefined ? { onDialError: init.onDialError } : {})
	});
	if (isStopped()) {
		await peer.stop();
		return undefined;
	}
	init.onPeer?.(peer, served);
	const { identity, core } = services;
	// A tab whose node has a throwaway key shows peers the team through a delegation the device key signs.
	const tab = peer.peerId;
	const delegate =
		tab === identity.peerId
			? undefined
			: (ws: string) => signDelegation(identity.privateKey, { ws, device: identity.peerId, tab, expires: Date.now() + DELEGATION_MS });
	await core.attach(
		peer.mesh,
		delegate === undefined ? {} : { presentAs: async (workspace) => delegatedAuthority(workspace.authority, await delegate(workspace.id)) }
	);
	const blobs = await startBlobs(services, peer);
	const huddle = await startHuddle(services, peer);
	let models: MeshModels | undefined;
	if (init.models) {
		try {
			models = await MeshModels.start(
				peer,
				init.models,
				{ peerId: identity.peerId, key: identity.privateKey, clock: services.clock },
				(workspaceId) => core.get(workspaceId)?.authority,
				delegate
			);
			for (const id of core.ids()) if (core.get(id)?.secret !== undefined) models.addWorkspace(id);
		} catch (error) {
			console.error('mesh: could not serve models', error);
		}
	}
	return { peer, served, models, blobs, huddle };
}

/** Serves huddle signalling on the peer: only to member devices that may read the channel (huddle/huddleRule.ts). */
async function startHuddle(services: Services, peer: BrowserPeer): Promise<HuddleSignalling | undefined> {
	const [{ HuddleSignalling }, { huddleDevice, mayHuddle }] = await Promise.all([import('./huddle/HuddleSignalling.js'), import('./huddle/huddleRule.js')]);
	const { core } = services;
	const huddle = new HuddleSignalling({
		node: peer.node,
		mayJoin: (workspaceId, channelId, peerId) => mayHuddle(core.get(workspaceId), channelId, peerId),
		deviceOf: (workspaceId, peerId) => huddleDevice(core.get(workspaceId), peerId),
		unproven: peer.mesh.unproven, // one account with sync's, per connection and in total
		onError: (error) => console.info('huddle:', error.name, error.message)
	});
	try {
		await huddle.start();
	} catch (error) {
		console.error('mesh: could not serve huddles', error);
		return undefined;
	}
	return huddle;
}

/** Serves and fetches the device's blobs on the peer; small images of synced workspaces are fetched as they are referenced. */
async function startBlobs(services: Services, peer: BrowserPeer): Promise<BlobMesh | undefined> {
	const { BlobMesh } = await import('./core/blobMesh.js');
	const { core } = services;
	const livePeers = (id: string) => peer.mesh.livePeers(id);
	const blobs = new BlobMesh({
		node: peer.node,
		workspace: (id) => core.get(id),
		storeFor: (id) => services.blobs.store(id),
		livePeers,
		pins: (id, ref) => {
			const team = core.get(id)?.authority.team;
			return autoFetches(ref, limitsOf(team === undefined ? DEFAULT_FILE_POLICY : filePolicy(team)));
		},
		// The device's blob budget, on the verified size: a member posting many images cannot fill it.
		room: (id, blobId, bytes, docId, manifest) => services.blobs.room(id, blobId, bytes, docId, manifest),
		// Fetched files no post shows any more (deleted, hidden) are dropped from the device.
		sweep: (id) => services.blobs.store(id),
		unproven: peer.mesh.unproven,
		onError: (error) => console.info('blobs:', error.name, error.message)
	});
	try {
		await blobs.start();
	} catch (error) {
		console.error('mesh: could not serve blobs', error);
		return undefined;
	}
	services.blobs.attach({
		service: blobs.service,
		livePeers,
		pinOnRelays: (id, docId, blobIds) => blobs.pinOnRelays(id, docId, blobIds),
		unpinOnRelays: (id, docId, blobIds) => blobs.unpinOnRelays(id, docId, blobIds),
		senderOf: async (id, docId, blobId) => {
			const workspace = core.get(id);
			// A signed post's author only, and its member (not each of its devices) has a share.
			return workspace === undefined ? undefined : blobs.referencesOf(workspace.docs).sender(docId, blobId, (device) => workspace.authority.personOf(device));
		}
	});
	for (const id of core.ids()) if (core.get(id)?.secret !== undefined) blobs.follow(id);
	return blobs;
}

/**
 * The device key in the tab that holds the Web Lock; a throwaway key in any other tab, so two
 * tabs of one profile are two peers that sync with each other instead of two nodes fighting
 * over one peer id.
 */
async function nodeKey(identity: Identity): Promise<PrivateKey> {
	// libp2p's key code loads with the peer, not with the first paint.
	const { generateKeyPair, privateKeyFromRaw } = await import('@libp2p/crypto/keys');
	const deviceKey = () => privateKeyFromRaw(identity.privateKey.raw);
	const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
	if (locks === undefined) return deviceKey();
	const held = await new Promise<boolean>((resolve) => {
		void locks.request(WEB_LOCK, { ifAvailable: true }, (lock) => {
			resolve(lock !== null);
			// Held for the life of the tab.
			return lock === null ? undefined : new Promise<void>(() => {});
		});
	});
	return held ? deviceKey() : generateKeyPair('Ed25519');
}
