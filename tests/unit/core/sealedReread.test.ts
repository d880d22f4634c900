/**
 * A member device's sealed sync (core/sealedSync.ts) reading again what a relay keeps under a
 * generation whose key reached the device after it read it, with a real signed team (its
 * fold, real key boxes opened with the device's key) and a relay's sealed log kept in memory
 * (the relay's side is relay/archive/SealedLog.ts, tested on its own): what a review found.
 * - A re-read cut short (the app closing as the key arrives, a log shorter than before) kept
 *   the generation waited for no longer, and the mirror was saved so: lost after a restart.
 * - Envelopes under made-up generations (any member of the space can put them) filled the 64
 *   slots for good, so a real generation arriving late was passed over again.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startSealedSync, type SealedMirrorStore, type StoredMirror } from '../../../src/lib/core/sealedSync.js';
import { sealSpaceUpdate } from '../../../src/lib/core/spaceSeal.js';
import { TeamAuthority } from '../../../src/lib/core/TeamAuthority.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { newSpaceKeyGeneration, newWorkspaceKey, sealForDevices, spaceKeyScope } from '../../../src/lib/doc/team/keyBox.js';
import { signTeamOp } from '../../../src/lib/doc/team/sign.js';
import { newSpaceId, newTeamNonce, teamWorkspaceId } from '../../../src/lib/doc/team/teamId.js';
import type { TeamOpBody } from '../../../src/lib/doc/team/ops.js';
import { MemoryDocs } from '../mesh/memoryDocs.js';

async function device() {
	const privateKey = await generateKeyPair('Ed25519');
	return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() };
}

class MemoryMirrors implements SealedMirrorStore {
	readonly kept = new Map<string, StoredMirror>();
	load(key: string): Promise<StoredMirror | undefined> {
		const kept = this.kept.get(key);
		return Promise.resolve(kept && structuredClone(kept));
	}
	save(key: string, mirror: StoredMirror): Promise<void> {
		this.kept.set(key, structuredClone(mirror));
		return Promise.resolve();
	}
}

const stops: Array<() => void> = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

const until = async (check: () => boolean, what: string, ms = 5000): Promise<void> => {
	for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 10))) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
	}
};

/**
 * A team of an owner, a relay (role relay, not in the space) and Carol, whose device is the one
 * under test; a private space of the owner and Carol with two generations (the owner's), the
 * first sealed to Carol, the second not yet; a log on the relay: `before`, then m1 under the
 * first generation and m2 (building on it) under the second.
 */
async function setUp(before: Uint8Array[] = []) {
	const [owner, relay, carol] = [await device(), await device(), await device()];
	const nonce = newTeamNonce();
	const ws = teamWorkspaceId(owner.peerId, nonce);
	const doc = new Y.Doc();
	const own = new TeamAuthority({ workspaceId: ws, doc, device: owner });
	let at = 1;
	const write = async (body: TeamOpBody) => {
		await own.add(await signTeamOp(owner.privateKey, owner.peerId, { ws, prev: own.team.heads, at: at++ }, body));
	};
	await write({ t: 'create', nonce, name: 'owner' });
	await write({ t: 'add', member: relay.peerId, role: 'relay', name: 'Relay' });
	await write({ t: 'add', member: carol.peerId, role: 'member', name: 'Carol' });
	const { space, nonce: spaceNonce } = newSpaceId(ws, owner.peerId);
	await write({ t: 'space', space, nonce: spaceNonce, kind: 'private', members: [owner.peerId, carol.peerId] });
	const scope = spaceKeyScope(ws, space);
	const g1 = newSpaceKeyGeneration(ws, space, [owner.peerId, carol.peerId]);
	await write(g1.body);
	const g2 = newSpaceKeyGeneration(ws, space, [owner.peerId]);
	await write(g2.body);

	// What the owner wrote in the space: m1, then m2 next to it.
	const text = new Y.Doc();
	text.getText('t').insert(0, 'm1 ');
	const m1 = Y.encodeStateAsUpdate(text);
	const sv = Y.encodeStateVector(text);
	text.getText('t').insert(3, 'm2');
	const m2 = Y.encodeStateAsUpdate(text, sv);
	const log = [...before, sealSpaceUpdate(g1.key, g1.body.gen, space, m1), sealSpaceUpdate(g2.key, g2.body.gen, space, m2)];

	const carolAuthority = new TeamAuthority({ workspaceId: ws, doc, device: carol });
	await carolAuthority.ready;
	await carolAuthority.settled();
	/** A read from this index on waits until `release` is called. */
	let holdFrom: number | undefined;
	let release: (() => void) | undefined;
	const mesh = {
		livePeers: () => [relay.peerId],
		on: () => () => {},
		putSealed: () => false, // the relay takes nothing here: only reading is tested
		wantSealed: async (_ws: string, _peer: string, _doc: string, from: number) => {
			if (holdFrom !== undefined && from >= holdFrom) {
				holdFrom = undefined;
				await new Promise<void>((resolve) => (release = resolve));
			}
			const envelopes = log.slice(from, from + 8);
			return { envelopes, more: from + envelopes.length < log.length };
		}
	};
	const docs = new MemoryDocs(ws);
	const errors: Error[] = [];
	const start = (mirrors: SealedMirrorStore) => {
		const stop = startSealedSync({ workspaceId: ws, mesh, docs, authority: carolAuthority, device: carol, onError: (e) => errors.push(e), delayMs: 1, mirrors });
		stops.push(stop);
		return stop;
	};
	const shown = () => docs.docs.get(space)?.getText('t').toString() ?? '';
	return {
		start,
		shown,
		errors,
		holdFrom: (index: number) => (holdFrom = index),
		release: () => release?.(),
		released: () => release !== undefined,
		sealSecondToCarol: () => write({ t: 'keys', gen: g2.body.gen, space, boxes: sealForDevices(g2.key, [carol.peerId], scope, g2.body.gen) }),
	};
}

describe('sealed sync: envelopes of a generation whose key came later', () => {
	it('a re-read cut short by the app closing keeps the generation waited for, and a restart reads it', async () => {
		const t = await setUp();
		const mirrors = new MemoryMirrors();
		const stop = t.start(mirrors);
		await until(() => t.shown() === 'm1 ', 'm1 from the relay');
		// The second key arrives; the round that follows is slow to read, and the app closes meanwhile.
		t.holdFrom(2);
		await t.sealSecondToCarol();
		await until(t.released, 'the round to read');
		stop();
		t.release();
		await new Promise((resolve) => setTimeout(resolve, 100)); // the stop saves the mirror after the round
		const [kept] = [...mirrors.kept.values()];
		expect(kept?.read).toBe(2);
		expect(Object.values(kept?.waiting ?? {})).toEqual([1]);
		expect(t.shown()).toBe('m1 ');

		t.start(mirrors);
		await until(() => t.shown() === 'm1 m2', 'm2 after the restart');
	});

	it('envelopes under 64 made-up generations before it do not keep a real one from being waited for', async () => {
		const empty = Y.encodeStateAsUpdate(new Y.Doc());
		const t = await setUp(Array.from({ length: 64 }, () => sealSpaceUpdate(newWorkspaceKey(), newId(), 'x', empty)));
		t.start(new MemoryMirrors());
		await until(() => t.shown() === 'm1 ', 'm1 from the relay');
		await t.sealSecondToCarol();
		await until(() => t.shown() === 'm1 m2', 'm2 once its key is Carol\'s');
	});
});
