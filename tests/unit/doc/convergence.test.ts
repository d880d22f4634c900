/**
 * Peers edit their own copies of the same documents concurrently and exchange updates in
 * different orders, with duplicates and with gaps; every peer must end up with the same
 * Yjs state and the same visible channel. The random test follows Yjs's applyRandomTests:
 * seeded operations interleaved with partial, shuffled, duplicated deliveries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { HybridClock } from '../../../src/lib/doc/hlc.js';
import { RosterDoc } from '../../../src/lib/doc/RosterDoc.js';
import type { ChannelInfo } from '../../../src/lib/doc/schema.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import { T0, edit, freshSnapshot, msg, mulberry32, pick, shuffle, snapshot, softDelete, toggleReaction, updateChannel, anyChannel } from './helpers.js';

const REMOTE = 'remote';
const KINDS = ['channel', 'workspace', 'roster'] as const;
type Kind = (typeof KINDS)[number];

interface Delivery {
	kind: Kind;
	update: Uint8Array;
}

/** One device: its copies of a channel, the workspace root and the roster, and a live view. */
class Peer {
	readonly docs: Record<Kind, Y.Doc>;
	readonly channel: ChannelDoc;
	readonly workspace: WorkspaceDoc;
	readonly roster: RosterDoc;
	readonly view: ChannelView;
	readonly clock: HybridClock;
	/** Updates from other peers not yet applied here. */
	inbox: Delivery[] = [];
	private seq = 0;

	constructor(
		readonly name: string,
		clientId: number,
		now: () => number,
		private readonly broadcast: (from: Peer, d: Delivery) => void
	) {
		this.docs = { channel: new Y.Doc(), workspace: new Y.Doc(), roster: new Y.Doc() };
		for (const kind of KINDS) {
			const doc = this.docs[kind];
			doc.clientID = clientId * 10 + KINDS.indexOf(kind);
			doc.on('update', (update: Uint8Array, origin: unknown) => {
				if (origin !== REMOTE) broadcast(this, { kind, update });
			});
		}
		this.channel = new ChannelDoc(this.docs.channel);
		this.workspace = new WorkspaceDoc(this.docs.workspace);
		this.roster = new RosterDoc(this.docs.roster);
		this.view = new ChannelView(this.channel);
		this.clock = new HybridClock(name, now);
	}

	/** A new unique message id. */
	nextId(): string {
		return `${this.name}-${this.seq++}`;
	}

	post(text: string, parent?: string): string {
		const id = this.nextId();
		this.channel.post(msg(id, this.name, this.clock.tick(), text, parent));
		return id;
	}

	apply(d: Delivery): void {
		Y.applyUpdate(this.docs[d.kind], d.update, REMOTE);
	}

	/** Applies `count` random inbox entries in random order; some stay queued to arrive again. */
	deliverSome(rand: () => number, count: number): void {
		const chosen = shuffle(rand, this.inbox).slice(0, count);
		for (const d of chosen) this.apply(d);
		// Delivered updates usually leave the inbox; sometimes they stay and arrive twice.
		this.inbox = this.inbox.filter((d) => !chosen.includes(d) || rand() < 0.2);
	}

	/** Applies everything still queued, shuffled. */
	deliverAll(rand: () => number): void {
		const all = shuffle(rand, this.inbox);
		this.inbox = [];
		for (const d of all) this.apply(d);
	}
}

/** A full mesh of peers that queue every local update for every other peer. */
function mesh(count: number, now: () => number = () => T0): Peer[] {
	const peers: Peer[] = [];
	const broadcast = (from: Peer, d: Delivery) => {
		for (const p of peers) if (p !== from) p.inbox.push(d);
	};
	for (let i = 0; i < count; i++) peers.push(new Peer(`peer-${String.fromCharCode(97 + i)}`, i + 1, now, broadcast));
	return peers;
}

const allViews: ChannelView[] = [];
afterEach(() => {
	for (const v of allViews.splice(0)) v.destroy();
});

function track(peers: Peer[]): Peer[] {
	for (const p of peers) allViews.push(p.view);
	return peers;
}

