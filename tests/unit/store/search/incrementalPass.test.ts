/**
 * A search pass costs what arrived, not the channel (ChannelRecords.ts), and still gives what
 * a whole read gives. Found in review: a pass carrying an edit of an indexed message read the
 * channel's records whole, once per indexing delay while a member kept editing.
 *
 * - After a seeded run of posts, replies, edits (the author's and others'), deletion marks and
 *   their undoing (the author's and others'), moderation marks, forged copies of ids, late
 *   read-only and archived marks and role changes, indexed pass by pass, some writes made while a
 *   pass reads and marks removed by this device's own write, the index holds what an index built
 *   afresh from the same documents holds.
 * - A pass carrying one edit, one deletion mark or one moderation mark of a long channel reads
 *   none of its arrays or maps whole (every read of one is counted), in search and in workspace
 *   knowledge (KnowledgeIndexer reads channels with the same extraction).
 * - After a seeded run of questions (some arriving after their answers), answers of the relay
 *   and of members' devices (in their question's window and past it, second ones), their edits
 *   (before the answer, in the window, past it), questions taken back and given back by their
 *   askers and moderators, read-only marks, moderators' role changes and askers' copies of their
 *   questions' ids placed before them, the index holds what one built afresh holds and each
 *   message's text as the channel view shows it.
 * - An answer's edits are weighed again when its question is taken back or given back, or the
 *   role of the moderator who hid it changes (found in review: search did not know of questions
 *   taken back).
 * - An edit dated before its message, or of the held edit's clock, is taken as a whole read
 *   takes it (found in review: only an edit dated after the held text was taken).
 * - A message its author restores comes back, whoever else marked it deleted.
 * - What is kept of a loaded channel is read again whole once an item of it is deleted, and a
 *   pass over it then reads it whole, in search and knowledge (found in review: a mark removed by
 *   this device's own write stayed in force).
 * - What arrives while a pass reads is read by the next (found in review: the pass stored the
 *   state vector it ended at).
 * - A pass checks each edit's signature once, and weighs again for a mark on a question or a
 *   record naming it only the records that may answer it as asked (found in review: costs a
 *   member could force on every pass).
 *
 * Real documents (DocStore over fake-indexeddb), a real signed team, real signatures.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { KnowledgeIndex } from '../../../../src/lib/knowledge/KnowledgeIndex';
import { KnowledgeIndexer } from '../../../../src/lib/knowledge/KnowledgeIndexer';
import { MemoryVectorStore } from '../../../../src/lib/knowledge/VectorStore';
import { archivedSpans, readOnlySpans, shownText, withQuestions, type PostingRules } from '../../../../src/lib/doc/channelRights';
import { ChannelView } from '../../../../src/lib/doc/ChannelView';
import { answerIdFor } from '../../../../src/lib/doc/recordChoice';
import type { MessageRecord } from '../../../../src/lib/doc/schema';
import { newId, newIdFor } from '../../../../src/lib/doc/ids';
import type { ChannelSettingValues } from '../../../../src/lib/doc/schema';
import { moderationMarks, signChannelEntry, signEdit, signMessage, signSettingsMark } from '../../../../src/lib/doc/signature';
import { foldTeam } from '../../../../src/lib/doc/team/fold';
import type { TeamOp } from '../../../../src/lib/doc/team/ops';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore } from '../../../../src/lib/store/DocStore';
import { channelRecords } from '../../../../src/lib/store/search/ChannelRecords';
import { channelChanges, type EntryLookup } from '../../../../src/lib/store/search/extract';
import { SearchIndex } from '../../../../src/lib/store/search/SearchIndex';
import { SearchIndexer } from '../../../../src/lib/store/search/SearchIndexer';
import { at, mulberry32, signedDeletion, signedEdit, signedMsg } from '../../doc/helpers';
import { team, throwaway, type Signer } from '../../doc/channelAttacks/team';
import { write } from '../../doc/team/teamKit';
import { HashEmbedder } from '../../knowledge/hashEmbedder';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	vi.restoreAllMocks();
	for (const c of cleanups.splice(0).reverse()) await c();
});

type Team = Awaited<ReturnType<typeof team>>;

/** A workspace of a real team with one channel the owner made; roles follow the team's operations. */
async function world(t: Team, extraRoles: Record<string, string> = {}) {
	const docs = new DocStore(`incremental-${newId()}:`);
	docs.onError = () => undefined;
	const wsId = newId();
	const rootHandle = docs.open(wsId);
	await rootHandle.ready;
	cleanups.push(() => docs.closeAll());
	const root = new WorkspaceDoc(rootHandle.doc);
	const channelId = newId();
	root.createChannel(await signChannelEntry(t.owner.key, { id: channelId, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.owner.id }));
	const ops: TeamOp[] = [...t.ops];
	let teamRoleOf = t.roleOf;
	/** Roles as the team has them, and those the test gives devices outside it (a relay). */
	const roleOf = (p: string) => extraRoles[p] ?? teamRoleOf(p);
	const rules = (id: string): PostingRules => ({ roleOf, postedEver: (p) => roleOf(p) !== undefined, readOnly: readOnlySpans(root, id, roleOf), archived: archivedSpans(root, id, roleOf) });
	const teamListeners = new Set<() => void>();
	const handle = docs.open(channelId);
	await handle.ready;
	cleanups.push(() => docs.release(handle));
	const owner = { peerId: t.owner.id, key: t.owner.key as unknown as Parameters<typeof write>[0]['key'] };
	return {
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
		/** The owner gives `who`'s member role `role` (a signed team operation, folded). */
		async setRole(who: Signer, role: 'admin' | 'member' | 'guest', ms: number) {
			ops.push(await write(owner, t.ws, ops, { t: 'role', member: t.folded.devices.get(who.id)!, role }, ms));
			const folded = foldTeam(t.ws, ops);
			teamRoleOf = (p) => {
				const id = folded.devices.get(p);
				return id === undefined ? undefined : folded.members.get(id)?.role;
			};
			for (const l of teamListeners) l();
		},
		async mark(field: keyof Pick<ChannelSettingValues, 'readOnly' | 'archived'>, value: boolean, ms: number) {
			root.markSetting(await signSettingsMark(t.owner.key, { channel: channelId, field, value, by: t.owner.id, hlc: at(ms, t.owner.id) }));
		}
	};
}

