/**
 * History that cannot be rewritten, against a member with a modified client, with real
 * libp2p nodes in one process running the workspace core: mallory changes her own copy of a
 * channel the way the attacks in issue 11 did (a hard delete, an edit rolled back, an
 * undelete, a reaction mark rewritten) and lets her client sync it. The owner and bob refuse
 * every one of those updates (and say why) and keep the history whole. Then rights, as every
 * view folds them (channelRights.ts): in a read-only channel only the owner's posts show,
 * mallory cannot flip it writable by editing the root (refused) or by a settings mark of her own
 * (ignored), the owner's signed mark can; and a guest's post is withheld everywhere, as is a
 * channel the guest lists in the root.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelDoc, deletionKey } from '../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../src/lib/doc/WorkspaceDoc.js';
import { AiThreadDoc } from '../../src/lib/doc/AiThreadDoc.js';
import { NoteDoc } from '../../src/lib/doc/NoteDoc.js';
import { bindWriter } from '../../src/lib/state/noteBinding.js';
import { AiRecordKind, AiStatus } from '../../src/lib/doc/schema.js';
import { signAiRecord, signChannelEntry, signSettingsMark } from '../../src/lib/doc/signature.js';
import type { MessageRecord } from '../../src/lib/doc/schema.js';
import { at, edit, msg } from '../unit/doc/helpers.js';
import { waitFor } from './helpers.js';
import { stopPeers } from './peers.js';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers, teamOfThree, type TeamPeer } from './teamPeers.js';
import { connect, heal, partition } from './peers.js';
import { channelRules, postShows, readOnlySpans } from '../../src/lib/doc/channelRights.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});

const channelOf = (peer: TeamPeer, id: string) => new ChannelDoc(peer.docs.get(id));
const texts = (peer: TeamPeer, id: string) => channelOf(peer, id).messages.toArray().map((m: MessageRecord) => m.text);
/** Why each update this peer refused was refused (the write policy's reason, from the error message). */
const refusals = (peer: TeamPeer) =>
	peer.errors
		.filter((e) => e.error.name === 'UpdateRejectedError')
		.map((e) => /a record cannot be \w+|an edit from [a-z ]+|note content from [a-z ]+/.exec(e.error.message)?.[0] ?? e.error.message);

/**
 * A note the owner lists in the root: its id, a peer's text of it, and an edit by a peer made
 * as the note editor makes it (its client bound to its device; `bind: false`, a modified
 * client's unbound edit), at the start of the text or (`atEnd`) its end.
 */
function listedNote(owner: TeamPeer, workspaceId: string) {
	const note = newId();
	new WorkspaceDoc(owner.docs.get(workspaceId)).createNote({ id: note, title: 'dosage', createdAt: 1, updatedAt: 1 });
	const body = (p: TeamPeer) => new NoteDoc(p.docs.get(note)).body.toString();
	const write = (p: TeamPeer, text: string, { bind = true, atEnd = false } = {}) => {
		const doc = p.docs.get(note);
		const stop = bind ? bindWriter(doc, note, p.key, p.peerId) : () => {};
		doc.transact(() => new NoteDoc(doc).body.insert(atEnd ? doc.getText('body').length : 0, text));
		stop();
	};
	return { note, body, write };
}


