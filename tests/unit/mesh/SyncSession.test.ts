/**
 * Two SyncSessions back to back: documents that differ on both sides converge, a joiner
 * receives everything, a peer apart for 10,000 updates catches up with only the missing
 * bytes, and live updates flow both ways after sync (never echoed back).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { newId } from '../../../src/lib/doc/ids';
import { DEFAULT_LIMITS, MessageType } from '../../../src/lib/mesh/constants';
import { docDigest } from '../../../src/lib/mesh/syncDocs';
import { decodeMessage, encodeMessage } from '../../../src/lib/mesh/wire';
import { mulberry32 } from '../../fixtures/random';
import { pair, settle, syncBoth, type Side } from './helpers';
import { MemoryDocs } from './memoryDocs';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { addTeamOp, teamOps } from '../../../src/lib/doc/team/TeamDoc';
import { signTeamOp } from '../../../src/lib/doc/team/sign';
import { newTeamNonce, teamRosterId, teamWorkspaceId } from '../../../src/lib/doc/team/teamId';

function sent(side: Side): number {
	return side.inbox.reduce((n, bytes) => n + bytes.length, 0);
}

function typesIn(side: Side): number[] {
	return side.inbox.map((bytes) => decodeMessage(bytes, DEFAULT_LIMITS).type);
}

describe('SyncSession catch-up', () => {
	it('converges documents that differ on both sides, for many timings', async () => {
		for (let seed = 1; seed <= 20; seed++) {
			const random = mulberry32(seed);
			const a = new MemoryDocs();
			const b = new MemoryDocs();
			const shared = newId();
			const onlyA = newId();
			const onlyB = newId();
			const same = newId();
			a.get(shared).getText('t').insert(0, 'from a ');
			b.get(shared).getText('t').insert(0, 'from b ');
			a.get(shared).getMap('m').set('a', seed);
			b.get(shared).getMap('m').set('b', seed);
			a.get(onlyA).getText('t').insert(0, 'only a');
			b.get(onlyB).getText('t').insert(0, 'only b');
			Y.applyUpdate(a.get(same), Y.encodeStateAsUpdate(b.get(same)));
			a.get(same).getText('t').insert(0, 'equal');
			Y.applyUpdate(b.get(same), Y.encodeStateAsUpdate(a.get(same)));
			const p = await pair({ openerDocs: a, responderDocs: b, jitter: () => Math.floor(random() * 4) });
			await syncBoth(p);
			expect(a.snapshot()).toEqual(b.snapshot());
			expect(Object.keys(a.snapshot())).toHaveLength(4);
			expect(a.get(shared).getText('t').toString()).toContain('from a');
			expect(a.get(shared).getText('t').toString()).toContain('from b');
			// each side asked only for the documents it lacked or that differed
			expect(p.opener.session.progress).toEqual({ pending: 0, total: 2 });
			expect(p.responder.session.progress).toEqual({ pending: 0, total: 2 });
			const step1ForSame = [...p.opener.inbox, ...p.responder.inbox]
				.map((bytes) => decodeMessage(bytes, DEFAULT_LIMITS))
				.filter((m) => m.type === MessageType.syncStep1 && m.docId === same);
			expect(step1ForSame).toHaveLength(0);
			p.opener.session.close();
			p.responder.session.close();
		}
	});

	it('syncs two empty peers, and two identical ones without any SYNC_STEP1', async () => {
		const empty = await pair();
		await syncBoth(empty);
		expect(empty.opener.session.progress).toEqual({ pending: 0, total: 0 });
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'same');
		Y.applyUpdate(b.get(id), Y.encodeStateAsUpdate(a.get(id)));
		const same = await pair({ openerDocs: a, responderDocs: b });
		await syncBoth(same);
		expect([...typesIn(same.opener), ...typesIn(same.responder)]).not.toContain(MessageType.syncStep1);
		expect(a.applied + b.applied).toBe(0);
	});

	it('ends the session, without throwing into the editor, when the transport fails', async () => {
		const a = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'x');
		let broken = false;
		const p = await pair({ openerDocs: a, failSend: (role) => broken && role === 'opener' });
		await syncBoth(p);
		broken = true;
		expect(() => a.get(id).getText('t').insert(0, 'y')).not.toThrow();
		expect(p.opener.session.state).toBe('closed');
		expect(p.opener.errors[0]?.message).toBe('stream closed');
		p.responder.session.close();
	});

	it('gives up a catch-up the peer stopped answering, and never times out once live', async () => {
		const b = new MemoryDocs();
		b.get(newId()).getText('t').insert(0, 'the opener lacks this');
		const limits = { syncStallTimeoutMs: 60 };
		// The responder's SYNC_STEP2 never arrives: the opener waits, then gives up.
		const stalled = await pair({
			responderDocs: b,
			opener: { limits },
			deliver: (to, _i, bytes) =>
				to.session === stalled.opener.session && decodeMessage(bytes, DEFAULT_LIMITS).type === MessageType.syncStep2
					? Promise.resolve()
					: to.session.receive(bytes)
		});
		stalled.start();
		await stalled.opener.closed;
		expect(stalled.opener.errors[0]?.name).toBe('SyncStalledError');
		stalled.responder.session.close();

		const healthy = await pair({ responderDocs: b, opener: { limits }, responder: { limits } });
		await syncBoth(healthy);
		await new Promise((r) => setTimeout(r, 150));
		expect(healthy.opener.session.state).toBe('live');
		expect(healthy.responder.session.state).toBe('live');
		healthy.opener.session.close();
		healthy.responder.session.close();
	});

	it('syncs a document whose only difference is a deletion', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'hello world');
		Y.applyUpdate(b.get(id), Y.encodeStateAsUpdate(a.get(id)));
		b.get(id).getText('t').delete(0, 6);
		expect(Y.encodeStateVector(a.get(id))).toEqual(Y.encodeStateVector(b.get(id)));
		expect(await docDigest(a.get(id))).not.toBe(await docDigest(b.get(id)));
		await syncBoth(await pair({ openerDocs: a, responderDocs: b }));
		expect(a.get(id).getText('t').toString()).toBe('world');
	});

	it('gives a joiner with no documents every document, with progress', async () => {
		const full = new MemoryDocs();
		for (let i = 0; i < 50; i++) full.get(newId()).getText('t').insert(0, `doc ${i}`);
		const joiner = new MemoryDocs();
		const p = await pair({ openerDocs: joiner, responderDocs: full, responder: { limits: { maxDigestEntries: 7 } }, opener: { limits: { maxDigestEntries: 7 } } });
		const progress: number[] = [];
		p.opener.session.on('progress', ({ pending }) => progress.push(pending));
		await syncBoth(p);
		expect(joiner.snapshot()).toEqual(full.snapshot());
		expect(p.opener.session.progress).toEqual({ pending: 0, total: 50 });
		expect(progress[0]).toBe(50);
		expect(progress.at(-1)).toBe(0);
		// the digest came in 8 parts of at most 7 entries
		expect(typesIn(p.opener).filter((t) => t === MessageType.digest)).toHaveLength(8);
		// the full side asked for nothing
		expect(p.responder.session.progress).toEqual({ pending: 0, total: 0 });
	});

	it('catches up a peer that was apart for 10,000 updates by sending only the missing state', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		const text = a.get(id).getText('t');
		for (let i = 0; i < 1000; i++) text.insert(text.length, `base ${i}\n`);
		Y.applyUpdate(b.get(id), Y.encodeStateAsUpdate(a.get(id)));
		const before = Y.encodeStateVector(b.get(id));
		const random = mulberry32(42);
		for (let i = 0; i < 10_000; i++) {
			if (random() < 0.2 && text.length > 10) text.delete(Math.floor(random() * (text.length - 5)), 3);
			else text.insert(Math.floor(random() * text.length), `u${i} `);
		}
		const diff = Y.encodeStateAsUpdate(a.get(id), before).length;
		const full = Y.encodeStateAsUpdate(a.get(id)).length;
		const p = await pair({ openerDocs: b, responderDocs: a });
		await syncBoth(p);
		expect(b.get(id).getText('t').toString()).toBe(text.toString());
		const toB = sent(p.opener);
		const toA = sent(p.responder);
		console.info(`catch-up after 10,000 updates: ${toB} bytes to the peer that was apart, ${toA} back; ` + `Y.encodeStateAsUpdate diff ${diff} bytes, full state ${full} bytes`);
		expect(toB).toBeLessThan(diff + 1024);
		expect(toA).toBeLessThan(1024);
	});
});

describe('SyncSession live updates', () => {
	it('forwards updates both ways after sync, without echoing them back', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'start');
		const p = await pair({ openerDocs: a, responderDocs: b });
		await syncBoth(p);
		const inboxA = p.opener.inbox.length;
		const inboxB = p.responder.inbox.length;
		a.get(id).getText('t').insert(5, ' a');
		await settle();
		b.get(id).getText('t').insert(0, 'b ');
		const fresh = newId();
		b.get(fresh).getMap('m').set('k', 1);
		await settle();
		expect(a.snapshot()).toEqual(b.snapshot());
		expect(a.get(id).getText('t').toString()).toBe('b start a');
		expect(a.docs.has(fresh)).toBe(true);
		// exactly one UPDATE per local change, none echoed back
		expect(typesIn(p.responder).slice(inboxB)).toEqual([MessageType.update]);
		expect(typesIn(p.opener).slice(inboxA)).toEqual([MessageType.update, MessageType.update]);
	});

	it('forwards edits made while catch-up is still running', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'x');
		const p = await pair({ openerDocs: a, responderDocs: b });
		p.start();
		await Promise.resolve();
		a.get(id).getText('t').insert(1, 'y');
		await Promise.all([p.opener.synced, p.responder.synced]);
		await settle();
		expect(b.get(id).getText('t').toString()).toBe('xy');
	});

	it('passes updates on between sessions of a three-peer chain, never back to their source', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const c = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'a');
		c.get(newId()).getMap('m').set('from', 'c');
		const ab = await pair({ openerDocs: a, responderDocs: b });
		await syncBoth(ab);
		const bc = await pair({ openerDocs: b, responderDocs: c });
		await syncBoth(bc);
		await settle();
		const toA = ab.opener.inbox.length;
		a.get(id).getText('t').insert(1, '!');
		await settle();
		expect(c.get(id).getText('t').toString()).toBe('a!');
		// c's document went a ← b ← c during b–c catch-up, forwarded live by the a–b session
		expect(a.snapshot()).toEqual(c.snapshot());
		expect(ab.opener.inbox.length).toBe(toA); // a's own edit never came back to it
	});

	it('stops forwarding once closed', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'x');
		const p = await pair({ openerDocs: a, responderDocs: b });
		await syncBoth(p);
		p.opener.session.close();
		const n = p.responder.inbox.length;
		a.get(id).getText('t').insert(0, 'z');
		await settle();
		expect(p.responder.inbox.length).toBe(n);
		expect(p.opener.session.state).toBe('closed');
	});
});

describe('SyncSession and duplicate team operations', () => {
	it('carries the winning copy with a forwarded losing duplicate, so a peer holding only the loser does not refuse it', async () => {
		// Two replicas wrote the same operation under its id; Yjs keeps the copy of the higher client id.
		const key = await generateKeyPair('Ed25519');
		const by = peerIdFromPrivateKey(key).toString();
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(by, nonce);
		const roster = teamRosterId(ws);
		const op = await signTeamOp(key, by, { ws, prev: [], at: 1 }, { t: 'create', nonce, name: 'A' });
		const copyBy = (client: number) => {
			const doc = new Y.Doc();
			doc.clientID = client;
			addTeamOp(doc, op);
			return Y.encodeStateAsUpdate(doc);
		};
		const [loser, winner] = [copyBy(1), copyBy(2)];
		const s = new MemoryDocs(ws);
		const x = new MemoryDocs(ws);
		Y.applyUpdate(s.get(roster), winner, 'another peer');
		Y.applyUpdate(x.get(roster), loser, 'another peer');
		let forwarded = false;
		const p = await pair({
			workspaceId: ws,
			openerDocs: x,
			responderDocs: s,
			// As s's digest goes out, the losing copy reaches s from elsewhere: s forwards it (and its deletion) live.
			deliver: (to, _position, bytes) => {
				if (to === p.opener && !forwarded && decodeMessage(bytes, DEFAULT_LIMITS).type === MessageType.digest) {
					forwarded = true;
					Y.applyUpdate(s.get(roster), loser, 'another peer');
				}
				return to.session.receive(bytes);
			}
		});
		await syncBoth(p);
		await settle();
		expect(forwarded).toBe(true);
		expect([...p.opener.errors, ...p.responder.errors].map((e) => e.message)).toEqual([]);
		expect(teamOps(x.get(roster)).get(op.id)).toEqual(teamOps(s.get(roster)).get(op.id));
	});

	it('coalesces whole-roster sends: a member writing fifty losing duplicates in a burst costs at most two rosters per second', async () => {
		const key = await generateKeyPair('Ed25519');
		const by = peerIdFromPrivateKey(key).toString();
		const nonce = newTeamNonce();
		const ws = teamWorkspaceId(by, nonce);
		const roster = teamRosterId(ws);
		const op = await signTeamOp(key, by, { ws, prev: [], at: 1 }, { t: 'create', nonce, name: 'A' });
		const copyBy = (client: number) => {
			const doc = new Y.Doc();
			doc.clientID = client;
			addTeamOp(doc, op);
			return Y.encodeStateAsUpdate(doc);
		};
		const s = new MemoryDocs(ws);
		const x = new MemoryDocs(ws);
		Y.applyUpdate(s.get(roster), copyBy(1_000_000), 'another peer'); // the winner: the highest client id
		const p = await pair({ workspaceId: ws, openerDocs: x, responderDocs: s });
		await syncBoth(p);
		await settle();
		const before = p.opener.inbox.length;
		for (let client = 1; client <= 50; client++) Y.applyUpdate(s.get(roster), copyBy(client), 'another peer');
		await new Promise((resolve) => setTimeout(resolve, 300));
		const rosterUpdates = p.opener.inbox.slice(before).map((bytes) => decodeMessage(bytes, DEFAULT_LIMITS)).filter((m) => m.type === MessageType.update && m.docId === roster);
		expect(rosterUpdates.length).toBeGreaterThanOrEqual(1);
		expect(rosterUpdates.length).toBeLessThanOrEqual(2);
		await new Promise((resolve) => setTimeout(resolve, 1200)); // the coalesced one after the gap
		await settle();
		expect([...p.opener.errors, ...p.responder.errors]).toEqual([]);
		expect(Y.encodeStateVector(x.get(roster))).toEqual(Y.encodeStateVector(s.get(roster)));
		p.opener.session.close();
		p.responder.session.close();
	});
});

describe('SyncSession with a large update', () => {
	it('checks and applies it in pieces, giving the event loop back between them', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		a.get(id).getText('t').insert(0, 'first');
		const limits = { pieceBytes: 8 * 1024 };
		const p = await pair({ openerDocs: a, responderDocs: b, opener: { limits }, responder: { limits } });
		await syncBoth(p);
		const before = b.applied;
		// One live update of ~220 kB from one transaction: 2,000 map entries and a long text.
		a.get(id).transact(() => {
			for (let i = 0; i < 2000; i++) a.get(id).getMap('m').set(`k${i}`, { text: 'x'.repeat(80), i });
			a.get(id).getText('t').insert(5, ' and more'.repeat(1000));
		});
		// Pieces the receiver had applied each time a timer ran: a timer that runs between two
		// pieces (neither none nor all applied) shows the event loop was given back.
		const seen: number[] = [];
		const ticker = setInterval(() => seen.push(b.applied - before), 0);
		// Every piece arrived: the map and the text (the pieces go in dependency order, not all at once).
		const holds = () => b.docs.get(id)?.getMap('m').size === 2000 && b.docs.get(id)?.getText('t').length === a.get(id).getText('t').length;
		for (let i = 0; i < 2000 && !holds(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
		clearInterval(ticker);
		expect(a.snapshot()).toEqual(b.snapshot());
		expect(b.get(id).getMap('m').toJSON()).toEqual(a.get(id).getMap('m').toJSON());
		const pieces = b.applied - before;
		expect(pieces).toBeGreaterThan(20); // ~220 kB in pieces of 8 KiB
		expect(seen.some((n) => n > 0 && n < pieces)).toBe(true);
		expect(p.responder.errors).toEqual([]);
		p.opener.session.close();
		p.responder.session.close();
	});

	it('refuses one that does not scan, and keeps nothing of it', async () => {
		const a = new MemoryDocs();
		const b = new MemoryDocs();
		const id = newId();
		b.get(id).getText('t').insert(0, 'kept');
		const limits = { pieceBytes: 1024 };
		const p = await pair({ openerDocs: a, responderDocs: b, opener: { limits }, responder: { limits } });
		await syncBoth(p);
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'y'.repeat(10_000));
		const update = Y.encodeStateAsUpdate(doc);
		const bad = update.slice(0, update.length - 5000); // cut inside the text
		const applied = b.applied;
		await p.responder.session.receive(encodeMessage({ type: MessageType.update, docId: id, update: bad }));
		expect(p.responder.errors[0]?.name).toBe('UpdateRejectedError');
		expect(b.applied).toBe(applied);
		expect(b.get(id).getText('t').toString()).toBe('kept');
	});
});

