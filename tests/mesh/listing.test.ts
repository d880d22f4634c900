/**
 * A document edited before the workspace's root lists it (a channel created offline, or one a
 * device wrote into before the root change reached it) is offered to nobody until then. Once
 * the root lists it, every open session sends its whole state at once, whichever side the
 * listing came from: its later updates build on the earlier ones, and a peer lacking those
 * would hold them pending until the next session (found by the soak run with a Chromium page,
 * whose first posts preceded the root). Real libp2p nodes in one process; anti-entropy off, so
 * nothing but the open session can carry it. The first test fails without the session's
 * withheld documents (SyncSession.ts); the second guards the other direction.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { has, listedDoc, post, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});


/** Lists channel `id` in the root on `peer`. */
function list(peer: TeamPeer, workspaceId: string, id: string): void {
	new WorkspaceDoc(peer.docs.get(workspaceId)).createChannel({ id, name: `c-${id.slice(0, 4)}`, topic: '', private: false, readOnly: false, archived: false, createdAt: Date.now(), createdBy: peer.peerId });
}

/** Waits until `peer` has a message `from` posts afterwards in a listed document: the session has carried everything before it. */
async function barrier(from: TeamPeer, peer: TeamPeer): Promise<void> {
	const doc = listedDoc(from, from.authority.workspaceId);
	post(from, doc, 'later');
	await waitFor(() => has(peer, doc, 'later'), `${peer.name} gets a later message`);
}

describe('a document the root lists after it was edited', () => {
	it('reaches the session’s peer once listed here: its early edits with it, and the later ones live', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const id = newId();
		post(owner, id, 'before the listing');
		await barrier(owner, bob);
		expect(has(bob, id, 'before the listing')).toBe(false); // not listed: offered to nobody
		list(owner, ws.id, id);
		await waitFor(() => has(bob, id, 'before the listing'), 'bob gets what was written before the listing');
		post(owner, id, 'after the listing');
		await waitFor(() => has(bob, id, 'after the listing'), 'bob gets the next message live');
	});

	it('reaches the session’s peer when the listing comes from that peer', async () => {
		const { ws, owner, bob } = await teamOfThree();
		const id = newId();
		// Bob writes into a channel his root does not list yet (as a device whose root lags).
		post(bob, id, 'bob, early');
		await barrier(bob, owner);
		expect(has(owner, id, 'bob, early')).toBe(false);
		list(owner, ws.id, id);
		await waitFor(() => has(owner, id, 'bob, early'), 'the owner gets bob’s early message once the listing reached bob');
		post(bob, id, 'bob, later');
		await waitFor(() => has(owner, id, 'bob, later'), 'and his next one live');
	});
});