/** Everything a document holds, as plain data. */
function docState(doc: Y.Doc): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [name, type] of doc.share) out[name] = type.toJSON();
	return out;
}

/** Asserts that every peer holds identical documents and shows an identical channel. */
function expectConverged(peers: Peer[], label = ''): void {
	const [first, ...rest] = peers;
	for (const p of rest) {
		for (const kind of KINDS) {
			expect(Y.encodeStateVector(p.docs[kind]), `${label} ${kind} state vector of ${p.name}`).toEqual(
				Y.encodeStateVector(first.docs[kind])
			);
			expect(docState(p.docs[kind]), `${label} ${kind} content of ${p.name}`).toEqual(docState(first.docs[kind]));
			expect(Y.encodeStateAsUpdate(p.docs[kind]), `${label} ${kind} encoding of ${p.name}`).toEqual(
				Y.encodeStateAsUpdate(first.docs[kind])
			);
		}
		expect(snapshot(p.view), `${label} visible channel of ${p.name}`).toEqual(snapshot(first.view));
		expect(p.workspace.listChannels(anyChannel), `${label} channels of ${p.name}`).toEqual(first.workspace.listChannels(anyChannel));
		expect(p.roster.list(), `${label} roster of ${p.name}`).toEqual(first.roster.list());
	}
	for (const p of peers) {
		expect(p.docs.channel.store.pendingStructs, `${label} pending structs of ${p.name}`).toBeNull();
		expect(snapshot(p.view), `${label} live view of ${p.name} vs a fresh one`).toEqual(freshSnapshot(p.docs.channel));
	}
}

function channelInfo(id: string, name: string, createdAt: number, createdBy: string): ChannelInfo {
	return { id, name, topic: '', private: false, readOnly: false, archived: false, createdAt, createdBy };
}

