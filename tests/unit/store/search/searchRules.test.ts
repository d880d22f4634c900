/**
 * Search follows the channel's rules, as the view, the model's tools and exports do
 * (channelRights.ts `editShows` / `shownText`), against a member with a modified client:
 * edits the rules refuse are never indexed, the index follows the rules when they change
 * later (a settings mark, a role), AI chats count only signed records, and a flood of
 * large texts is indexed in bounded steps. Real documents (DocStore over fake-indexeddb), a
 * real signed team (its fold decides roles), real signatures.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { AiRole, AiThreadDoc } from '../../../../src/lib/doc/AiThreadDoc';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { archivedSpans, readOnlySpans, shownText, type PostingRules } from '../../../../src/lib/doc/channelRights';
import { ChannelView } from '../../../../src/lib/doc/ChannelView';
import { newId } from '../../../../src/lib/doc/ids';
import { NoteDoc } from '../../../../src/lib/doc/NoteDoc';
import { AiRecordKind, type ChannelSettingValues } from '../../../../src/lib/doc/schema';
import { signAiRecord, signChannelEntry, signEdit, signMessage, signSettingsMark } from '../../../../src/lib/doc/signature';
import { answerIdFor } from '../../../../src/lib/doc/recordChoice';
import { foldTeam } from '../../../../src/lib/doc/team/fold';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore } from '../../../../src/lib/store/DocStore';
import { SearchIndex, type IndexChange } from '../../../../src/lib/store/search/SearchIndex';
import { APPLY_CHUNK_CHARS, SearchIndexer } from '../../../../src/lib/store/search/SearchIndexer';
import { MAX_ENTRY_TEXT } from '../../../../src/lib/store/search/rows';
import { at, signedEdit, signedMsg } from '../../doc/helpers';
import { team, type Signer } from '../../doc/channelAttacks/team';
import { admission, invitation, newDevice, write } from '../../doc/team/teamKit';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

type Team = Awaited<ReturnType<typeof team>>;

/** A workspace of a real team: its root, a channel the owner made, and the rules as WorkspaceState.postingRules builds them. */
async function world(t: Team, dbName = `rules-${newId()}`) {
	const db = new OutpostDb(dbName);
	const docs = new DocStore(`${dbName}:`);
	docs.onError = () => undefined;
	const wsId = newId();
	const rootHandle = docs.open(wsId);
	await rootHandle.ready;
	cleanups.push(() => {
		docs.closeAll();
		db.close();
	});
	const root = new WorkspaceDoc(rootHandle.doc);
	const channelId = newId();
	root.createChannel(await signChannelEntry(t.owner.key, { id: channelId, name: 'announcements', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.owner.id }));
	/** The team as folded now (a test may fold it again after a role change). */
	let roleOf: (peerId: string) => string | undefined = t.roleOf;
	const rules = (id: string): PostingRules => ({ roleOf, postedEver: (p) => roleOf(p) !== undefined, readOnly: readOnlySpans(root, id, roleOf), archived: archivedSpans(root, id, roleOf) });
	/** Listeners of the team's "change" event (WorkspaceState passes TeamAuthority's). */
	const teamListeners = new Set<() => void>();
	const handle = docs.open(channelId);
	await handle.ready;
	cleanups.push(() => docs.release(handle));
	return {
		db,
		docs,
		wsId,
		root,
		channelId,
		channel: new ChannelDoc(handle.doc),
		rules,
		watchRules: (changed: () => void) => {
			teamListeners.add(changed);
			return () => teamListeners.delete(changed);
		},
		/** The team changed: roles are those of `next`. */
		teamChanged(next: (peerId: string) => string | undefined) {
			roleOf = next;
			for (const l of teamListeners) l();
		},
		/** The owner turns a flag of the channel on or off at clock `ms` (its signed settings mark lands in the root). */
		async mark(field: keyof Pick<ChannelSettingValues, 'readOnly' | 'archived'>, value: boolean, ms: number) {
			root.markSetting(await signSettingsMark(t.owner.key, { channel: channelId, field, value, by: t.owner.id, hlc: at(ms, t.owner.id) }));
		}
	};
}

type World = Awaited<ReturnType<typeof world>>;

async function startIndexer(w: World) {
	const index = await SearchIndex.open({ db: w.db, workspaceId: w.wsId, snapshotDelayMs: 50 });
	const applied: IndexChange[] = [];
	const apply = index.apply.bind(index);
	index.apply = (change) => {
		applied.push(change);
		return apply(change);
	};
	const errors: Error[] = [];
	const indexer = new SearchIndexer({ docs: w.docs, root: w.root, index, delayMs: 10, onError: (e) => errors.push(e), rules: w.rules, watchRules: w.watchRules });
	const stop = async () => {
		await indexer.stop();
		await index.close();
		expect(errors).toEqual([]);
	};
	cleanups.push(stop);
	await indexer.start();
	return { index, indexer, applied, stop };
}

const ids = (hits: { itemId: string }[]) => hits.map((h) => h.itemId).sort();

