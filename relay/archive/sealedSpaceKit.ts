/**
 * Test set-up shared by the relay's sealed-pin tests (blobUnpins.test.ts, blobPinRace.test.ts):
 * a relay in its own temporary directory, archiving a team of the owner (an admin), bob and
 * mallory (members) with a private space of the three that the relay is not in, every device
 * in a session with it. Real relay, database and libp2p nodes.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { newSpaceId } from '../../src/lib/doc/team/teamId.ts';
import { connect, stopPeers } from '../../tests/mesh/peers.ts';
import { stopBlobPeers, withBlobs, type BlobPeer } from '../../tests/mesh/blobPeers.ts';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers, type TeamPeer } from '../../tests/mesh/teamPeers.ts';
import { runRelay, type RunningRelay } from '../run.ts';
import { archiveAs, dialRelay, waitUntil } from '../teamFixture.ts';
import { useRelayDb } from './relayDb.ts';

/** Registers the temporary directory and the clean-up after each test; returns the kit's steps. */
export function sealedSpaceKit(prefix: string) {
	let tmp = '';
	const cleanups: (() => Promise<void>)[] = [];

	beforeEach(async () => {
		tmp = await mkdtemp(join(tmpdir(), prefix));
		await mkdir(join(tmp, 'build'), { recursive: true });
		await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
	});

	afterEach(async () => {
		await stopBlobPeers();
		await stopTeamPeers();
		await stopPeers();
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
		await rm(tmp, { recursive: true, force: true });
	}, 15_000);

	async function startRelay(): Promise<RunningRelay> {
		const relay = await runRelay({ root: join(tmp, 'build'), dataDir: join(tmp, 'data'), host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => undefined, quotas: {} });
		cleanups.push(() => relay.close());
		return relay;
	}

	/** The relay's database, read beside the running relay (it is shared). */
	function relayDb() {
		const shared = useRelayDb(join(tmp, 'data'));
		cleanups.push(() => Promise.resolve(shared.release()));
		return shared.relayDb;
	}

	/** `peer` dials the relay and has a session with it in the workspace. */
	async function onRelay(peer: TeamPeer, relay: RunningRelay, workspaceId: string): Promise<void> {
		await dialRelay(peer, relay);
		const relayPeer = relay.node.peerId.toString();
		await waitUntil(
			() => relay.archive.mesh.livePeers(workspaceId).includes(peer.peerId) && peer.mesh.livePeers(workspaceId).includes(relayPeer) && peer.authority.roleOf(relayPeer) === 'relay',
			'a session with the relay'
		);
	}

	/** A relay archiving a team: the owner, bob and mallory (members) in a private space the relay is not in. */
	async function spaceOnRelay() {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
		const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member'));
		await connect(bob, owner);
		await connect(mallory, owner);
		await waitUntil(() => owner.authority.isMember(bob.peerId) && bob.authority.joined && owner.authority.isMember(mallory.peerId) && mallory.authority.joined, 'bob and mallory admitted');
		await archiveAs(owner, relay, ws);
		for (const peer of [owner, bob, mallory]) await onRelay(peer, relay, ws.id);
		const [ownerBlobs, bobBlobs, malloryBlobs] = [await withBlobs(owner), await withBlobs(bob), await withBlobs(mallory)];
		const { space, nonce } = newSpaceId(owner.authority.workspaceId, owner.peerId);
		await owner.authority.write({ t: 'space', space, nonce, kind: 'private', members: [owner.peerId, bob.peerId, mallory.peerId] });
		await waitUntil(
			() => relay.archive.authority(ws.id)?.spaceAccess(space) !== undefined && bob.authority.spaceAccess(space) !== undefined && mallory.authority.spaceAccess(space) !== undefined,
			'the relay and the members fold the space'
		);
		return { relay, ws, owner, bob, mallory, ownerBlobs, bobBlobs, malloryBlobs, space };
	}

	/** Fetches `blob` of `space` from the relay alone into `blobs`; the error when refused. */
	async function fromRelay(blobs: BlobPeer, relay: RunningRelay, workspaceId: string, space: string, blob: string): Promise<unknown> {
		return blobs.blobs.service.fetch(workspaceId, blob, [relay.node.peerId.toString()], { docId: space }).then(
			() => undefined,
			(error: unknown) => error
		);
	}

	return { startRelay, relayDb, onRelay, spaceOnRelay, fromRelay };
}
