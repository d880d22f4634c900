/**
 * The set-up the blob sweep and budget tests share: a browser's blob mesh on a team peer, as
 * app.ts wires it (core/blobMesh.ts, core/deviceBlobs.ts), and a member's signed posts, deletions
 * and hides with image files. Team peers come from teamPeers.ts, the other peers' blobs from
 * blobPeers.ts.
 */
import { BlobMesh, type BlobMeshInit } from '../../src/lib/core/blobMesh.js';
import { DeviceBlobs } from '../../src/lib/core/deviceBlobs.js';
import { MemoryBlobStore, storeBlob, type BlobStore } from '../../src/lib/blob/BlobStore.js';
import { manifestOf } from '../../src/lib/blob/blobManifest.js';
import type { BlobLedger, BlobOrigin } from '../../src/lib/blob/blobBudget.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { DEFAULT_FILE_POLICY, filePolicy } from '../../src/lib/doc/team/filePolicy.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef, MessageRecord } from '../../src/lib/doc/schema.js';
import { signDeletionMark, signMessage, signModerationMark } from '../../src/lib/doc/signature.js';
import { autoFetches, limitsOf } from '../../src/lib/state/ChannelBlobs.svelte.js';
import { at } from '../unit/doc/helpers.js';
import { stopBlobPeers, withBlobs, type BlobPeer } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree, type TeamPeer, type TeamWorkspace } from './teamPeers.js';

const started: BlobMesh[] = [];

/** Stops every browser mesh {@link startBrowserMesh} started, then the blob, team and plain peers (an `afterEach`). */
export async function stopSweepPeers(): Promise<void> {
	for (const mesh of started.splice(0)) await mesh.stop().catch(() => undefined);
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
}

/** Timestamps for signed records, one a call, each later than the last, from `start` ms on. */
export function stamps(start: number): (peer: Pick<TeamPeer, 'peerId'>) => string {
	let clock = start;
	return (peer) => at(++clock, peer.peerId);
}

/** A timestamp source, as {@link stamps} returns. */
export type Stamp = ReturnType<typeof stamps>;

/** A browser's blobs in memory within a budget of 100 MB, with a 1 GB quota that has room. */
export function memoryDevice(): DeviceBlobs {
	return new DeviceBlobs(() => new MemoryBlobStore(), { limit: () => 100_000_000, estimate: async () => ({ usage: 0, quota: 1_000_000_000 }) });
}

/** Where a browser's blob mesh keeps, admits and sweeps its blobs: `device`, as app.ts passes it. */
export function onDevice(device: DeviceBlobs): Pick<BlobMeshInit, 'storeFor' | 'room' | 'sweep'> {
	return {
		storeFor: (id) => device.store(id),
		room: (id, blobId, bytes, docId) => device.room(id, blobId, bytes, docId),
		sweep: (id) => device.store(id)
	};
}

/** The browser's pin rule on `peer`: what the team's file policy fetches on its own. */
export function policyPins(peer: TeamPeer): NonNullable<BlobMeshInit['pins']> {
	return (id, ref) => {
		const team = id === peer.authority.workspaceId ? peer.authority.team : undefined;
		return autoFetches(ref, limitsOf(team === undefined ? DEFAULT_FILE_POLICY : filePolicy(team)));
	};
}

/**
 * Starts a browser's blob mesh on `peer` for its workspace with `init` (stopped by
 * {@link stopSweepPeers}); `beforeFollow` runs once it started, before it follows the workspace.
 */
export async function startBrowserMesh(peer: TeamPeer, init: Omit<BlobMeshInit, 'node' | 'workspace' | 'livePeers'>, beforeFollow?: (mesh: BlobMesh) => void): Promise<BlobMesh> {
	const ws = peer.authority.workspaceId;
	const mesh = new BlobMesh({
		node: peer.node,
		workspace: (id) => (id === ws ? { docs: peer.docs, authority: peer.authority } : undefined),
		livePeers: (id) => peer.mesh.livePeers(id),
		...init
	});
	await mesh.start();
	started.push(mesh);
	beforeFollow?.(mesh);
	mesh.follow(ws);
	return mesh;
}

/**
 * A browser's blob mesh on `peer` over `device`: it pins what fetches on its own (no team
 * policy) and sweeps, its first pass over every blob far off; `room` in place of the device's.
 */
