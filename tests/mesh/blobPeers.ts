/**
 * The blob mesh on team peers (tests/mesh/teamPeers.ts), as the browser and the relay start
 * it (core/blobMesh.ts), and a member's message with a file.
 */
import { BlobMesh, type BlobMeshInit } from '../../src/lib/core/blobMesh.js';
import { MemoryBlobStore, storeBlob } from '../../src/lib/blob/BlobStore.js';
import { BlobService } from '../../src/lib/blob/blobService.js';
import { newBlobKey, sealBlob } from '../../src/lib/blob/blobSeal.js';
import { ChannelDoc } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import type { AttachmentRef } from '../../src/lib/doc/schema.js';
import { at, msg } from '../unit/doc/helpers.js';
import type { TeamPeer } from './teamPeers.js';

/** A team peer's blobs. */
export interface BlobPeer {
	store: MemoryBlobStore;
	blobs: BlobMesh;
}

const meshes: Array<Pick<BlobMesh, 'stop'>> = [];

/**
 * Starts the blob mesh on `peer`; `pins`: every referenced blob is fetched at once (as the relay
 * does); `more`: further options (a sealed index, a lower bound on waiting pins, where errors go,
 * the idle time of a fetch, a quota).
 */
export async function withBlobs(peer: TeamPeer, pins = false, more: Pick<BlobMeshInit, 'sealedIndex' | 'maxPendingPins' | 'onError' | 'idleTimeoutMs' | 'room'> = {}): Promise<BlobPeer> {
	const store = new MemoryBlobStore();
	const ws = peer.authority.workspaceId;
	const blobs = new BlobMesh({
		node: peer.node,
		workspace: (id) => (id === ws ? { docs: peer.docs, authority: peer.authority } : undefined),
		storeFor: (id) => (id === ws ? store : undefined),
		livePeers: (id) => peer.mesh.livePeers(id),
		...(pins ? { pins: () => true } : {}),
		retryMs: 100,
		...more
	});
	await blobs.start();
	blobs.follow(ws);
	meshes.push(blobs);
	return { store, blobs };
}

/**
 * A modified client's blobs on `peer`: a bare blob service that serves whatever it holds to
 * anyone, with no rule of the team's (what a lying sender runs). Stopped by {@link stopBlobPeers}.
 */
export async function withRogueBlobs(peer: TeamPeer): Promise<{ store: MemoryBlobStore; service: BlobService }> {
	const store = new MemoryBlobStore();
	const service = new BlobService({ node: peer.node, storeFor: () => store, mayRead: () => true, onError: () => undefined });
	await service.start();
	meshes.push(service);
	return { store, service };
}

/** Stops every blob mesh {@link withBlobs} and {@link withRogueBlobs} started. */
export async function stopBlobPeers(): Promise<void> {
	for (const mesh of meshes.splice(0)) await mesh.stop().catch(() => undefined);
}

/** `size` random bytes. */
export function randomBytes(size: number): Uint8Array {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65_536)));
	return bytes;
}

let clock = 1000;

/** Stores `bytes` as a blob of `peer` and posts a message with it in channel `docId`; returns its reference. */
export async function postFile(peer: TeamPeer, blobs: Pick<BlobPeer, 'store'>, docId: string, bytes: Uint8Array, name: string, sealed = false): Promise<AttachmentRef> {
	// A private space's file, as the app attaches it: sealed with a fresh key its reference carries.
	const key = sealed ? newBlobKey() : undefined;
	const { id } = await storeBlob(blobs.store, key === undefined ? bytes : await sealBlob(bytes, key));
	const ref: AttachmentRef = { blob: id, size: bytes.byteLength, mime: 'application/octet-stream', name, ...(key === undefined ? {} : { key }) };
	new ChannelDoc(peer.docs.get(docId)).post({ ...msg(newId(), peer.peerId, at(++clock, peer.peerId), ''), files: [ref] });
	return ref;
}