/** What the channel view shows of message `id` under the same rules (channelRights.ts `shownText`). */
function viewText(w: World, id: string): string {
	const view = new ChannelView(w.channel);
	try {
		return shownText(view, view.byId.get(id)!, w.rules(w.channelId));
	} finally {
		view.destroy();
	}
}

async function post(w: World, who: Signer, id: string, ms: number, text: string) {
	w.channel.post(await signedMsg(w.channelId, id, who, at(ms, who.id), text));
}

async function edit(w: World, who: Signer, id: string, ms: number, text: string) {
	w.channel.edit(await signedEdit(id, who, at(ms, who.id), text));
}

describe('search and the channel’s rules', () => {
	it('does not index an edit dated while the channel is read-only or archived, unless the rules let its author post then', async () => {
		const t = await team();
		const w = await world(t);
		const { index, indexer } = await startIndexer(w);
		await post(w, t.member, 'old', 100, 'welcome everyone');
		await post(w, t.admin, 'notice', 110, 'harbour notice');
		await edit(w, t.member, 'old', 150, 'welcome aboard everyone');
		await w.mark('readOnly', true, 200);
		// A member's modified client rewrites the old post after the channel went read-only.
		await edit(w, t.member, 'old', 300, 'URGENT payroll portal at evil.example');
		// Admins post in a read-only channel: an admin's edit then shows.
		await edit(w, t.admin, 'notice', 310, 'harbour notice updated');
		await indexer.flush();
		expect(await index.search('payroll')).toEqual([]);
		expect(ids(await index.search('aboard'))).toEqual(['old']);
		expect((await index.search('aboard'))[0]?.text).toBe(viewText(w, 'old'));
		expect(ids(await index.search('updated'))).toEqual(['notice']);

		// Archived: nobody's edit shows, an admin's neither.
		await w.mark('archived', true, 400);
		await edit(w, t.admin, 'notice', 500, 'harbour notice rewritten');
		await indexer.flush();
		expect(await index.search('rewritten')).toEqual([]);
		expect((await index.search('harbour'))[0]?.text).toBe(viewText(w, 'notice'));
	});

	it('indexes a message again when a settings mark arrives later that refuses (or again allows) its edit', async () => {
		const t = await team();
		const w = await world(t);
		const { index, indexer } = await startIndexer(w);
		await post(w, t.member, 'm1', 100, 'the meeting is at the dock');
		await edit(w, t.member, 'm1', 300, 'the meeting moved to the lagoon');
		await indexer.flush();
		expect(ids(await index.search('lagoon'))).toEqual(['m1']);

		// The owner's read-only mark, dated before the edit, arrives late (it synced after the edit).
		await w.mark('readOnly', true, 200);
		await indexer.flush();
		expect(viewText(w, 'm1')).toBe('the meeting is at the dock');
		expect(await index.search('lagoon')).toEqual([]);
		expect(ids(await index.search('dock'))).toEqual(['m1']);

		// The owner's mark making it writable again, dated before the edit: the edit shows again.
		await w.mark('readOnly', false, 250);
		await indexer.flush();
		expect(viewText(w, 'm1')).toBe('the meeting moved to the lagoon');
		expect(ids(await index.search('lagoon'))).toEqual(['m1']);
	});

	it('indexes a message again when its editor’s role changes', async () => {
		const t = await team();
		const w = await world(t);
		const { index, indexer } = await startIndexer(w);
		await w.mark('readOnly', true, 200);
		await post(w, t.admin, 'a1', 100, 'bearing north');
		await edit(w, t.admin, 'a1', 300, 'bearing north by the compass');
		await indexer.flush();
		expect(ids(await index.search('compass'))).toEqual(['a1']);

		// The owner makes the admin a plain member: her edit in the read-only span no longer shows.
		const adminMember = t.folded.devices.get(t.admin.id)!;
		const owner = { peerId: t.owner.id, key: t.owner.key as unknown as Parameters<typeof write>[0]['key'] };
		const ops = [...t.ops, await write(owner, t.ws, t.ops, { t: 'role', member: adminMember, role: 'member' }, 5_000)];
		const folded = foldTeam(t.ws, ops);
		w.teamChanged((p) => {
			const id = folded.devices.get(p);
			return id === undefined ? undefined : folded.members.get(id)?.role;
		});
		expect(w.rules(w.channelId).roleOf(t.admin.id)).toBe('member');
		await indexer.flush();
		expect(viewText(w, 'a1')).toBe('bearing north');
		expect(await index.search('compass')).toEqual([]);
		expect(ids(await index.search('bearing'))).toEqual(['a1']);
	});

	it('indexes a channel again on the next start when its rules changed while search was closed', async () => {
		const t = await team();
		const dbName = `rules-${newId()}`;
		const w = await world(t, dbName);
		await post(w, t.member, 'm1', 100, 'the meeting is at the dock');
		await edit(w, t.member, 'm1', 300, 'the meeting moved to the lagoon');
		const first = await startIndexer(w);
		expect(ids(await first.index.search('lagoon'))).toEqual(['m1']);
		await first.stop();
		await new Promise((r) => setTimeout(r, 50));

		// Nothing new is stored in the channel; the root gets the read-only mark.
		await w.mark('readOnly', true, 200);
		const second = await startIndexer(w);
		expect(await second.index.search('lagoon')).toEqual([]);
		expect(ids(await second.index.search('dock'))).toEqual(['m1']);
	});

	it('indexes the text a model’s answer ends with, posted by a relay for the member who asked', async () => {
		const t = await team();
		const w = await world(t);
		// The team admits a relay device (as the owner's relay invitation does).
		const owner = { peerId: t.owner.id, key: t.owner.key as unknown as Parameters<typeof write>[0]['key'] };
		const relay = await newDevice();
		const invite = invitation('relay');
		const ops = [...t.ops];
		ops.push(await write(owner, t.ws, ops, invite.body, 5_000));
		ops.push(await admission(relay, t.ws, ops, invite, 6_000));
		const folded = foldTeam(t.ws, ops);
		w.teamChanged((p) => {
			const id = folded.devices.get(p);
			return id === undefined ? undefined : folded.members.get(id)?.role;
		});
		expect(w.rules(w.channelId).roleOf(relay.peerId)).toBe('relay');
		const { index, indexer } = await startIndexer(w);
		const host = relay.key as unknown as Signer['key'];
		const question = await signMessage(t.member.key, { id: 'q1', author: t.member.id, hlc: at(100, t.member.id), text: '@tides when is high water?', ask: { model: 'tides', host: relay.peerId } }, w.channelId);
		const answerId = answerIdFor(t.member.id, relay.peerId);
		const answer = await signMessage(host, { id: answerId, author: relay.peerId, hlc: at(110, relay.peerId), text: '', model: 'tides', askedBy: t.member.id, question: 'q1' }, w.channelId);
		w.channel.postMany([question, answer]);
		w.channel.edit(await signEdit(host, { msg: answerId, author: relay.peerId, hlc: at(120, relay.peerId), text: 'High water is at noon' }));
		await indexer.flush();
		expect(viewText(w, answerId)).toBe('High water is at noon');
		expect(ids(await index.search('noon'))).toEqual([answerId]);
	});

	it('indexes only AI-chat messages whose signed record checks out', async () => {
		const t = await team();
		const w = await world(t);
		const threadId = newId();
		w.root.createAiThread({ id: threadId, title: 'Chat', createdAt: 1 });
		const handle = w.docs.open(threadId);
		await handle.ready;
		cleanups.push(() => w.docs.release(handle));
		const thread = new AiThreadDoc(handle.doc);
		const { index, indexer } = await startIndexer(w);
		thread.addRecord(await signAiRecord(t.member.key, { kind: AiRecordKind.user, id: 'q1', author: t.member.id, hlc: at(1), text: 'where is the spare anchor?' }, threadId));
		// Anyone can write a live entry, or a record claiming another's name: the chat marks them unsigned.
		thread.append({ id: 'x1', role: AiRole.user, hlc: at(2), author: t.owner.id, text: 'anchor money goes to account 666' });
		thread.addRecord({ kind: AiRecordKind.user, id: 'x2', author: t.owner.id, hlc: at(3), text: 'anchor wire instructions attached', sig: 'forged' });
		thread.addRecord(await signAiRecord(t.guest.key, { kind: AiRecordKind.user, id: 'x3', author: t.owner.id, hlc: at(4), text: 'anchor signed by someone else' }, threadId));
		await indexer.flush();
		expect(ids(await index.search('anchor'))).toEqual(['q1']);
	});

	it('writes and indexes many large texts in bounded steps, and cuts a huge note', async () => {
		const t = await team();
		const w = await world(t);
		const { index, indexer, applied } = await startIndexer(w);
		applied.length = 0;
		// A member's modified client posts 30 messages of 40,000 characters (the most a message holds).
		const big = (i: number) => `flood${i} ` + 'x'.repeat(39_990);
		w.channel.postMany(await Promise.all(Array.from({ length: 30 }, (_, i) => signedMsg(w.channelId, `f${i}`, t.member, at(i, t.member.id), big(i)))));
		await indexer.flush();
		const sizes = applied.map((c) => (c.put ?? []).reduce((n, e) => n + e.text.length, 0));
		expect(sizes.length).toBeGreaterThan(1);
		for (const size of sizes) expect(size).toBeLessThanOrEqual(APPLY_CHUNK_CHARS);
		expect(ids(await index.search('flood7'))).toEqual(['f7']);

		const noteId = newId();
		w.root.createNote({ id: noteId, title: 'Log', createdAt: 1, updatedAt: 2 });
		const handle = w.docs.open(noteId);
		await handle.ready;
		cleanups.push(() => w.docs.release(handle));
		const note = new NoteDoc(handle.doc);
		note.title = 'Log';
		note.body.insert(0, 'keel report ' + 'y '.repeat(500_000));
		await indexer.flush();
		const [row] = await index.entries(noteId, [noteId]);
		expect(row?.text.length).toBe(MAX_ENTRY_TEXT);
		expect(ids(await index.search('keel'))).toEqual([noteId]);
	});
});