describe('two peers', () => {
	it('converge on concurrent posts, replies, edits, deletes and reactions, in either delivery order', () => {
		for (const order of ['a-first', 'b-first'] as const) {
			const [a, b] = track(mesh(2));
			const root = a.post('root');
			b.deliverAll(mulberry32(1));
			// Concurrent work on both sides.
			const a1 = a.post('from a');
			const b1 = b.post('from b');
			b.post('reply from b', root);
			a.post('reply from a', root);
			a.channel.edit(edit(a1, a.name, a.clock.tick(), 'a edited'));
			softDelete(b.channel, b1, { by: b.name, hlc: b.clock.tick(), sig: 'sig' });
			toggleReaction(a.channel, root, '👍', a.name);
			toggleReaction(b.channel, root, '👍', b.name);
			toggleReaction(b.channel, root, '🎉', b.name);
			if (order === 'a-first') {
				b.deliverAll(mulberry32(2));
				a.deliverAll(mulberry32(3));
			} else {
				a.deliverAll(mulberry32(2));
				b.deliverAll(mulberry32(3));
			}
			expectConverged([a, b], order);
			const visible = snapshot(a.view);
			expect(visible.map((m) => m.id).sort()).toEqual([root, a1, b1].sort());
			const rootMsg = visible.find((m) => m.id === root);
			expect(rootMsg?.replies.map((r) => r.text).sort()).toEqual(['reply from a', 'reply from b']);
			expect(rootMsg?.reactions).toEqual([
				{ emoji: '🎉', peers: [b.name] },
				{ emoji: '👍', peers: [a.name, b.name] }
			]);
			expect(visible.find((m) => m.id === a1)?.text).toBe('a edited');
			expect(visible.find((m) => m.id === b1)?.deleted).toBe(true);
		}
	});

	it('converge when every update arrives twice and in reverse order', () => {
		const [a, b] = track(mesh(2));
		for (let i = 0; i < 5; i++) {
			const id = a.post(`a${i}`);
			b.post(`b${i}`);
			toggleReaction(a.channel, id, '👍', a.name);
		}
		for (const p of [a, b]) {
			const queued = p.inbox;
			p.inbox = [];
			for (const d of [...queued].reverse()) p.apply(d);
			for (const d of queued) p.apply(d);
		}
		expectConverged([a, b]);
		expect(a.view.top).toHaveLength(10);
	});

	it('keep both sides of concurrent channel settings changes, and agree on a concurrent rename', () => {
		const [a, b] = track(mesh(2));
		a.workspace.createChannel(channelInfo('general', 'general', T0, a.name));
		b.deliverAll(mulberry32(1));
		updateChannel(a.workspace, 'general', { name: 'lobby' }, a.name);
		updateChannel(b.workspace, 'general', { archived: true, topic: 'old stuff' }, b.name);
		a.deliverAll(mulberry32(2));
		b.deliverAll(mulberry32(3));
		expectConverged([a, b]);
		expect(a.workspace.channel('general', anyChannel)).toMatchObject({ name: 'lobby', archived: true, topic: 'old stuff' });

		updateChannel(a.workspace, 'general', { name: 'from-a' }, a.name);
		updateChannel(b.workspace, 'general', { name: 'from-b' }, b.name);
		b.deliverAll(mulberry32(4));
		a.deliverAll(mulberry32(5));
		expectConverged([a, b]);
		expect(['from-a', 'from-b']).toContain(a.workspace.channel('general', anyChannel)?.name);
	});

	it('agree on the roster after concurrent upserts and renames', () => {
		const [a, b] = track(mesh(2));
		a.roster.upsert({ peerId: 'p-new', name: 'New', role: 'member', joinedAt: T0 });
		b.roster.upsert({ peerId: 'p-new', name: 'Newcomer', role: 'member', joinedAt: T0 + 1 });
		a.roster.upsert({ peerId: a.name, name: 'Ana', role: 'owner', joinedAt: T0 });
		b.roster.upsert({ peerId: b.name, name: 'Bo', role: 'member', joinedAt: T0 });
		a.deliverAll(mulberry32(1));
		b.deliverAll(mulberry32(2));
		expectConverged([a, b]);
		expect(a.roster.list().map((m) => m.peerId).sort()).toEqual([a.name, b.name, 'p-new'].sort());
		a.roster.rename(b.name, 'Bo (laptop)');
		b.roster.rename(b.name, 'Bo B.');
		a.deliverAll(mulberry32(3));
		b.deliverAll(mulberry32(4));
		expectConverged([a, b]);
	});

	it('catch up through state-vector sync (sync step 1 / step 2)', () => {
		const [a, b] = track(mesh(2));
		for (let i = 0; i < 20; i++) (i % 2 ? a : b).post(`m${i}`);
		a.inbox = [];
		b.inbox = [];
		for (const kind of KINDS) {
			const toB = Y.encodeStateAsUpdate(a.docs[kind], Y.encodeStateVector(b.docs[kind]));
			const toA = Y.encodeStateAsUpdate(b.docs[kind], Y.encodeStateVector(a.docs[kind]));
			b.apply({ kind, update: toB });
			a.apply({ kind, update: toA });
		}
		expectConverged([a, b]);
		expect(a.view.top).toHaveLength(20);
	});
});

