import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc, reactionKey } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { MAX_TEXT_LENGTH } from '../../../src/lib/doc/validate.js';
import { at, edit, freshSnapshot, msg, mulberry32, pick, snapshot, softDelete, toggleReaction } from './helpers.js';

const ANA = 'peer-ana';
const BO = 'peer-bo';
const CY = 'peer-cy';

const views: ChannelView[] = [];

/** A new channel document with a live view over it. */
function setup() {
	const doc = new Y.Doc();
	const channel = new ChannelDoc(doc);
	const view = new ChannelView(channel);
	views.push(view);
	return { doc, channel, view };
}

afterEach(() => {
	for (const v of views.splice(0)) v.destroy();
});

describe('ordering', () => {
	it('sorts top-level messages by clock, not by insertion order (view built from scratch)', () => {
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		channel.postMany([
			msg('m3', ANA, at(300)),
			msg('m1', BO, at(100, BO)),
			msg('m4', CY, at(400, CY)),
			msg('m2', ANA, at(200))
		]);
		const view = new ChannelView(channel);
		views.push(view);
		expect(view.top.map((m) => m.id)).toEqual(['m1', 'm2', 'm3', 'm4']);
	});

	it('puts a late-arriving message with an old clock in its place', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.post(msg('m3', ANA, at(300)));
		channel.post(msg('m4', BO, at(400, BO)));
		channel.post(msg('m2', CY, at(200, CY)));
		channel.post(msg('m0', CY, at(50, CY)));
		expect(view.top.map((m) => m.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
	});

	it('orders equal wall times by counter, then by node', () => {
		const { channel, view } = setup();
		channel.post(msg('x', BO, at(100, BO, 0)));
		channel.post(msg('y', ANA, at(100, ANA, 1)));
		channel.post(msg('z', ANA, at(100, ANA, 0)));
		// at(100, ANA, 0) < at(100, BO, 0) because 'peer-ana' < 'peer-bo'.
		expect(view.top.map((m) => m.id)).toEqual(['z', 'x', 'y']);
	});

	it('keeps the first record when an id is posted twice', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100), 'original'));
		channel.post(msg('m1', ANA, at(100), 'again'));
		expect(view.top).toHaveLength(1);
		expect(view.text(view.top[0])).toBe('original');
	});

	it('answers firstAfter and latestHlc', () => {
		const { channel, view } = setup();
		expect(view.latestHlc()).toBe('');
		expect(view.firstAfter(at(0))).toBe(-1);
		channel.postMany([msg('a', ANA, at(100)), msg('b', ANA, at(200)), msg('c', ANA, at(300))]);
		channel.post(msg('r', BO, at(500, BO), 'reply', 'a'));
		expect(view.firstAfter(at(150))).toBe(1);
		expect(view.firstAfter(at(200))).toBe(2);
		expect(view.firstAfter(at(300))).toBe(-1);
		expect(view.latestHlc()).toBe(at(500, BO));
	});
});

describe('thread replies', () => {
	it('groups replies under their parent, in clock order, and keeps them out of the top level', () => {
		const { channel, view } = setup();
		channel.post(msg('p1', ANA, at(100)));
		channel.post(msg('p2', BO, at(110, BO)));
		channel.post(msg('r2', CY, at(300, CY), 'second', 'p1'));
		channel.post(msg('r1', BO, at(200, BO), 'first', 'p1'));
		channel.post(msg('q1', ANA, at(250), 'other thread', 'p2'));
		expect(view.top.map((m) => m.id)).toEqual(['p1', 'p2']);
		expect(view.repliesTo('p1').map((m) => m.id)).toEqual(['r1', 'r2']);
		expect(view.repliesTo('p1')).toHaveLength(2);
		expect(view.repliesTo('p2')).toHaveLength(1);
		expect(view.repliesTo('nope')).toEqual([]);
		expect(view.byId.get('r1')?.parent).toBe('p1');
	});

	it('keeps a reply that arrives before its parent', () => {
		const { channel, view } = setup();
		channel.post(msg('r1', BO, at(200, BO), 'early reply', 'p1'));
		expect(view.top).toEqual([]);
		channel.post(msg('p1', ANA, at(100)));
		expect(view.top.map((m) => m.id)).toEqual(['p1']);
		expect(view.repliesTo('p1').map((m) => m.id)).toEqual(['r1']);
	});
});