type World = Awaited<ReturnType<typeof world>>;

/**
 * The world's documents copied into a store of their own: loaded afresh, so nothing kept of the
 * loaded channel (ChannelRecords.ts) is shared with the world's.
 */
async function copyOf(w: World): Promise<Pick<World, 'docs' | 'root'>> {
	const docs = new DocStore(`copy-${newId()}:`);
	docs.onError = () => undefined;
	cleanups.push(() => docs.closeAll());
	const [root, channel] = [docs.open(w.wsId), docs.open(w.channelId)];
	await Promise.all([root.ready, channel.ready]);
	Y.applyUpdate(root.doc, Y.encodeStateAsUpdate(w.root.doc));
	Y.applyUpdate(channel.doc, Y.encodeStateAsUpdate(w.channel.doc));
	return { docs, root: new WorkspaceDoc(root.doc) };
}

/** A search index of the world in its own database, with an indexer following the world's rules (over `docs`, the world's by default). */
async function startSearch(w: World, docs: Pick<World, 'docs' | 'root'> = w) {
	const db = new OutpostDb(`incremental-${newId()}`);
	const index = await SearchIndex.open({ db, workspaceId: w.wsId, snapshotDelayMs: 3_600_000 });
	const errors: Error[] = [];
	/** Writes to make while the next pass reads the stored entries of the index (a wait, as a peer's update can arrive in). */
	const midPass: (() => Promise<void>)[] = [];
	/** The ids of every read of stored entries (what a pass weighs of what it held). */
	const lookedUp: string[][] = [];
	const seen = new Proxy(index, {
		get(target, prop) {
			if (prop === 'entries')
				return async (...args: Parameters<SearchIndex['entries']>) => {
					for (const write of midPass.splice(0)) await write();
					lookedUp.push(args[1]);
					return target.entries(...args);
				};
			const value: unknown = Reflect.get(target, prop, target);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
	const indexer = new SearchIndexer({ docs: docs.docs, root: docs.root, index: seen, delayMs: 3_600_000, onError: (e) => errors.push(e), rules: w.rules, watchRules: w.watchRules });
	const stop = async () => {
		await indexer.stop();
		await index.close();
		db.close();
		expect(errors).toEqual([]);
	};
	cleanups.push(stop);
	await indexer.start();
	/** Every stored entry, in a fixed order. */
	const entries = async () =>
		(await db.searchEntries.where('workspaceId').equals(w.wsId).toArray())
			.map(({ id: _id, workspaceId: _ws, ...entry }) => entry)
			.sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
	return { index, indexer, entries, stop, midPass, lookedUp };
}

describe('an indexing pass', () => {
	it('gives what an index built afresh gives, after a seeded run of posts, edits, marks and rule changes', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		const rand = mulberry32(7);
		const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
		const people = [t.owner, t.admin, t.member, t.guest];
		const authorOf = new Map<string, Signer>();
		/** The id a member's next post takes, where a copy took it first. */
		const next = new Map<Signer, string>();
		let now = 1_000;
		/** The channel had a write since the last pass (so a flush runs one). */
		let written = false;
		for (let step = 0; step < 220; step++) {
			now += 10;
			const r = rand();
			const ids = [...authorOf.keys()];
			// Sometimes a write arrives while the next pass reads (found in review: the pass stored
			// the state vector it ended at, so what arrived meanwhile was never read).
			const deferred = written && ids.length >= 4 && r < 0.82 && rand() < 0.25;
			// The step's write, dated at this step's clock even when made later, in a pass.
			const act = async (now: number) => {
				if (ids.length < 4 || r < 0.3) {
					const who = pick(people);
					// Ids bound to their author, as clients make them (a copy made earlier may hold it already).
					const id = next.get(who) ?? newIdFor(who.id);
					next.delete(who);
					w.channel.post(await signedMsg(w.channelId, id, who, at(now, who.id), `post ${step} word${step}`, ids.length > 0 && rand() < 0.2 ? pick(ids) : undefined));
					authorOf.set(id, who);
				} else if (r < 0.55) {
					const id = pick(ids);
					// Mostly the author's edit, sometimes another's (which never counts).
					const who = rand() < 0.8 ? authorOf.get(id)! : pick(people);
					w.channel.edit(await signedEdit(id, who, at(now, who.id), `edit ${step} word${step}`));
				} else if (r < 0.7) {
					const id = pick(ids);
					const who = rand() < 0.5 ? authorOf.get(id)! : pick(people);
					w.channel.markDeletion(await signedDeletion(id, who, at(now, who.id), rand() < 0.6));
				} else if (r < 0.77) {
					const id = pick(ids);
					const by = pick([t.owner, t.admin]);
					w.channel.markModeration(await moderationMarks.sign(by.key, { msg: id, by: by.id, hlc: at(now, by.id), hidden: rand() < 0.6 }));
				} else if (r < 0.82) {
					// A member's own signed record under an id taken (another's, or her own again), or
					// under the id another is about to post with; or an unsigned record in another's name.
					const who = pick(people);
					const victim = pick(people);
					const id = rand() < 0.5 ? pick(ids) : (next.get(victim) ?? newIdFor(victim.id));
					if (!authorOf.has(id)) next.set(victim, id);
					const copy = await signedMsg(w.channelId, id, who, at(now, who.id), `copy ${step} word${step}`);
					w.channel.post(rand() < 0.7 ? copy : { ...copy, author: victim.id, sig: 'forged' });
				}
			};
			if (r >= 0.82) {
				// Rules change outside the channel: made now.
			} else if (deferred) {
				live.midPass.push(() => act(now));
				await live.indexer.flush();
				// Made in the pass; the post's or mark's update scheduled the channel again.
				expect(live.midPass).toEqual([]);
				written = true;
			} else {
				await act(now);
				written = true;
			}
			if (r < 0.82) {
				// A mark removed by this device's own write, now and then (found in review: the pass
				// missed it, as the state vector does not show a removal).
				if (rand() < 0.04) {
					const map = rand() < 0.5 ? w.channel.deletions : w.channel.moderation;
					const keys = [...map.keys()];
					if (keys.length > 0) map.delete(pick(keys));
					written = true;
				}
			} else if (r < 0.92) {
				// A settings mark, often dated before edits already indexed (it synced late).
				await w.mark(rand() < 0.7 ? 'readOnly' : 'archived', rand() < 0.5, now - Math.floor(rand() * 150));
			} else {
				await w.setRole(pick([t.admin, t.member]), pick(['admin', 'member', 'guest'] as const), now);
			}
			if (rand() < 0.45) {
				await live.indexer.flush();
				written = false;
			}
			// Compared now and then, and often right after the rules changed (nothing new in the channel then).
			if (step % 55 === 54 || (r >= 0.82 && rand() < 0.4)) {
				await live.indexer.flush();
				const fresh = await startSearch(w, await copyOf(w));
				expect(await live.entries(), `after step ${step}`).toEqual(await fresh.entries());
				await fresh.stop();
			}
		}
		// Sanity: the run did what it set out to (something is edited, deleted, left out).
		const final = await live.entries();
		expect(final.some((e) => e.text.startsWith('edit'))).toBe(true);
		expect(final.length).toBeLessThan(authorOf.size);
	}, 120_000);

	it('gives what an index built afresh gives, and the text the channel shows, after a seeded run of questions, answers, their edits in and out of the answer window, and questions taken back', async () => {
		const t = await team();
		const relay = throwaway();
		const w = await world(t, { [relay.id]: 'relay' });
		const live = await startSearch(w);
		const rand = mulberry32(11);
		const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
		const MINUTE = 60_000;
		const askers = [t.owner, t.admin, t.member];
		const signers = new Map<string, Signer>([...askers, relay].map((s) => [s.id, s]));
		/** Questions signed, and whether they are in the channel yet (a question may arrive after its answers). */
		const questions: { q: MessageRecord; time: number; posted: boolean }[] = [];
		const answers: { a: MessageRecord; time: number; q: { time: number } }[] = [];
		/** A replica of an asker's, offline since the start: what it posts syncs in before every record (a lower client id). */
		const offline = new Y.Doc();
		offline.clientID = 1;
		/** Its own stream, so that the rest of the run is as it was. */
		const copyRand = mulberry32(5);
		let now = 1_000;
		/** What the channel shows of each indexed message is what search holds of it. */
		const asShown = async () => {
			const view = new ChannelView(w.channel);
			const rules = withQuestions(w.rules(w.channelId), view);
			const got = (await live.entries()).map((e) => [e.itemId, e.text]);
			const want = got.map(([id]) => [id, shownText(view, view.byId.get(id!)!, rules)]);
			view.destroy();
			return { got, want };
		};
		for (let step = 0; step < 200; step++) {
			now += 10 + Math.floor(rand() * 4 * MINUTE);
			let copied = false;
			if (copyRand() < 0.08) {
				// The asker's own record under her question's id, no question (an equal claim: the
				// first in the array is shown): the question's answers become their host's own posts.
				const posted = questions.filter((x) => x.posted && answers.some(({ a }) => a.question === x.q.id));
				if (posted.length > 0) {
					const { q } = posted[Math.floor(copyRand() * posted.length)]!;
					const asker = signers.get(q.author)!;
					new ChannelDoc(offline).post(await signMessage(asker.key, { id: q.id, author: asker.id, hlc: at(now, asker.id, step), text: `copy ${step} cword${step}` }, w.channelId));
					Y.applyUpdate(w.channel.doc, Y.encodeStateAsUpdate(offline, Y.encodeStateVector(w.channel.doc)));
					copied = true;
				}
			}
			const r = rand();
			if (questions.length < 2 || r < 0.14) {
				const asker = pick(askers);
				// The relay, the asker's own device, or another member's.
				const host = rand() < 0.55 ? relay : pick(askers);
				const q = await signMessage(asker.key, { id: newIdFor(asker.id), author: asker.id, hlc: at(now, asker.id, step), text: `question ${step} qword${step}`, ask: { model: 'tiny', host: host.id } }, w.channelId);
				const posted = rand() < 0.75;
				if (posted) w.channel.post(q);
				questions.push({ q, time: now, posted });
			} else if (r < 0.2) {
				const held = questions.find((x) => !x.posted);
				if (held) {
					held.posted = true;
					w.channel.post(held.q);
				}
			} else if (r < 0.42) {
				// An answer, mostly in its question's window, sometimes past it; sometimes a second one.
				const asked = pick(questions);
				const host = signers.get(asked.q.ask!.host)!;
				const time = asked.time + (rand() < 0.75 ? 1 + Math.floor(rand() * 15 * MINUTE) : 15 * MINUTE + 1 + Math.floor(rand() * 10 * MINUTE));
				const a = await signMessage(host.key, { id: answerIdFor(asked.q.author, host.id), author: host.id, hlc: at(time, host.id, step), text: rand() < 0.5 ? '' : `answer ${step} aword${step}`, model: 'tiny', askedBy: asked.q.author, question: asked.q.id }, w.channelId);
				w.channel.post(a);
				answers.push({ a, time, q: asked });
			} else if (r < 0.62 && answers.length > 0) {
				// The answer's host's edit: before the answer, in the window, or past it.
				const { a, time, q } = pick(answers);
				const host = signers.get(a.author)!;
				const u = rand();
				const when = u < 0.15 ? time - 1 - Math.floor(rand() * MINUTE) : u < 0.7 ? time + Math.floor(rand() * Math.max(1, q.time + 15 * MINUTE - time)) : q.time + 15 * MINUTE + 1 + Math.floor(rand() * 60 * MINUTE);
				w.channel.edit(await signEdit(host.key, { msg: a.id, author: host.id, hlc: at(when, host.id, step), text: `edit ${step} eword${step}`, ...(rand() < 0.5 ? { end: { status: 'done' as const } } : {}) }));
			} else if (r < 0.74) {
				// The asker takes her question back, or gives it back.
				const { q } = pick(questions);
				const asker = signers.get(q.author)!;
				w.channel.markDeletion(await signedDeletion(q.id, asker, at(now, asker.id, step), rand() < 0.6));
			} else if (r < 0.84) {
				const { q } = pick(questions);
				const by = pick([t.owner, t.admin]);
				w.channel.markModeration(await moderationMarks.sign(by.key, { msg: q.id, by: by.id, hlc: at(now, by.id, step), hidden: rand() < 0.6 }));
			} else if (r < 0.92) {
				await w.mark('readOnly', rand() < 0.5, now - Math.floor(rand() * 20 * MINUTE));
			} else {
				// A moderator demoted or made one (her hides count, or stop counting).
				await w.setRole(pick([t.admin, t.member]), pick(['admin', 'member'] as const), now);
			}
			if (rand() < 0.45) await live.indexer.flush();
			// Compared often, and after every mark of a question, rules mark, role change and copy of a question's id.
			if (step % 10 === 9 || r >= 0.62 || copied) {
				await live.indexer.flush();
				const fresh = await startSearch(w, await copyOf(w));
				expect(await live.entries(), `after step ${step}`).toEqual(await fresh.entries());
				await fresh.stop();
				const { got, want } = await asShown();
				expect(got, `shown after step ${step}`).toEqual(want);
			}
		}
		// Sanity: answers were edited, and some edits were left out.
		const final = await live.entries();
		expect(final.some((e) => e.text.startsWith('edit'))).toBe(true);
		expect(answers.length).toBeGreaterThan(20);
	}, 120_000);

	it('takes an edit dated before its message, or of the same clock as the one it holds, as a whole read does', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		w.channel.post(await signedMsg(w.channelId, 'x', t.member, at(1_000, t.member.id), 'meet at the old quay'));
		await live.indexer.flush();
		// The author's signed edit, dated before her message (her clock, or a modified client): the view shows it.
		w.channel.edit(await signedEdit('x', t.member, at(500, t.member.id), 'meet at the new pier'));
		await live.indexer.flush();
		const view = new ChannelView(w.channel);
		expect(shownText(view, view.byId.get('x')!, w.rules(w.channelId))).toBe('meet at the new pier');
		view.destroy();
		expect((await live.index.search('pier')).map((h) => h.itemId)).toEqual(['x']);
		expect(await live.index.search('quay')).toEqual([]);
		// Two of her edits of one clock, in two passes: the same one wins as in one pass (by signature).
		const [a, b] = [await signedEdit('x', t.member, at(2_000, t.member.id), 'edit one'), await signedEdit('x', t.member, at(2_000, t.member.id), 'edit two')];
		const [first, second] = a.sig < b.sig ? [b, a] : [a, b];
		w.channel.edit(first);
		await live.indexer.flush();
		w.channel.edit(second);
		await live.indexer.flush();
		const fresh = await startSearch(w, await copyOf(w));
		expect(await live.entries()).toEqual(await fresh.entries());
		expect((await live.entries()).find((e) => e.itemId === 'x')?.text).toBe(second.text);
	});

	it('weighs an answer’s edits again when its question is taken back or given back, or its moderator’s role changes, as the view does', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		const MINUTE = 60_000;
		// The owner asks the model of the member's device; its answer, then an edit past the answer window.
		const q = await signMessage(t.owner.key, { id: newIdFor(t.owner.id), author: t.owner.id, hlc: at(1_000, t.owner.id), text: '@tiny where?', ask: { model: 'tiny', host: t.member.id } }, w.channelId);
		const a = await signMessage(t.member.key, { id: answerIdFor(t.owner.id, t.member.id), author: t.member.id, hlc: at(2_000, t.member.id), text: 'at the quay', model: 'tiny', askedBy: t.owner.id, question: q.id }, w.channelId);
		w.channel.postMany([q, a]);
		w.channel.edit(await signEdit(t.member.key, { msg: a.id, author: t.member.id, hlc: at(1_000 + 16 * MINUTE, t.member.id), text: 'at the pier' }));
		/** [what search holds of the answer, what the channel shows, what an index built afresh holds]. */
		const texts = async () => {
			await live.indexer.flush();
			const view = new ChannelView(w.channel);
			const shown = shownText(view, view.byId.get(a.id)!, w.rules(w.channelId));
			view.destroy();
			const fresh = await startSearch(w, await copyOf(w));
			const textOf = async (s: typeof live) => (await s.entries()).find((e) => e.itemId === a.id)?.text;
			const out = [await textOf(live), shown, await textOf(fresh)];
			await fresh.stop();
			return out;
		};
		// Asked: the late edit does not count.
		expect(await texts()).toEqual(['at the quay', 'at the quay', 'at the quay']);
		// The owner deletes her question: the answer is its host's own post, and its edit counts.
		w.channel.markDeletion(await signedDeletion(q.id, t.owner, at(3_000_000, t.owner.id)));
		expect(await texts()).toEqual(['at the pier', 'at the pier', 'at the pier']);
		w.channel.markDeletion(await signedDeletion(q.id, t.owner, at(3_100_000, t.owner.id), false));
		expect(await texts()).toEqual(['at the quay', 'at the quay', 'at the quay']);
		// The admin hides it; then she is made a member, and her hide counts no more; then admin again.
		w.channel.markModeration(await moderationMarks.sign(t.admin.key, { msg: q.id, by: t.admin.id, hlc: at(3_200_000, t.admin.id), hidden: true }));
		expect(await texts()).toEqual(['at the pier', 'at the pier', 'at the pier']);
		await w.setRole(t.admin, 'member', 3_300_000);
		expect(await texts()).toEqual(['at the quay', 'at the quay', 'at the quay']);
		await w.setRole(t.admin, 'admin', 3_400_000);
		expect(await texts()).toEqual(['at the pier', 'at the pier', 'at the pier']);
	});

	it('reads none of a long channel’s arrays or maps whole for one edit, deletion or moderation mark (search and workspace knowledge)', async () => {
		const t = await team();
		const w = await world(t);
		const N = 2_000;
		w.channel.postMany(await Promise.all(Array.from({ length: N }, (_, i) => signedMsg(w.channelId, `m${i}`, i % 2 ? t.member : t.admin, at(1_000 + i, i % 2 ? t.member.id : t.admin.id), `message ${i}`))));
		w.channel.edit(await signedEdit('m1', t.member, at(5_000, t.member.id), 'an earlier edit'));
		const live = await startSearch(w);
		expect(live.index.size).toBe(N);
		// Workspace knowledge reads channels with the same extraction.
		const knowledge = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder: new HashEmbedder() });
		const knowledgeErrors: Error[] = [];
		const reader = new KnowledgeIndexer({ index: knowledge, delayMs: 3_600_000, rules: w.rules, onError: (e) => knowledgeErrors.push(e) });
		cleanups.push(() => reader.stop());
		const read = async () => {
			reader.docChanged(w.channelId, 'channel', w.channel.doc);
			await reader.flush();
		};
		await read();
		expect(knowledge.messageIds(w.channelId)).toHaveLength(N);

		// Every whole read of one of the channel's arrays or maps, counted.
		const channelTypes = new Set<unknown>([w.channel.messages, w.channel.edits, w.channel.deletions, w.channel.moderation, w.channel.reactions]);
		const spies = (['toArray', 'toJSON', 'forEach', 'map', 'slice'] as const).map((name) => vi.spyOn(Y.Array.prototype, name));
		const mapSpies = (['toJSON', 'forEach', 'entries', 'values', 'keys'] as const).map((name) => vi.spyOn(Y.Map.prototype, name));
		const wholeReads = () => [...spies, ...mapSpies].reduce((n, spy) => n + spy.mock.contexts.filter((c) => channelTypes.has(c)).length, 0);

		w.channel.edit(await signedEdit('m1', t.member, at(6_000, t.member.id), 'the pump was fixed'));
		await live.indexer.flush();
		await read();
		expect(wholeReads()).toBe(0);
		expect((await live.index.search('pump')).map((h) => h.itemId)).toEqual(['m1']);
		expect(knowledge.messageChunks(w.channelId, 'm1').map((c) => c.text).join('')).toContain('the pump was fixed');

		w.channel.markDeletion(await signedDeletion('m2', t.admin, at(6_100, t.admin.id)));
		await live.indexer.flush();
		await read();
		expect(wholeReads()).toBe(0);
		expect(knowledge.messageChunks(w.channelId, 'm2')).toEqual([]);
		expect((await live.entries()).some((e) => e.itemId === 'm2')).toBe(false);

		w.channel.markModeration(await moderationMarks.sign(t.owner.key, { msg: 'm3', by: t.owner.id, hlc: at(6_200, t.owner.id), hidden: true }));
		w.channel.post(await signedMsg(w.channelId, 'new', t.member, at(6_300, t.member.id), 'a new harbour post'));
		await live.indexer.flush();
		await read();
		expect(wholeReads()).toBe(0);
		expect(knowledgeErrors).toEqual([]);
		expect((await live.index.search('harbour')).map((h) => h.itemId)).toEqual(['new']);
	}, 120_000);

	it('brings a message back when its author restores it, though another member marked it deleted', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		w.channel.post(await signedMsg(w.channelId, 'x', t.member, at(100, t.member.id), 'the lighthouse keeper'));
		w.channel.markDeletion(await signedDeletion('x', t.member, at(200, t.member.id)));
		await live.indexer.flush();
		expect(await live.index.search('lighthouse')).toEqual([]);
		// Another member's own signed mark on it counts for nothing (the view reads its author's marks alone).
		w.channel.markDeletion(await signedDeletion('x', t.admin, at(300, t.admin.id)));
		w.channel.markDeletion(await signedDeletion('x', t.member, at(400, t.member.id), false));
		await live.indexer.flush();
		// Found in review: it stayed out of search while anyone's newest mark hid it.
		expect((await live.index.search('lighthouse')).map((h) => h.itemId)).toEqual(['x']);
	});

	it('reads the channel whole again after an item of its records was deleted (which the write policy refuses of peers)', async () => {
		const t = await team();
		const doc = new Y.Doc({ guid: 'general' });
		const channel = new ChannelDoc(doc);
		channel.postMany([await signedMsg('general', 'a', t.member, at(1, t.member.id), 'one'), await signedMsg('general', 'b', t.member, at(2, t.member.id), 'two')]);
		channel.edit(await signedEdit('a', t.member, at(3, t.member.id), 'one, edited'));
		expect([...channelRecords(doc, 'general').byId.keys()]).toEqual(['a', 'b']);
		doc.transact(() => {
			channel.messages.delete(0, 1);
			channel.edits.delete(0, 1);
		});
		const records = channelRecords(doc, 'general');
		expect([...records.byId.keys()]).toEqual(['b']);
		expect(records.editsOf('a')).toEqual([]);
	});

	it('keeps for the next pass what arrived while a pass was reading (found in review: its state vector was taken when the pass ended)', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		w.channel.post(await signedMsg(w.channelId, 'a', t.member, at(1_000, t.member.id), 'the old harbour'));
		await live.indexer.flush();
		w.channel.edit(await signedEdit('a', t.member, at(2_000, t.member.id), 'the new lighthouse'));
		const late = await signedMsg(w.channelId, 'b', t.admin, at(3_000, t.admin.id), 'a late anchor');
		// The pass reads the stored entry of the edited message from the index's database (a wait);
		// a peer's post is synced into the loaded channel meanwhile.
		const lookup: EntryLookup = {
			entries: async (docId, ids) => {
				w.channel.post(late);
				return live.index.entries(docId, ids);
			},
			itemIds: (docId) => live.index.itemIds(docId)
		};
		await live.index.apply(await channelChanges(w.channelId, w.channel.doc, await live.index.docState(w.channelId), lookup, w.rules(w.channelId)));
		// The post scheduled the channel again: the next pass takes it.
		await live.indexer.flush();
		expect((await live.index.search('lighthouse')).map((h) => h.itemId)).toEqual(['a']);
		expect((await live.index.search('anchor')).map((h) => h.itemId)).toEqual(['b']);
		const fresh = await startSearch(w, await copyOf(w));
		expect(await live.entries()).toEqual(await fresh.entries());
	});

	it('checks the signature of an edit once, however often its message gets edits (found in review: every pass weighing a message checked all its edits again)', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		w.channel.post(await signedMsg(w.channelId, 'x', t.member, at(1_000, t.member.id), 'the pump house'));
		// Another member's edits in the author's name, dated after any of hers: each a signature to
		// check that fails, newest first, before her own edit is reached.
		const forged = async (i: number) => ({ ...(await signedEdit('x', t.admin, at(9_000 + i, t.admin.id), `forged ${i}`)), author: t.member.id });
		const N = 300;
		const many = await Promise.all(Array.from({ length: N }, (_, i) => forged(i)));
		w.channel.doc.transact(() => many.forEach((e) => w.channel.edit(e)));
		w.channel.edit(await signedEdit('x', t.member, at(2_000, t.member.id), 'the pump works'));
		await live.indexer.flush();
		expect((await live.entries()).find((e) => e.itemId === 'x')?.text).toBe('the pump works');
		const more = await Promise.all(Array.from({ length: 5 }, (_, i) => forged(N + i)));
		// Each check of an edit's signature encodes what it signs, once.
		const encode = vi.spyOn(TextEncoder.prototype, 'encode');
		const editChecks = () => encode.mock.calls.filter(([text]) => text?.startsWith('["outpost/edit/')).length;
		for (const e of more) {
			w.channel.edit(e);
			await live.indexer.flush();
		}
		// The five new forged edits are checked; the others were judged before.
		expect(editChecks()).toBe(5);
		expect((await live.entries()).find((e) => e.itemId === 'x')?.text).toBe('the pump works');
	});

	it('reads the channel whole again after a mark was removed by this device’s own write (which the write policy refuses of peers), as an index built afresh reads it', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		w.channel.post(await signedMsg(w.channelId, 'x', t.member, at(1_000, t.member.id), 'the ferry timetable'));
		w.channel.post(await signedMsg(w.channelId, 'y', t.member, at(1_100, t.member.id), 'the ferry fares'));
		w.channel.markDeletion(await signedDeletion('x', t.member, at(2_000, t.member.id)));
		await live.indexer.flush();
		expect((await live.index.search('ferry')).map((h) => h.itemId)).toEqual(['y']);
		// Workspace knowledge reads channels with the same extraction.
		const knowledge = await KnowledgeIndex.open({ store: new MemoryVectorStore(), embedder: new HashEmbedder() });
		const reader = new KnowledgeIndexer({ index: knowledge, delayMs: 3_600_000, rules: w.rules });
		cleanups.push(() => reader.stop());
		const read = async () => {
			reader.docChanged(w.channelId, 'channel', w.channel.doc);
			await reader.flush();
		};
		await read();
		expect(knowledge.messageIds(w.channelId)).toEqual(['y']);
		// A write of this device's (a modified client, a local tool) takes the mark out of the map:
		// the state vector stays as it was, and no new mark names the message.
		const [key] = [...w.channel.deletions.keys()];
		w.channel.deletions.delete(key!);
		await live.indexer.flush();
		const fresh = await startSearch(w, await copyOf(w));
		expect((await fresh.index.search('ferry')).map((h) => h.itemId).sort()).toEqual(['x', 'y']);
		expect(await live.entries()).toEqual(await fresh.entries());
		await read();
		expect(knowledge.messageIds(w.channelId).sort()).toEqual(['x', 'y']);
	});

	it('weighs an answer’s edits again when the record its question’s id shows is another (its asker’s copy placed before it), as the view does', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		const MINUTE = 60_000;
		// A replica of the channel as it was before the question (a device of the owner's, offline).
		const fork = new Y.Doc();
		fork.clientID = 1;
		Y.applyUpdate(fork, Y.encodeStateAsUpdate(w.channel.doc));
		// The owner asks the model of the member's device; its answer, then an edit past the answer window.
		const q = await signMessage(t.owner.key, { id: newIdFor(t.owner.id), author: t.owner.id, hlc: at(1_000, t.owner.id), text: '@tiny where?', ask: { model: 'tiny', host: t.member.id } }, w.channelId);
		const a = await signMessage(t.member.key, { id: answerIdFor(t.owner.id, t.member.id), author: t.member.id, hlc: at(2_000, t.member.id), text: 'at the quay', model: 'tiny', askedBy: t.owner.id, question: q.id }, w.channelId);
		w.channel.postMany([q, a]);
		w.channel.edit(await signEdit(t.member.key, { msg: a.id, author: t.member.id, hlc: at(1_000 + 16 * MINUTE, t.member.id), text: 'at the pier' }));
		await live.indexer.flush();
		expect((await live.entries()).find((e) => e.itemId === a.id)?.text).toBe('at the quay');
		// The owner's own signed record under the question's id, no question, made on that replica:
		// it syncs in placed before the question (an equal claim: the first in the array is shown).
		new ChannelDoc(fork).post(await signMessage(t.owner.key, { id: q.id, author: t.owner.id, hlc: at(1_500, t.owner.id), text: 'never mind' }, w.channelId));
		Y.applyUpdate(w.channel.doc, Y.encodeStateAsUpdate(fork, Y.encodeStateVector(w.channel.doc)));
		expect(w.channel.messages.toArray().map((m) => (m as MessageRecord).text)).toEqual(['never mind', '@tiny where?', 'at the quay']);
		await live.indexer.flush();
		// The answer proves no question now: it is its host's own post, and the late edit counts.
		const view = new ChannelView(w.channel);
		expect(shownText(view, view.byId.get(a.id)!, w.rules(w.channelId))).toBe('at the pier');
		view.destroy();
		const fresh = await startSearch(w, await copyOf(w));
		expect(await live.entries()).toEqual(await fresh.entries());
		expect((await live.entries()).find((e) => e.itemId === a.id)?.text).toBe('at the pier');
	});

	it('weighs again, for a mark on a question or a record naming it, only the records that may answer it as asked', async () => {
		const t = await team();
		const w = await world(t);
		const live = await startSearch(w);
		const q = await signMessage(t.owner.key, { id: newIdFor(t.owner.id), author: t.owner.id, hlc: at(1_000, t.owner.id), text: '@tiny where?', ask: { model: 'tiny', host: t.member.id } }, w.channelId);
		const a = await signMessage(t.member.key, { id: answerIdFor(t.owner.id, t.member.id), author: t.member.id, hlc: at(2_000, t.member.id), text: 'at the quay', model: 'tiny', askedBy: t.owner.id, question: q.id }, w.channelId);
		w.channel.postMany([q, a]);
		w.channel.edit(await signEdit(t.member.key, { msg: a.id, author: t.member.id, hlc: at(2_500, t.member.id), text: 'at the pier' }));
		// Another member's own records naming the question, each with an edit of hers.
		const N = 200;
		const named = await Promise.all(Array.from({ length: N }, (_, i) => signMessage(t.admin.key, { id: newIdFor(t.admin.id), author: t.admin.id, hlc: at(3_000 + i, t.admin.id), text: `noise ${i}`, model: 'tiny', askedBy: t.admin.id, question: q.id }, w.channelId)));
		w.channel.postMany(named);
		const edits = await Promise.all(named.map((m, i) => signedEdit(m.id, t.admin, at(9_000 + i, t.admin.id), `noise ${i} again`)));
		w.channel.doc.transact(() => edits.forEach((e) => w.channel.edit(e)));
		await live.indexer.flush();
		expect(live.index.size).toBe(N + 2);
		// Her marks on the question (counting for nothing: not the asker's), and one more record naming it.
		live.lookedUp.length = 0;
		w.channel.markDeletion(await signedDeletion(q.id, t.admin, at(20_000, t.admin.id)));
		await live.indexer.flush();
		w.channel.post(await signMessage(t.admin.key, { id: newIdFor(t.admin.id), author: t.admin.id, hlc: at(21_000, t.admin.id), text: 'more noise', model: 'tiny', askedBy: t.admin.id, question: q.id }, w.channelId));
		await live.indexer.flush();
		// The answer as asked is weighed again for the mark; none of hers.
		expect(live.lookedUp).toEqual([[a.id], []]);
		const fresh = await startSearch(w, await copyOf(w));
		expect(await live.entries()).toEqual(await fresh.entries());
	});
});