export async function browserMesh(peer: TeamPeer, device = memoryDevice(), room?: BlobMeshInit['room']): Promise<{ mesh: BlobMesh; device: DeviceBlobs }> {
	const init = { ...onDevice(device), pins: (_id: string, ref: AttachmentRef) => autoFetches(ref), sweepDelayMs: 50, sweepStartMs: 600_000, retryMs: 100 };
	const mesh = await startBrowserMesh(peer, room === undefined ? init : { ...init, room });
	return { mesh, device };
}

/** A new channel of `owner`'s, with a first post `text` that has reached each of `readers`; its id. */
export async function openChannel(owner: TeamPeer, workspaceId: string, readers: TeamPeer[], text = 'open'): Promise<string> {
	const channel = listedDoc(owner, workspaceId);
	post(owner, channel, text);
	await waitFor(() => readers.every((reader) => has(reader, channel, text)), 'the channel reaches its readers');
	return channel;
}

/** A team of three whose owner, running the blob mesh, has opened a channel that reached bob. */
export async function ownerChannelToBob(): Promise<{ ws: TeamWorkspace; owner: TeamPeer; bob: TeamPeer; channel: string; ownerBlobs: BlobPeer }> {
	const { ws, owner, bob } = await teamOfThree();
	const channel = await openChannel(owner, ws.id, [bob]);
	return { ws, owner, bob, channel, ownerBlobs: await withBlobs(owner) };
}

/** A reference to an image of blob `blob`. */
export function imageRef(blob: string, size: number, name: string): AttachmentRef {
	return { blob, size, mime: 'image/png', name };
}

/** A message of `peer` in `docId` with `text` (and `files`), signed as the app signs it. */
export function signedPost(peer: TeamPeer, docId: string, text: string, stamp: Stamp, files?: AttachmentRef[]): Promise<MessageRecord> {
	return signMessage(peer.key, { id: newId(), author: peer.peerId, hlc: stamp(peer), text, ...(files ? { files } : {}) }, docId);
}

/** A signed message of `peer` in `docId` with image `bytes`, stored in `store`, named `name`. */
export async function imagePost(peer: TeamPeer, store: BlobStore, docId: string, bytes: Uint8Array, name: string, stamp: Stamp): Promise<MessageRecord> {
	const { id } = await storeBlob(store, bytes);
	return signedPost(peer, docId, name, stamp, [imageRef(id, bytes.byteLength, name)]);
}

/** Posts `message` in `peer`'s copy of `docId`. */
export function postMessage(peer: Pick<TeamPeer, 'docs'>, docId: string, message: MessageRecord): void {
	new ChannelDoc(peer.docs.get(docId)).post(message);
}

/** `peer`'s signed mark deleting (or, `deleted` false, restoring) message `msg`. */
export function deletionMark(peer: TeamPeer, msg: string, stamp: Stamp, deleted = true) {
	return signDeletionMark(peer.key, { msg, by: peer.peerId, hlc: stamp(peer), deleted });
}

/** `peer` deletes message `msg` in `docId` (a signed mark, as the app deletes). */
export async function deleteMessage(peer: TeamPeer, docId: string, msg: string, stamp: Stamp): Promise<void> {
	new ChannelDoc(peer.docs.get(docId)).markDeletion(await deletionMark(peer, msg, stamp));
}

/** Moderator `peer` hides (or, `hidden` false, shows again) message `msg` in `docId`. */
export async function moderateMessage(peer: TeamPeer, docId: string, msg: string, hidden: boolean, stamp: Stamp): Promise<void> {
	new ChannelDoc(peer.docs.get(docId)).markModeration(await signModerationMark(peer.key, { msg, by: peer.peerId, hlc: stamp(peer), hidden }));
}

/** Stores `bytes` in `store` as a fetch stores them: admitted (marked `origin`) first, then its manifest and chunks; the blob's id. */
export async function heldEarlier(store: BlobLedger, bytes: Uint8Array, origin: BlobOrigin = 'auto'): Promise<string> {
	const { id } = await manifestOf(bytes);
	await store.mark(id, bytes.byteLength, origin);
	await storeBlob(store, bytes);
	return id;
}

/** Whether `store` holds blob `blobId` whole. */
export async function whole(store: BlobStore, blobId: string): Promise<boolean> {
	return (await store.missing(blobId))?.length === 0;
}

/** Whether `store` holds nothing of blob `blobId` (not even its manifest). */
export async function gone(store: BlobStore, blobId: string): Promise<boolean> {
	return (await store.manifest(blobId)) === undefined;
}
