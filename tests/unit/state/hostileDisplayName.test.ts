/**
 * A member's display name is its own to choose, and every view shows it (message headers,
 * member lists, "… is typing", mentions): TeamState.displayName gives it on one line, without
 * bidi controls or invisible characters (found in review: an RLO in a name reversed the text
 * after it on its line). Real team operations, signed and folded by a TeamAuthority.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import { TeamState } from '../../../src/lib/state/TeamState.svelte.js';
import { OutpostDb } from '../../../src/lib/store/db.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

describe('a display name with bidi controls, invisible characters and line breaks', () => {
	it('is shown on one line without them; an empty one falls back to the device', async () => {
		const [owner, mallory, blank] = await Promise.all([device(), device(), device()]);
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(owner.peerId, nonce);
		const own = new TeamAuthority({ workspaceId: ws, doc: new Y.Doc(), device: owner });
		const create = await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [], at: Date.now() }, { t: 'create', nonce, name: 'Olga' });
		await own.add(create);
		const add = await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [create.id], at: Date.now() }, { t: 'add', member: mallory.peerId, role: 'member', name: 'Ana\u202E\u200B\nsi gnipyt' });
		await own.add(add);
		const addBlank = await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: [add.id], at: Date.now() }, { t: 'add', member: blank.peerId, role: 'member', name: '\u2066\u200B' });
		await own.add(addBlank);
		await own.settled();
		const team = new TeamState(own, new OutpostDb(`outpost-names-${newId()}`));
		expect(team.displayName(owner.peerId)).toBe('Olga');
		expect(team.displayName(mallory.peerId)).toBe('Ana si gnipyt');
		expect(team.displayName(blank.peerId)).toBe(`…${blank.peerId.slice(-6)}`);
	});
});