/** Resolves after `n` heartbeats of `peer`'s gossipsub. */
function heartbeats(peer: TeamPeer, n: number): Promise<void> {
	const pubsub = peer.node.services.pubsub;
	return new Promise((resolve) => {
		let left = n;
		const beat = () => {
			if (--left > 0) return;
			pubsub.removeEventListener('gossipsub:heartbeat', beat);
			resolve();
		};
		pubsub.addEventListener('gossipsub:heartbeat', beat);
	});
}
describe('channel history on the mesh', () => {
	it('every replica refuses a member rewriting what others wrote, and keeps it whole', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const channel = newId();
		// The owner makes the channel (listed in the root) and writes its history.
		new WorkspaceDoc(owner.docs.get(ws.id)).createChannel({ id: channel, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: owner.peerId });
		const history = channelOf(owner, channel);
		history.post(msg('m1', owner.peerId, at(100, owner.peerId), 'the dose is 5 mg'));
		history.edit(edit('m1', owner.peerId, at(200, owner.peerId), 'the dose is 5 mg, twice a day'));
		history.post(msg('m2', bob.peerId, at(300, bob.peerId), 'withdrawn'));
		history.markDeletion({ msg: 'm2', by: bob.peerId, hlc: at(400, bob.peerId), deleted: true, sig: 'sig' });
		history.markReaction({ msg: 'm1', emoji: '👍', by: bob.peerId, hlc: at(500, bob.peerId), on: true, sig: 'sig' });
		const whole = () => {
			const c = channelOf(owner, channel);
			return [c.messages.length, c.edits.length, c.deletions.size, c.reactions.size];
		};
		for (const p of [mallory, bob]) await waitFor(() => channelOf(p, channel).reactions.size === 1, `${p.name} to hold the history`);
		expect(whole()).toEqual([2, 1, 1, 1]);

		const deleted = 'a record cannot be deleted';
		const overwritten = 'a record cannot be overwritten';
		const attacks: Array<[string, string, (c: ChannelDoc) => void]> = [
			['hard delete', deleted, (c) => c.messages.delete(0, 1)],
			['edit rolled back', deleted, (c) => c.edits.delete(0, 1)],
			['undelete', deleted, (c) => c.deletions.delete(deletionKey({ msg: 'm2', by: bob.peerId, hlc: at(400, bob.peerId), deleted: true, sig: 'sig' }))],
			['reaction rewritten', overwritten, (c) => c.reactions.forEach((_, key) => c.reactions.set(key, { forged: true }))]
		];
		/** How many refusals, by the owner and bob together, gave this reason. */
		const refused = (reason: string) => [...refusals(owner), ...refusals(bob)].filter((r) => r === reason).length;
		for (const [what, reason, change] of attacks) {
			// Counted by reason: the second peer's refusal of the previous attack may still be on its way.
			const before = refused(reason);
			change(channelOf(mallory, channel));
			await waitFor(() => refused(reason) > before, `the ${what} to be refused`);
			for (const p of [owner, bob]) {
				const c = channelOf(p, channel);
				expect([c.messages.length, c.edits.length, c.deletions.size, c.reactions.size], `${p.name} after the ${what}`).toEqual([2, 1, 1, 1]);
			}
		}
		expect(texts(bob, channel)).toContain('the dose is 5 mg');
		expect(new Set([...refusals(owner), ...refusals(bob)])).toEqual(new Set([deleted, overwritten]));
	}, 30_000);

	it('read-only channels show the owner’s posts only, settings change by the owner’s signed marks alone, guests’ posts are withheld', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const news = newId();
		const root = new WorkspaceDoc(owner.docs.get(ws.id));
		root.createChannel(await signChannelEntry(owner.key, { id: news, name: 'news', topic: '', private: false, readOnly: true, archived: false, createdAt: 1, createdBy: owner.peerId }));
		for (const p of [mallory, bob]) await waitFor(() => new WorkspaceDoc(p.docs.get(ws.id)).channels.has(news), `${p.name} to list the channel`);
		/** The posts `p` shows in the channel, by the rules it folds from its own team and root. */
		const shown = (p: TeamPeer) => {
			const roleOf = (peer: string) => p.authority.roleOf(peer);
			const rules = { roleOf, readOnly: readOnlySpans(new WorkspaceDoc(p.docs.get(ws.id)), news, roleOf) };
			return channelOf(p, news).messages.toArray().filter((m) => postShows(m, rules)).map((m) => m.text);
		};

		channelOf(owner, news).post(msg('o1', owner.peerId, at(100, owner.peerId), 'from the owner'));
		channelOf(mallory, news).post(msg('x1', mallory.peerId, at(200, mallory.peerId), 'mallory shouts'));
		for (const p of [owner, mallory, bob]) await waitFor(() => texts(p, news).length === 2, `${p.name} to hold both posts`);
		for (const p of [owner, bob]) expect(shown(p)).toEqual(['from the owner']);

		// A settings mark of her own changes nothing; flipping the flag in the root is refused.
		const own = await signSettingsMark(mallory.key, { channel: news, field: 'readOnly', value: false, by: mallory.peerId, hlc: at(300, mallory.peerId) });
		new WorkspaceDoc(mallory.docs.get(ws.id)).markSetting(own);
		await waitFor(() => new WorkspaceDoc(owner.docs.get(ws.id)).channelSettings.size === 1, 'her mark to reach the owner');
		expect(shown(owner)).toEqual(['from the owner']);
		new WorkspaceDoc(mallory.docs.get(ws.id)).channels.get(news)!.set('readOnly', false);
		await waitFor(() => refusals(owner).some((r) => r === 'a record cannot be overwritten'), 'the root edit to be refused');
		expect(new WorkspaceDoc(owner.docs.get(ws.id)).channels.get(news)?.get('readOnly')).toBe(true);

		// The owner's signed mark opens the channel: posts from then on show everywhere.
		root.markSetting(await signSettingsMark(owner.key, { channel: news, field: 'readOnly', value: false, by: owner.peerId, hlc: at(400, owner.peerId) }));
		await waitFor(() => new WorkspaceDoc(bob.docs.get(ws.id)).channelSettings.size === 2, 'bob to get the owner’s mark');
		channelOf(bob, news).post(msg('b1', bob.peerId, at(500, bob.peerId), 'now open'));
		await waitFor(() => texts(owner, news).includes('now open'), 'the owner to get the post');
		for (const p of [owner, bob]) expect(shown(p)).toEqual(['from the owner', 'now open']);

		// A guest's post is withheld everywhere.
		const inv = await invite(owner, 'guest');
		const gil = await startJoiner(ws, (await newKey()).key, 'gil', inv);
		await connect(gil, owner);
		await waitFor(() => owner.authority.roleOf(gil.peerId) === 'guest' && gil.authority.joined, 'the guest to be admitted');
		await waitFor(() => texts(gil, news).includes('now open'), 'the guest to read the channel');
		channelOf(gil, news).post(msg('g1', gil.peerId, at(600, gil.peerId), 'guest post'));
		await waitFor(() => texts(owner, news).includes('guest post'), 'the guest post to arrive');
		expect(shown(owner)).toEqual(['from the owner', 'now open']);

		// A channel the guest lists in the root with a modified client, signed with its own key, is listed by nobody.
		const forged = newId();
		const entry = await signChannelEntry(gil.key, { id: forged, name: 'guest-made', topic: '', private: false, readOnly: false, archived: false, createdAt: 2, createdBy: gil.peerId });
		new WorkspaceDoc(gil.docs.get(ws.id)).createChannel(entry);
		for (const p of [owner, bob]) await waitFor(() => new WorkspaceDoc(p.docs.get(ws.id)).channels.has(forged), `the guest's entry to reach ${p.name}`);
		const listed = (p: TeamPeer, admin = false) => {
			const rules = channelRules((peer) => p.authority.roleOf(peer), (peer) => p.authority.roleEver(peer), admin);
			return new WorkspaceDoc(p.docs.get(ws.id)).listChannels(rules);
		};
		for (const p of [owner, bob, mallory, gil]) expect(listed(p).map((c) => c.name), `${p.name}'s list`).toEqual(['news']);
		expect(listed(owner, true).find((c) => c.id === forged)?.unverified, 'the owner sees it as unverified').toBe(true);
	}, 40_000);

	it("every replica refuses a member rewriting an AI chat's signed answer, and shows the signed text", async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const chat = newId();
		new WorkspaceDoc(owner.docs.get(ws.id)).createAiThread({ id: chat, title: 'dosage', createdAt: 1 });
		const thread = new AiThreadDoc(owner.docs.get(chat));
		thread.addRecord(await signAiRecord(bob.key, { kind: AiRecordKind.user, id: 'q1', author: bob.peerId, hlc: at(100, bob.peerId), text: 'What dose?', ask: { model: 'tiny', host: owner.peerId } }));
		thread.addRecord(
			await signAiRecord(owner.key, { kind: AiRecordKind.answer, id: 'a1', author: owner.peerId, hlc: at(200, owner.peerId), text: 'The dose is 5 mg', model: 'tiny', askedBy: bob.peerId, question: 'q1', status: AiStatus.done })
		);
		const answer = (p: TeamPeer) => new AiThreadDoc(p.docs.get(chat)).list().find((m) => m.id === 'a1');
		for (const p of [mallory, bob]) await waitFor(() => answer(p)?.text === 'The dose is 5 mg', `${p.name} to hold the answer`);

		const before = [...refusals(owner), ...refusals(bob)].length;
		const hostile = new AiThreadDoc(mallory.docs.get(chat));
		hostile.doc.transact(() => {
			hostile.records.delete(1, 1);
			hostile.records.push([{ ...hostile.readRecords()[0]!, kind: AiRecordKind.answer, id: 'a1', text: 'The dose is 500 mg' }]);
		});
		await waitFor(() => [...refusals(owner), ...refusals(bob)].length > before, 'the rewrite to be refused');
		for (const p of [owner, bob]) {
			expect(answer(p)?.text, p.name).toBe('The dose is 5 mg');
			expect(answer(p)?.askedBy, p.name).toBe(bob.peerId);
		}
	}, 30_000);

	it('every replica refuses note edits from a client bound to nobody, or bound to a guest', async () => {
		const { ws, owner, mallory, bob } = await teamOfThree();
		const { note, body, write } = listedNote(owner, ws.id);
		write(owner, 'The dose is 5 mg.');
		for (const p of [mallory, bob]) await waitFor(() => body(p) === 'The dose is 5 mg.', `${p.name} to hold the note`);
		write(bob, 'Checked. ');
		await waitFor(() => body(owner) === 'Checked. The dose is 5 mg.' && body(mallory) === body(owner), 'a bound member edit everywhere');

		const before = [...refusals(owner), ...refusals(bob)].length;
		write(mallory, 'It is 500 mg. ', { bind: false });
		await waitFor(() => [...refusals(owner), ...refusals(bob)].length > before, 'the unbound edit to be refused');
		expect(new Set([...refusals(owner), ...refusals(bob)])).toEqual(new Set(['an edit from a client bound to no device']));

		// A guest's modified client that passes notes on: each act is refused on its own, by
		// the owner (over their session) and by Bob (over gossip, which Gil publishes).
		const inv = await invite(owner, 'guest');
		const gil = await startJoiner(ws, (await newKey()).key, 'gil', inv, { passesNotes: true });
		await connect(gil, owner);
		await waitFor(() => owner.authority.roleOf(gil.peerId) === 'guest' && body(gil) === 'Checked. The dose is 5 mg.', 'the guest to read the note');
		const guestCopy = gil.docs.get(note);
		const acts: [string, () => void][] = [
			// Under the owner's own client, bound to the owner: its binding vouches for it.
			['an item under a writer\'s client', () => {
				guestCopy.clientID = owner.docs.get(note).clientID;
				new NoteDoc(guestCopy).body.insert(0, 'Owner: 500 mg. ');
			}],
			// A deletion names no client: the bytes cannot say who deleted.
			['a deletion', () => new NoteDoc(guestCopy).body.delete('Owner: 500 mg. '.length, 'Checked. '.length)],
			['an edit under its own binding', () => write(gil, 'guest was here ')]
		];
		for (const [what, act] of acts) {
			const before = refusals(owner).length;
			act();
			await waitFor(() => refusals(owner).length > before, `${what} to be refused`);
			for (const p of [owner, bob]) expect(body(p), `${p.name} after ${what}`).toBe('Checked. The dose is 5 mg.');
		}
		await waitFor(() => refusals(bob).includes('note content from a device that may not write notes'), 'Bob to refuse what Gil published on gossip');
		expect(new Set(refusals(owner))).toEqual(new Set(['an edit from a client bound to no device', 'note content from a device that may not write notes']));
		expect(body(gil)).not.toBe(body(owner)); // what Gil did stays Gil's
	}, 40_000);

	it('what a member wrote in a note reaches a member who joins after its removal or demotion; a guest\'s binding still counts for nothing', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
		const dan = await startJoiner(ws, (await newKey()).key, 'dan', await invite(owner, 'member'));
		await connect(bob, owner);
		await connect(dan, owner);
		const { body, write: writeAt } = listedNote(owner, ws.id);
		const write = (p: TeamPeer, text: string) => writeAt(p, text, { atEnd: true });
		write(owner, 'The dose is 5 mg.');
		await waitFor(() => body(bob) === 'The dose is 5 mg.' && body(dan) === body(bob), 'bob and dan to hold the note');
		write(bob, ' Checked by Bob.');
		await waitFor(() => body(dan) === 'The dose is 5 mg. Checked by Bob.', "Bob's check at Dan");
		write(dan, ' Checked by Dan.');
		const whole = 'The dose is 5 mg. Checked by Bob. Checked by Dan.';
		await waitFor(() => body(owner) === whole, 'both checks at the owner');
		await owner.authority.write({ t: 'remove', member: bob.peerId });
		await owner.authority.write({ t: 'role', member: dan.peerId, role: 'guest' });
		expect(owner.authority.isWriter(bob.peerId) || owner.authority.isWriter(dan.peerId)).toBe(false);
		// Carol joins now: her replica checks the whole note, Bob's and Dan's bound text included.
		const carol = await startJoiner(ws, (await newKey()).key, 'carol', await invite(owner, 'member'));
		await connect(carol, owner);
		await waitFor(() => body(carol) === whole, 'the newcomer to hold the whole note');
		expect(refusals(carol)).toEqual([]);
		// A device that never wrote as a member (a guest from the start) binds nothing.
		const gil = await startJoiner(ws, (await newKey()).key, 'gil', await invite(owner, 'guest'), { passesNotes: true });
		await connect(gil, carol);
		await waitFor(() => body(gil) === whole && carol.authority.roleOf(gil.peerId) === 'guest', 'the guest to read the note');
		const before = refusals(carol).length;
		write(gil, ' Guest was here.');
		await waitFor(() => refusals(carol).length > before, "the guest's edit to be refused");
		expect(body(carol)).toBe(whole);
	}, 40_000);

	it("an honest guest passes no note on: a member that catches up through it gets no content it would refuse", async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', await invite(owner, 'member'));
		const gil = await startJoiner(ws, (await newKey()).key, 'gil', await invite(owner, 'guest'));
		await connect(bob, owner);
		await connect(gil, owner);
		const { body, write: writeAs } = listedNote(owner, ws.id);
		const write = (text: string) => writeAs(owner, text);
		write('The dose is 5 mg.');
		await waitFor(() => body(bob) === 'The dose is 5 mg.' && body(gil) === body(bob) && bob.authority.roleOf(gil.peerId) === 'guest', 'both to hold the note');
		// Bob goes offline from the owner; the owner's next edit reaches Gil alone.
		await partition(bob, owner);
		write('Checked. ');
		await waitFor(() => body(gil) === 'Checked. The dose is 5 mg.', 'the guest to read the edit');
		// The owner's own signed gossip envelope may reach Bob through Gil's gossipsub (its message
		// cache offers recent messages to a new mesh peer), which is no note passed on by Gil: it
		// leaves that cache after 5 heartbeats, so Bob meets Gil only after 6 (a loaded CI run got it).
		await heartbeats(gil, 6);
		await connect(bob, gil);
		await waitFor(() => bob.mesh.status(ws.id)?.livePeerIds.includes(gil.peerId) === true, 'Bob and Gil to sync');
		expect(refusals(bob)).toEqual([]);
		expect(refusals(gil)).toEqual([]);
		expect(body(bob)).toBe('The dose is 5 mg.'); // the edit comes from a writer
		await heal(bob, owner);
		await waitFor(() => body(bob) === 'Checked. The dose is 5 mg.', 'Bob to get the edit from the owner');
		expect(refusals(bob)).toEqual([]);
	}, 40_000);
});