describe('edits', () => {
	it('shows the newest edit and keeps the whole history, oldest first', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100), 'v0'));
		channel.edit(edit('m1', ANA, at(300), 'v2'));
		channel.edit(edit('m1', ANA, at(200), 'v1'));
		const m1 = view.byId.get('m1');
		if (!m1) throw new Error('missing');
		expect(view.text(m1)).toBe('v2');
		expect(view.edits('m1').map((e) => e.text)).toEqual(['v1', 'v2']);
		expect(m1.text).toBe('v0');
	});

	it('ignores edits by anyone but the author, whether they arrive before or after the message', () => {
		const { channel, view } = setup();
		channel.edit(edit('m1', BO, at(150, BO), 'forged early'));
		channel.edit(edit('m1', ANA, at(160), 'real'));
		channel.post(msg('m1', ANA, at(100), 'v0'));
		channel.edit(edit('m1', BO, at(500, BO), 'forged late'));
		const m1 = view.byId.get('m1');
		if (!m1) throw new Error('missing');
		expect(view.text(m1)).toBe('real');
		expect(view.edits('m1').map((e) => e.author)).toEqual([ANA]);
		expect(snapshot(view)).toEqual(freshSnapshot(channel.doc));
	});

	it('returns the original text of a message never edited', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100), 'hello'));
		expect(view.text(view.top[0])).toBe('hello');
		expect(view.edits('m1')).toEqual([]);
	});
});

/** An (unsigned) deletion mark; the view does not check signatures (ChannelState does). */
const del = (msgId: string, by: string, hlc: string, deleted = true) => ({ msg: msgId, by, hlc, deleted, sig: 'sig' });
/** An (unsigned) reaction mark. */
const react = (msgId: string, emoji: string, by: string, hlc: string, on = true) => ({ msg: msgId, emoji, by, hlc, on, sig: 'sig' });

describe('soft delete', () => {
	it('marks a message deleted when its author deletes it, keeping it in history', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.post(msg('m2', ANA, at(200)));
		channel.markDeletion(del('m1', ANA, at(300)));
		expect(view.deletion(view.top[0]!)).toEqual(del('m1', ANA, at(300)));
		expect(view.deletion(view.top[1]!)).toBeUndefined();
		expect(view.top.map((m) => m.id)).toEqual(['m1', 'm2']);
	});

	it('shows a message again after a newer mark of its author, whatever order the marks arrive in', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markDeletion(del('m1', ANA, at(400), false));
		channel.markDeletion(del('m1', ANA, at(300)));
		expect(view.deletion(view.top[0]!)).toBeUndefined();
		expect(view.deletionMarks(view.top[0]!).map((r) => r.mark.hlc)).toEqual([at(400), at(300)]);
		channel.markDeletion(del('m1', ANA, at(500)));
		expect(view.deletion(view.top[0]!)?.hlc).toBe(at(500));
	});

	it('reads a deletion stored before marks (under the message id) as one that hides', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.deletions.set('m1', { by: ANA, hlc: at(300), sig: 'sig' });
		expect(view.deletionMarks(view.top[0]!)).toEqual([{ mark: del('m1', ANA, at(300)), legacy: true }]);
		expect(snapshot(view)[0]!.deleted).toBe(true);
	});

	it('ignores deletion by anyone else', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markDeletion(del('m1', BO, at(300, BO)));
		expect(view.deletion(view.top[0]!)).toBeUndefined();
		expect(snapshot(view)[0]!.deleted).toBe(false);
	});

	it('ignores malformed deletion entries and marks whose key does not name them', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.deletions.set('m1', { by: 42 });
		channel.deletions.set('m1\nx', 'yes');
		channel.deletions.set(`m1\n${ANA}\n${at(9)}`, del('m1', ANA, at(300)));
		expect(view.deletion(view.top[0]!)).toBeUndefined();
	});
});

