/** Shared helpers for the document-layer tests: record builders and plain snapshots of views. */
import * as Y from 'yjs';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { formatHlc } from '../../../src/lib/doc/hlc.js';
import type { EditRecord, MessageRecord } from '../../../src/lib/doc/schema.js';

/** A fixed epoch for readable clocks. */
export const T0 = Date.UTC(2025, 0, 1);

/** An encoded clock `ms` milliseconds after {@link T0}. */
export function at(ms: number, node = 'peer-a', counter = 0): string {
	return formatHlc({ wall: T0 + ms, counter, node });
}

/** A message record with a placeholder signature (views do not verify signatures). */
export function msg(id: string, author: string, hlc: string, text = `text of ${id}`, parent?: string): MessageRecord {
	const m: MessageRecord = { id, author, hlc, text, sig: 'sig' };
	if (parent !== undefined) m.parent = parent;
	return m;
}

/** An edit record with a placeholder signature. */
export function edit(msgId: string, author: string, hlc: string, text: string): EditRecord {
	return { msg: msgId, author, hlc, text, sig: 'sig' };
}

/** The visible state of one message, as a UI would show it. */
export interface VisibleMessage {
	id: string;
	author: string;
	text: string;
	deleted: boolean;
	reactions: { emoji: string; peers: string[] }[];
	replies: VisibleMessage[];
}

function visible(view: ChannelView, m: MessageRecord): VisibleMessage {
	return {
		id: m.id,
		author: m.author,
		text: view.text(m),
		deleted: view.deletion(m) !== undefined,
		reactions: view.reactions(m.id).map((r) => ({ emoji: r.emoji, peers: r.peers })),
		replies: view.repliesTo(m.id).map((r) => visible(view, r))
	};
}

/** A channel view as plain data, for equality checks. */
export function snapshot(view: ChannelView): VisibleMessage[] {
	return view.top.map((m) => visible(view, m));
}

/** A fresh view of `doc`, built from scratch. */
export function freshSnapshot(doc: Y.Doc): VisibleMessage[] {
	const view = new ChannelView(new ChannelDoc(doc));
	const out = snapshot(view);
	view.destroy();
	return out;
}

export { mulberry32 } from '../../fixtures/random.js';

/** A random element of `list`. */
export function pick<T>(rand: () => number, list: readonly T[]): T {
	return list[Math.floor(rand() * list.length)];
}

/** Shuffles a copy of `list`. */
export function shuffle<T>(rand: () => number, list: readonly T[]): T[] {
	const out = [...list];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}
