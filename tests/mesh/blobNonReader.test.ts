/**
 * A device that may not hold a private space's document learns nothing of that space's blobs
 * from a GET naming it: the server answers before it reads anything for it, neither whether the
 * document references the blob nor whether the blob is held here (found in review: both were
 * read first, and the time of the refusal told whether the space named a blob the asker could
 * guess). Real team peers; the server's rule asked directly.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, expect, it } from 'vitest';
import type { BlobManifest } from '../../src/lib/blob/blobManifest.js';
import { BlobMesh } from '../../src/lib/core/blobMesh.js';
import type { SyncDocs } from '../../src/lib/mesh/syncDocs.js';
import { newSpaceId } from '../../src/lib/doc/team/teamId.js';
import { postFile, randomBytes, stopBlobPeers, withBlobs } from './blobPeers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, post, stopTeamPeers, teamOfThree } from './teamPeers.js';

afterEach(async () => {
	await stopBlobPeers();
	await stopTeamPeers();
	await stopPeers();
});

it('reads neither the references nor the store for a device outside the private space a GET names', async () => {
	const { ws, owner, mallory, bob } = await teamOfThree();
	const ownerBlobs = await withBlobs(owner);
	const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
	await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId] });
	const ref = await postFile(owner, ownerBlobs, space, randomBytes(100_000), 'plan.bin', true);
	post(owner, space, 'sent');
	await waitFor(() => has(bob, space, 'sent'), 'bob gets the space');

	// The owner's rule, over its documents, counting what it reads of the space.
	const read: string[] = [];
	const docs: SyncDocs = new Proxy(owner.docs, {
		get(target, name, receiver) {
			if (name === 'diff') return (docId: string, sv: Uint8Array) => (read.push(docId), target.diff(docId, sv));
			const value: unknown = Reflect.get(target, name, receiver);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		}
	});
	const rule = new BlobMesh({
		node: owner.node,
		workspace: (id) => (id === ws.id ? { docs, authority: owner.authority } : undefined),
		storeFor: () => ownerBlobs.store,
		livePeers: () => []
	});
	const held = (log: string[]) => () => (log.push('manifest'), ownerBlobs.store.manifest(ref.blob)) as Promise<BlobManifest | undefined>;

	const looked: string[] = [];
	expect(await rule.mayRead(ws.id, mallory.peerId, ref.blob, space, held(looked))).toBe(false);
	expect(await rule.mayRead(ws.id, mallory.peerId, 'ab'.repeat(32), space, held(looked))).toBe(false);
	expect(read, 'the space’s document read for a device outside it').toEqual([]);
	expect(looked, 'the store read for a device outside the space').toEqual([]);
	// Bob, in the space, is served: the same rule reads both.
	expect(await rule.mayRead(ws.id, bob.peerId, ref.blob, space, held(looked))).toBe(true);
	expect(read).toContain(space);
	expect(looked).toEqual(['manifest']);
}, 60_000);