describe('three peers', () => {
	it('converge when several peers toggle reactions on the same message concurrently', () => {
		const [a, b, c] = track(mesh(3));
		const id = a.post('react to me');
		b.deliverAll(mulberry32(1));
		c.deliverAll(mulberry32(2));
		// b reacts then un-reacts while a and c react; c toggles twice (net on).
		toggleReaction(a.channel, id, '👍', a.name);
		toggleReaction(b.channel, id, '👍', b.name);
		toggleReaction(b.channel, id, '👍', b.name);
		toggleReaction(b.channel, id, '❤️', b.name);
		toggleReaction(c.channel, id, '👍', c.name);
		toggleReaction(c.channel, id, '❤️', c.name);
		toggleReaction(c.channel, id, '❤️', c.name);
		toggleReaction(c.channel, id, '❤️', c.name);
		c.deliverAll(mulberry32(3));
		a.deliverAll(mulberry32(4));
		b.deliverAll(mulberry32(5));
		expectConverged([a, b, c]);
		expect(a.view.reactions(id)).toEqual([
			{ emoji: '❤️', count: 2, peers: [b.name, c.name] },
			{ emoji: '👍', count: 2, peers: [a.name, c.name] }
		]);
	});

	it('converge when a reply, an edit and a delete arrive before the message they refer to', () => {
		const [a, b, c] = track(mesh(3));
		const root = a.post('root');
		b.deliverAll(mulberry32(1)); // b sees root; c does not yet
		b.post('reply', root);
		a.channel.edit(edit(root, a.name, a.clock.tick(), 'root edited'));
		softDelete(a.channel, root, { by: a.name, hlc: a.clock.tick(), sig: 'sig' });
		// c receives everything from a and b in reverse order: the reply and edit first.
		c.inbox = [...c.inbox].reverse();
		for (const d of c.inbox.splice(0)) c.apply(d);
		a.deliverAll(mulberry32(2));
		b.deliverAll(mulberry32(3));
		expectConverged([a, b, c]);
		const [shown] = snapshot(c.view);
		expect(shown).toMatchObject({ id: root, text: 'root edited', deleted: true });
		expect(shown.replies.map((r) => r.text)).toEqual(['reply']);
	});
});

describe('random concurrent editing (applyRandomTests style)', () => {
	const EMOJI = ['👍', '🎉', '❤️', '😂', '👀'];

	function randomOp(rand: () => number, p: Peer, knownIds: () => string[], step: number): void {
		const ids = knownIds();
		const r = rand();
		if (r < 0.25 || ids.length === 0) {
			p.post(`${p.name} says ${step}`);
		} else if (r < 0.35) {
			p.post(`${p.name} replies ${step}`, pick(rand, ids));
		} else if (r < 0.45) {
			// Edits by non-authors are written too: the view must ignore them the same way everywhere.
			const target = pick(rand, ids);
			p.channel.edit(edit(target, p.name, p.clock.tick(), `edit ${step} by ${p.name}`));
		} else if (r < 0.52) {
			softDelete(p.channel, pick(rand, ids), { by: p.name, hlc: p.clock.tick(), sig: 'sig' });
		} else if (r < 0.75) {
			toggleReaction(p.channel, pick(rand, ids), pick(rand, EMOJI), p.name);
		} else if (r < 0.82) {
			const id = `ch-${p.name}-${step}`;
			p.workspace.createChannel(channelInfo(id, `chan ${step}`, T0 + step, p.name));
		} else if (r < 0.9) {
			const channels = p.workspace.listChannels(anyChannel);
			if (channels.length > 0) {
				const c = pick(rand, channels);
				if (rand() < 0.5) updateChannel(p.workspace, c.id, { name: `renamed ${step} by ${p.name}` });
				else updateChannel(p.workspace, c.id, { archived: !c.archived });
			}
		} else if (r < 0.96) {
			const who = pick(rand, ['peer-a', 'peer-b', 'peer-c', 'guest-1']);
			p.roster.upsert({ peerId: who, name: `${who} v${step}`, role: 'member', joinedAt: T0 + step });
		} else {
			(p.channel.messages as Y.Array<unknown>).push([{ id: `junk-${p.name}-${step}`, text: 5 }]);
		}
	}

	for (let seed = 1; seed <= 30; seed++) {
		it(`seed ${seed}`, () => {
			const rand = mulberry32(seed);
			let now = T0;
			const peers = track(mesh(3, () => now));
			const knownIds = (p: Peer) => () => [...p.view.byId.keys()];
			for (let step = 0; step < 150; step++) {
				now += Math.floor(rand() * 50) - 10; // clocks sometimes step backwards
				const r = rand();
				const p = pick(rand, peers);
				if (r < 0.7) randomOp(rand, p, knownIds(p), step);
				else p.deliverSome(rand, 1 + Math.floor(rand() * 6));
			}
			for (const p of shuffle(rand, peers)) p.deliverAll(rand);
			expectConverged(peers, `seed ${seed}`);
			const shown = snapshot(peers[0].view);
			expect(shown.length).toBeGreaterThan(0);
			expect(peers[0].view.rejected).toBe(peers[1].view.rejected);
		});
	}
});
