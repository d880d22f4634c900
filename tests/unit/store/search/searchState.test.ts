/**
 * What the search box finds in a channel (SearchState over the live index, with the scope
 * WorkspaceState gives it): what the channel view shows, and nothing a member's modified
 * client wrote that the view leaves out — a message an admin hid, one its author deleted,
 * an unsigned copy, posts the rules withhold (a guest's, a stranger key's, a member's in the
 * read-only span) and an edit the rules refuse; a flood of withheld posts does not push what
 * shows out of the results; and the hits the model's tools read carry the text the view shows.
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleServices } from '../../../../src/lib/app';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc';
import { archivedSpans, readOnlySpans, unseenMessages, type PostingRules } from '../../../../src/lib/doc/channelRights';
import { newId } from '../../../../src/lib/doc/ids';
import { signChannelEntry, signModerationMark, signSettingsMark } from '../../../../src/lib/doc/signature';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc';
import { SearchState } from '../../../../src/lib/state/SearchState.svelte';
import { OutpostDb } from '../../../../src/lib/store/db';
import { DocStore } from '../../../../src/lib/store/DocStore';
import { at, signedDeletion, signedEdit, signedMsg } from '../../doc/helpers';
import { team, throwaway } from '../../doc/channelAttacks/team';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

describe('SearchState', () => {
	it('finds what the channel view shows, and nothing it leaves out', async () => {
		const t = await team();
		const privateKey = await generateKeyPair('Ed25519');
		const name = `state-${newId()}`;
		const services = assembleServices(new OutpostDb(name), new DocStore(`${name}:`), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), displayName: 'Viewer' });
		const wsId = newId();
		const rootHandle = services.docs.open(wsId);
		await rootHandle.ready;
		const root = new WorkspaceDoc(rootHandle.doc);
		const id = newId();
		root.createChannel(await signChannelEntry(t.owner.key, { id, name: 'general', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.owner.id }));
		root.markSetting(await signSettingsMark(t.owner.key, { channel: id, field: 'readOnly', value: true, by: t.owner.id, hlc: at(200, t.owner.id) }));
		const handle = services.docs.open(id);
		await handle.ready;
		const channel = new ChannelDoc(handle.doc);
		const stranger = throwaway();
		channel.postMany([
			await signedMsg(id, 'shown', t.member, at(100, t.member.id), 'lantern on deck'),
			await signedMsg(id, 'hidden', t.member, at(110, t.member.id), 'lantern hidden by the admin'),
			await signedMsg(id, 'deleted', t.member, at(120, t.member.id), 'lantern deleted by its author'),
			{ id: 'forged', author: t.owner.id, hlc: at(130, t.owner.id), text: 'lantern forged in the owner’s name', sig: 'forged' },
			await signedMsg(id, 'stranger', stranger, at(140, stranger.id), 'lantern from a key nobody admitted'),
			await signedMsg(id, 'guest', t.guest, at(150, t.guest.id), 'lantern from the guest'),
			await signedMsg(id, 'late', t.member, at(300, t.member.id), 'lantern posted while read-only'),
			await signedMsg(id, 'admin', t.admin, at(310, t.admin.id), 'lantern from the admin')
		]);
		channel.markModeration(await signModerationMark(t.admin.key, { msg: 'hidden', by: t.admin.id, hlc: at(400, t.admin.id), hidden: true }));
		channel.markDeletion(await signedDeletion('deleted', t.member, at(400, t.member.id)));
		channel.edit(await signedEdit('shown', t.member, at(500, t.member.id), 'lantern payroll portal at evil.example'));

		// The scope WorkspaceState gives its search (postingRules, unseen, listed).
		const rules = (docId: string): PostingRules => ({ roleOf: t.roleOf, postedEver: (p) => t.roleOf(p) !== undefined, readOnly: readOnlySpans(root, docId, t.roleOf), archived: archivedSpans(root, docId, t.roleOf) });
		const search = new SearchState(services, wsId, root, {
			unseen: (docId, doc) => unseenMessages(new ChannelDoc(doc), rules(docId)),
			listed: (docId) => root.channel(docId, { settings: () => true, creation: () => true }) !== undefined,
			rules
		});
		cleanups.push(async () => {
			await search.close();
			services.docs.release(handle);
			services.docs.closeAll();
		});
		// The background pass indexes the channel: wait until the admin's post is found.
		for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
			await search.run('lantern');
			if (search.results.some((h) => h.itemId === 'admin')) break;
		}
		expect(search.results.map((h) => h.itemId).sort()).toEqual(['admin', 'shown']);
		expect(search.results.find((h) => h.itemId === 'shown')?.text).toBe('lantern on deck');
		await search.run('payroll');
		expect(search.results).toEqual([]);
		expect(await search.hits('payroll', 10)).toEqual([]);
		expect((await search.hits('deck', 10)).map((h) => h.text)).toEqual(['lantern on deck']);

		// A guest floods the channel with withheld posts that outrank a member's: the member's is still found.
		channel.postMany([
			await signedMsg(id, 'beacon', t.member, at(160, t.member.id), 'the beacon on the northern breakwater is lit again tonight, as agreed'),
			...(await Promise.all(Array.from({ length: 120 }, (_, i) => signedMsg(id, `flood${i}`, t.guest, at(170, t.guest.id, i), 'beacon')))),
			await signedMsg(id, 'marker', t.admin, at(180, t.admin.id), 'marker')
		]);
		for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
			await search.run('marker');
			if (search.results.length > 0) break;
		}
		await search.run('beacon');
		expect(search.results.map((h) => h.itemId)).toEqual(['beacon']);
		expect((await search.hits('beacon', 10)).map((h) => h.itemId)).toEqual(['beacon']);
	});
});