describe('reactions', () => {
	it('turns a reaction on and off with newer marks', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markReaction(react('m1', '👍', BO, at(200, BO)));
		expect(view.reactions('m1')).toEqual([{ emoji: '👍', count: 1, peers: [BO] }]);
		channel.markReaction(react('m1', '👍', BO, at(300, BO), false));
		expect(view.reactions('m1')).toEqual([]);
	});

	it('counts several peers and emoji, listing who reacted', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markReaction(react('m1', '👍', CY, at(200, CY)));
		channel.markReaction(react('m1', '👍', BO, at(200, BO)));
		channel.markReaction(react('m1', '🎉', ANA, at(200, ANA)));
		channel.markReaction(react('m1', '👍', ANA, at(201, ANA)));
		const byEmoji = Object.fromEntries(view.reactions('m1').map((r) => [r.emoji, r]));
		expect(byEmoji['👍']).toEqual({ emoji: '👍', count: 3, peers: [ANA, BO, CY] });
		expect(byEmoji['🎉']).toEqual({ emoji: '🎉', count: 1, peers: [ANA] });
		expect(view.reactions('m2')).toEqual([]);
	});

	it('lists emoji in the same order however the reactions arrived', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markReaction(react('m1', '👍', BO, at(200, BO)));
		channel.markReaction(react('m1', '🎉', CY, at(201, CY)));
		channel.markReaction(react('m1', '👍', BO, at(202, BO), false)); // off: 👍 gone
		channel.markReaction(react('m1', '👍', ANA, at(203, ANA))); // back, after 🎉
		expect(snapshot(view)).toEqual(freshSnapshot(channel.doc));
	});

	it('passes over marks the caller does not trust, down to the newest genuine one', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markReaction(react('m1', '👍', BO, at(200, BO)));
		channel.markReaction({ ...react('m1', '👍', BO, at(300, BO), false), sig: 'forged' });
		expect(view.reactions('m1')).toEqual([]);
		expect(view.reactions('m1', (mark) => mark.sig !== 'forged')).toEqual([{ emoji: '👍', count: 1, peers: [BO] }]);
	});

	it('ignores malformed entries, unsigned entries from before marks, and marks under another key', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		expect(() => {
			channel.reactions.set('garbage', true);
			channel.reactions.set(`m1\n👍\n${BO}`, true);
			channel.reactions.set(reactionKey(react('m1', '🎉', CY, at(1))), 'true');
			channel.reactions.set(reactionKey(react('m1', '🎉', CY, at(1))) + 'x', react('m1', '🎉', CY, at(1)));
		}).not.toThrow();
		expect(view.reactions('m1')).toEqual([]);
	});
});

describe('moderation', () => {
	const mod = (m: string, by: string, hlc: string, hidden = true) => ({ msg: m, by, hlc, hidden, sig: 'sig' });

	it('lists every moderation mark of a message, newest first, whoever signed it (the caller checks rights)', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.markModeration(mod('m1', BO, at(300, BO)));
		channel.markModeration(mod('m1', CY, at(200, CY), false));
		channel.markModeration(mod('m1', BO, at(400, BO), false));
		expect(view.moderationMarks('m1').map((m) => [m.by, m.hlc, m.hidden])).toEqual([
			[BO, at(400, BO), false],
			[BO, at(300, BO), true],
			[CY, at(200, CY), false]
		]);
		expect(view.moderationMarks('m2')).toEqual([]);
	});

	it('ignores malformed marks and marks under another key', () => {
		const { channel, view } = setup();
		channel.post(msg('m1', ANA, at(100)));
		channel.moderation.set('m1', mod('m1', BO, at(300, BO)));
		channel.moderation.set(`m1\n${BO}\n${at(300, BO)}`, { ...mod('m1', BO, at(300, BO)), hidden: 'yes' });
		expect(view.moderationMarks('m1')).toEqual([]);
	});
});

