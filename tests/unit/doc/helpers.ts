/** Shared helpers for the document-layer tests: record builders and plain snapshots of views. */
import * as Y from 'yjs';
import { ChannelDoc, readReaction } from '../../../src/lib/doc/ChannelDoc.js';
import { ChannelView } from '../../../src/lib/doc/ChannelView.js';
import { generateDeviceKey, peerIdOfKey, type DeviceKey } from '../../../src/lib/doc/deviceKey.js';
import { compareHlc, formatHlc } from '../../../src/lib/doc/hlc.js';
import type { ChannelSettingValues, DeletionMark, EditRecord, MessageRecord } from '../../../src/lib/doc/schema.js';
import { deletionMarks, signEdit, signMessage } from '../../../src/lib/doc/signature.js';
import type { ChannelRules, WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';

/** A fixed epoch for readable clocks. */
export const T0 = Date.UTC(2025, 0, 1);

/** An encoded clock `ms` milliseconds after {@link T0}. */
export function at(ms: number, node = 'peer-a', counter = 0): string {
	return formatHlc({ wall: T0 + ms, counter, node });
}

/** A new device: its key (which signs records) and its peer id. */
export function identity(): { key: DeviceKey; id: string } {
	const key = generateDeviceKey();
	return { key, id: peerIdOfKey(key) };
}

/** A device that signs (see {@link identity}). */
export type Signer = ReturnType<typeof identity>;

/** A message record signed by `who` in document `docId` (what indexes that check signatures take). */
export function signedMsg(docId: string, id: string, who: Signer, hlc: string, text = `text of ${id}`, parent?: string): Promise<MessageRecord> {
	return signMessage(who.key, { id, author: who.id, hlc, text, ...(parent !== undefined ? { parent } : {}) }, docId);
}

/** An edit record signed by `who`. */
export function signedEdit(msgId: string, who: Signer, hlc: string, text: string): Promise<EditRecord> {
	return signEdit(who.key, { msg: msgId, author: who.id, hlc, text });
}

/** A deletion mark of `who`, signed: it hides the message, or with `deleted` false shows it again. */
export function signedDeletion(msgId: string, who: Signer, hlc: string, deleted = true): Promise<DeletionMark> {
	return deletionMarks.sign(who.key, { msg: msgId, by: who.id, hlc, deleted });
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
	return list[Math.floor(rand() * list.length)]!;
}

/** Shuffles a copy of `list`. */
export function shuffle<T>(rand: () => number, list: readonly T[]): T[] {
	const out = [...list];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(rand() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** Clock of the marks the helpers below write (each newer than the last). */
let markClock = 5_000_000;

/**
 * Turns `by`'s reaction on when its newest mark is off (or missing) and off when on, with an
 * unsigned mark newer than every mark written before; returns whether it is now on.
 */
export function toggleReaction(channel: ChannelDoc, msgId: string, emoji: string, by: string): boolean {
	let newest: { hlc: string; on: boolean } | undefined;
	channel.reactions.forEach((value, key) => {
		const mark = readReaction(key, value);
		if (mark && mark.msg === msgId && mark.emoji === emoji && mark.by === by && (!newest || compareHlc(mark.hlc, newest.hlc) > 0)) newest = mark;
	});
	const on = !(newest?.on ?? false);
	channel.markReaction({ msg: msgId, emoji, by, hlc: at(markClock++, by), on, sig: 'sig' });
	return on;
}

/** Hides a message with an unsigned deletion mark of `deletion.by` at `deletion.hlc`. */
export function softDelete(channel: ChannelDoc, msgId: string, deletion: { by: string; hlc: string; sig: string }): void {
	channel.markDeletion({ msg: msgId, by: deletion.by, hlc: deletion.hlc, deleted: true, sig: deletion.sig });
}

/** Changes channel settings with unsigned settings marks of `by`, each newer than every mark before. */
export function updateChannel(ws: WorkspaceDoc, id: string, patch: Partial<ChannelSettingValues>, by = 'peer-a'): void {
	for (const [field, value] of Object.entries(patch) as Array<[keyof ChannelSettingValues, string | boolean]>) {
		ws.markSetting({ channel: id, field, value, by, hlc: at(markClock++, by), sig: 'sig' });
	}
}

/** Test marks are unsigned: take every one (the app takes admins' signed ones, channelRights.ts). */
export const anyMark = (): boolean => true;

/** Test channels are unsigned: list every one, with every mark (the app's rules: channelRights.ts `channelRules`). */
export const anyChannel: ChannelRules = { settings: anyMark, creation: () => true };