describe('malformed records', () => {
	const bad: unknown[] = [
		null,
		42,
		'a string',
		true,
		[],
		new Uint8Array([1, 2, 3]),
		{},
		{ id: 'x1', author: ANA, hlc: at(1), text: 'no sig' },
		{ id: 'x2', author: ANA, hlc: at(1), sig: 's' },
		{ id: 7, author: ANA, hlc: at(1), text: 't', sig: 's' },
		{ id: 'x3', author: null, hlc: at(1), text: 't', sig: 's' },
		{ id: 'x4', author: ANA, hlc: 12345, text: 't', sig: 's' },
		{ id: 'x5', author: ANA, hlc: at(1), text: 42, sig: 's' },
		{ id: 'x6', author: ANA, hlc: at(1), text: 't', sig: 's', parent: 5 },
		{ id: 'x7', author: ANA, hlc: at(1), text: 't', sig: 's', parent: '' },
		{ id: '', author: ANA, hlc: at(1), text: 't', sig: 's' },
		{ id: 'x8', author: 'a'.repeat(201), hlc: at(1), text: 't', sig: 's' },
		{ id: 'x9', author: ANA, hlc: at(1), text: 'x'.repeat(MAX_TEXT_LENGTH + 1), sig: 's' }
	];

	it('skips and counts them in a view built from scratch, without throwing', () => {
		const doc = new Y.Doc();
		const channel = new ChannelDoc(doc);
		const messages = channel.messages as Y.Array<unknown>;
		messages.push([msg('ok1', ANA, at(100))]);
		messages.push(bad);
		messages.push([msg('ok2', ANA, at(200))]);
		(channel.edits as Y.Array<unknown>).push([null, { msg: 'ok1' }, edit('ok1', ANA, at(300), 'x'.repeat(MAX_TEXT_LENGTH + 1))]);
		let view: ChannelView | undefined;
		expect(() => (view = new ChannelView(channel))).not.toThrow();
		if (!view) throw new Error('no view');
		views.push(view);
		expect(view.top.map((m) => m.id)).toEqual(['ok1', 'ok2']);
		expect(view.rejected).toBe(bad.length + 3);
		expect(view.text(view.top[0])).toBe('text of ok1');
	});

	it('skips and counts them as they arrive, without throwing', () => {
		const { channel, view } = setup();
		const messages = channel.messages as Y.Array<unknown>;
		channel.post(msg('ok1', ANA, at(100)));
		for (const record of bad) expect(() => messages.push([record])).not.toThrow();
		expect(() => (channel.edits as Y.Array<unknown>).push([{ msg: 'ok1', text: 1 }, 'edit'])).not.toThrow();
		channel.post(msg('ok2', ANA, at(50)));
		expect(view.top.map((m) => m.id)).toEqual(['ok2', 'ok1']);
		expect(view.rejected).toBe(bad.length + 2);
	});

	it('accepts a message exactly at the text limit', () => {
		const { channel, view } = setup();
		channel.post(msg('big', ANA, at(1), 'x'.repeat(MAX_TEXT_LENGTH)));
		expect(view.top).toHaveLength(1);
		expect(view.rejected).toBe(0);
	});
});

describe('incremental updates', () => {
	it('notifies subscribers and stops after destroy', () => {
		const { channel, view } = setup();
		const versions: number[] = [];
		const unsubscribe = view.subscribe((v) => versions.push(v.version));
		channel.post(msg('m1', ANA, at(100)));
		toggleReaction(channel, 'm1', '👍', BO);
		softDelete(channel, 'm1', { by: ANA, hlc: at(200), sig: 'sig' });
		channel.edit(edit('m1', ANA, at(150), 'edited'));
		expect(versions).toHaveLength(4);
		expect(versions).toEqual([...versions].sort((a, b) => a - b));
		unsubscribe();
		channel.post(msg('m2', ANA, at(300)));
		expect(versions).toHaveLength(4);
		view.destroy();
		const before = view.top.length;
		channel.post(msg('m3', ANA, at(400)));
		expect(view.top.length).toBe(before);
	});

	it('matches a view built from scratch after many random changes', () => {
		for (let seed = 1; seed <= 20; seed++) {
			const rand = mulberry32(seed);
			const { doc, channel, view } = setup();
			const peers = [ANA, BO, CY];
			const ids: string[] = [];
			for (let step = 0; step < 120; step++) {
				const r = rand();
				const who = pick(rand, peers);
				const when = Math.floor(rand() * 10_000);
				if (r < 0.35 || ids.length === 0) {
					const id = `m${step}`;
					const parent = ids.length > 0 && rand() < 0.3 ? pick(rand, ids) : undefined;
					channel.post(msg(id, who, at(when, who, step), `t${step}`, parent));
					ids.push(id);
				} else if (r < 0.5) {
					channel.edit(edit(pick(rand, ids), who, at(when, who, step), `e${step}`));
				} else if (r < 0.6) {
					softDelete(channel, pick(rand, ids), { by: who, hlc: at(when, who, step), sig: 'sig' });
				} else if (r < 0.95) {
					toggleReaction(channel, pick(rand, ids), pick(rand, ['👍', '🎉', '❤️', '😂']), who);
				} else {
					(channel.messages as Y.Array<unknown>).push([{ id: `junk${step}` }]);
				}
			}
			const scratch = new ChannelView(channel);
			views.push(scratch);
			expect(snapshot(view), `seed ${seed}`).toEqual(snapshot(scratch));
			expect(view.rejected).toBe(scratch.rejected);
			expect(view.top.map((m) => m.hlc)).toEqual([...view.top.map((m) => m.hlc)].sort());
			expect(freshSnapshot(doc)).toEqual(snapshot(view));
		}
	});
});
