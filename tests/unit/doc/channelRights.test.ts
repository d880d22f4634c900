/**
 * Channel rights as the view folds them: settings marks count only when a current admin or the
 * owner signed them (real Ed25519 signatures), read-only spans follow the counted marks in clock
 * order, and posts show or are withheld by their author's role and clock.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { acceptSettings, channelRules, hiddenBy, postShows, readOnlySpans, unseenMessages } from '../../../src/lib/doc/channelRights.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { moderationMarks, signChannelEntry, signModerationMark, signSettingsMark } from '../../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../../src/lib/doc/WorkspaceDoc.js';
import type { MessageRecord } from '../../../src/lib/doc/schema.js';
import { at, msg } from './helpers.js';

async function device() {
	const key = await generateKeyPair('Ed25519');
	return { key, id: peerIdFromPrivateKey(key).toString() };
}

describe('channel rights', () => {
	it('counts settings marks signed by current admins only, and follows them in clock order', async () => {
		const [admin, member] = [await device(), await device()];
		const roles: Record<string, string> = { [admin.id]: 'admin', [member.id]: 'member' };
		const roleOf = (peer: string) => roles[peer];
		const ws = new WorkspaceDoc(new Y.Doc());
		ws.createChannel({ id: 'news', name: 'news', topic: '', private: false, readOnly: true, archived: false, createdAt: 1, createdBy: admin.id });
		expect(readOnlySpans(ws, 'news', roleOf)).toEqual([{ from: '', to: undefined }]);

		const byMember = await signSettingsMark(member.key, { channel: 'news', field: 'readOnly', value: false, by: member.id, hlc: at(100, member.id) });
		ws.markSetting(byMember);
		const forged = { ...byMember, by: admin.id, hlc: at(150, admin.id) };
		ws.markSetting(forged);
		expect(acceptSettings(roleOf)(byMember)).toBe(false);
		expect(acceptSettings(roleOf)(forged)).toBe(false);
		expect(readOnlySpans(ws, 'news', roleOf)).toEqual([{ from: '', to: undefined }]);

		ws.markSetting(await signSettingsMark(admin.key, { channel: 'news', field: 'readOnly', value: false, by: admin.id, hlc: at(200, admin.id) }));
		ws.markSetting(await signSettingsMark(admin.key, { channel: 'news', field: 'readOnly', value: true, by: admin.id, hlc: at(400, admin.id) }));
		expect(readOnlySpans(ws, 'news', roleOf)).toEqual([
			{ from: '', to: at(200, admin.id) },
			{ from: at(400, admin.id), to: undefined }
		]);
		expect(ws.channel('news', { settings: acceptSettings(roleOf), creation: () => true })?.readOnly).toBe(true);

		const rules = { roleOf, readOnly: readOnlySpans(ws, 'news', roleOf) };
		expect(postShows(msg('a', member.id, at(100, member.id)), rules)).toBe(false); // read-only then
		expect(postShows(msg('b', member.id, at(300, member.id)), rules)).toBe(true); // writable then
		expect(postShows(msg('c', member.id, at(500, member.id)), rules)).toBe(false);
		expect(postShows(msg('d', admin.id, at(500, admin.id)), rules)).toBe(true);
	});

	it('does not carry a genuine mark’s verdict over to a copy with another value and the same signature', async () => {
		const admin = await device();
		const accept = acceptSettings((peer) => (peer === admin.id ? 'admin' : undefined));
		const genuine = await signSettingsMark(admin.key, { channel: 'news', field: 'readOnly', value: true, by: admin.id, hlc: at(100, admin.id) });
		expect(accept(genuine)).toBe(true); // checked, and remembered
		expect(accept({ ...genuine, value: false })).toBe(false);
		expect(accept({ ...genuine, field: 'archived' })).toBe(false);
	});

	it('lists a channel only when its creation counts: signed by a device that may create channels, or kept by an admin', async () => {
		const [owner, member, guest, relay, stranger, gone] = await Promise.all([device(), device(), device(), device(), device(), device()]);
		const now: Record<string, string> = { [owner.id]: 'owner', [member.id]: 'member', [guest.id]: 'guest', [relay.id]: 'relay' };
		const ever: Record<string, string> = { ...now, [gone.id]: 'member' }; // `gone` was a member, then removed
		const ws = new WorkspaceDoc(new Y.Doc());
		const entry = (id: string, by: string) => ({ id, name: id, topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: by });
		ws.createChannel(await signChannelEntry(owner.key, entry('by-owner', owner.id)));
		ws.createChannel(await signChannelEntry(member.key, entry('by-member', member.id)));
		ws.createChannel(await signChannelEntry(gone.key, entry('by-former-member', gone.id)));
		ws.createChannel(await signChannelEntry(guest.key, entry('by-guest', guest.id)));
		ws.createChannel(await signChannelEntry(relay.key, entry('by-relay', relay.id)));
		ws.createChannel(await signChannelEntry(stranger.key, entry('by-stranger', stranger.id)));
		ws.createChannel(entry('unsigned', member.id));
		ws.createChannel({ ...(await signChannelEntry(guest.key, entry('forged', guest.id))), createdBy: member.id }); // a guest's signature in a member's name
		const signed = await signChannelEntry(member.key, entry('altered', member.id));
		ws.createChannel({ ...signed, readOnly: true }); // changed after signing

		const rules = channelRules((p) => now[p], (p) => ever[p]);
		expect(ws.listChannels(rules).map((c) => c.id)).toEqual(['by-former-member', 'by-member', 'by-owner']);
		expect(ws.channel('by-guest', rules)).toBeUndefined();

		const adminView = channelRules((p) => now[p], (p) => ever[p], true);
		const unverified = ws.listChannels(adminView).filter((c) => c.unverified === true).map((c) => c.id);
		expect(unverified.sort()).toEqual(['altered', 'by-guest', 'by-relay', 'by-stranger', 'forged', 'unsigned']);

		// An owner's counted settings mark keeps an unsigned channel (one made before entries were signed); a member's does not.
		ws.markSetting(await signSettingsMark(member.key, { channel: 'by-guest', field: 'name', value: 'by-guest', by: member.id, hlc: at(10, member.id) }));
		ws.markSetting(await signSettingsMark(owner.key, { channel: 'unsigned', field: 'name', value: 'unsigned', by: owner.id, hlc: at(20, owner.id) }));
		expect(ws.listChannels(rules).map((c) => c.id)).toEqual(['by-former-member', 'by-member', 'by-owner', 'unsigned']);
	});

	it('withholds a guest’s posts anywhere, and shows former members’ history in writable spans', () => {
		const roles: Record<string, string> = { guest: 'guest' };
		const rules = { roleOf: (peer: string) => roles[peer], readOnly: [] };
		expect(postShows(msg('g', 'guest', at(10, 'guest')), rules)).toBe(false);
		expect(postShows(msg('f', 'former', at(10, 'former')), rules)).toBe(true);
	});

	it('shows a relay device’s message only as a model’s answer where its asker may post (the relay never posts)', () => {
		const roles: Record<string, string> = { relay: 'relay', relay2: 'relay', admin: 'admin', member: 'member', guest: 'guest' };
		const roleOf = (peer: string) => roles[peer];
		// Each answer names its asker's question, asking this model of the relay (answerProof.test.ts checks the signed form).
		const questions = new Map<string, MessageRecord>();
		for (const asker of Object.keys(roles)) {
			for (const t of [50, 150]) questions.set(`q-${asker}-${t}`, { ...msg(`q-${asker}-${t}`, asker, at(t - 1, asker)), ask: { model: 'tiny', host: 'relay' } });
		}
		// Each question's one answer is `a-…` of its name (channelRights.ts `channelQuestions` finds it in a channel).
		const lookup = Object.assign((id: string) => questions.get(id), { firstAnswer: (q: string) => `a-${q.slice(2)}` });
		const readOnly = { roleOf, readOnly: [{ from: at(100, ''), to: undefined }], questions: lookup };
		const writable = { roleOf, readOnly: [], questions: lookup };
		const answer = (askedBy: string, t: number) => ({ ...msg(`a-${askedBy}-${t}`, 'relay', at(t, 'relay')), model: 'tiny', askedBy, question: `q-${askedBy}-${t}` });
		// A plain message by the relay shows nowhere, read-only or not.
		expect(postShows(msg('p', 'relay', at(50, 'relay')), writable)).toBe(false);
		expect(postShows(msg('q', 'relay', at(150, 'relay')), readOnly)).toBe(false);
		// An answer shows where and when its asker may post.
		expect(postShows(answer('member', 50), readOnly)).toBe(true);
		expect(postShows(answer('member', 150), readOnly)).toBe(false);
		expect(postShows(answer('admin', 150), readOnly)).toBe(true);
		expect(postShows(answer('guest', 50), writable)).toBe(false);
		// Not asked by the relay itself, nor by another relay.
		expect(postShows(answer('relay', 50), writable)).toBe(false);
		expect(postShows(answer('relay2', 50), writable)).toBe(false);
		// Nor without the question it names: none named (a record from before), none in the channel, or no questions to look in.
		const { question: _none, ...unnamed } = answer('member', 50);
		expect(postShows(unnamed, writable)).toBe(false);
		expect(postShows({ ...answer('member', 50), question: 'q-missing' }, writable)).toBe(false);
		expect(postShows(answer('member', 50), { roleOf, readOnly: [] })).toBe(false);
	});

	it('hides a message only by a current admin’s genuine mark: a member’s own mark or one forged in an admin’s name changes nothing', async () => {
		const [admin, member] = [await device(), await device()];
		const roles: Record<string, string> = { [admin.id]: 'admin', [member.id]: 'member' };
		const roleOf = (peer: string) => roles[peer];
		const own = await signModerationMark(member.key, { msg: 'm1', by: member.id, hlc: at(300, member.id), hidden: true });
		const forged = { ...own, by: admin.id, hlc: at(400, admin.id) }; // the member's signature under the admin's name
		const genuine = async (marks: typeof own[]) => {
			const results = await Promise.all(marks.map((m) => moderationMarks.verify(m)));
			return (mark: typeof own) => results[marks.indexOf(mark)] === true;
		};
		let marks = [forged, own];
		expect(hiddenBy(marks, roleOf, await genuine(marks))).toBeUndefined();

		const real = await signModerationMark(admin.key, { msg: 'm1', by: admin.id, hlc: at(200, admin.id), hidden: true });
		marks = [forged, own, real];
		expect(hiddenBy(marks, roleOf, await genuine(marks))).toEqual({ by: admin.id, hlc: at(200, admin.id) });
		// Demoted, the admin's marks stop counting.
		roles[admin.id] = 'member';
		expect(hiddenBy(marks, roleOf, await genuine(marks))).toBeUndefined();
	});

	it('unseen messages: hidden by a moderator (genuine marks only) or withheld by the posting rules', async () => {
		const [admin, member, guest] = await Promise.all([device(), device(), device()]);
		const roles: Record<string, string> = { [admin.id]: 'admin', [member.id]: 'member', [guest.id]: 'guest' };
		const roleOf = (peer: string) => roles[peer];
		const channel = new ChannelDoc(new Y.Doc());
		channel.post(msg('m1', member.id, at(100, member.id), 'an off-topic rant'));
		channel.post(msg('m2', member.id, at(110, member.id), 'fine'));
		channel.post(msg('g1', guest.id, at(120, guest.id), 'guest post'));
		channel.markModeration(await signModerationMark(admin.key, { msg: 'm1', by: admin.id, hlc: at(200, admin.id), hidden: true }));
		const forged = await signModerationMark(member.key, { msg: 'm2', by: member.id, hlc: at(300, member.id), hidden: true });
		channel.markModeration({ ...forged, by: admin.id, hlc: at(300, admin.id) });
		const rules = { roleOf, readOnly: [] };
		expect([...(await unseenMessages(channel, rules))].sort()).toEqual(['g1', 'm1']);
		// Shown again by the admin: seen.
		channel.markModeration(await signModerationMark(admin.key, { msg: 'm1', by: admin.id, hlc: at(400, admin.id), hidden: false }));
		expect([...(await unseenMessages(channel, rules))]).toEqual(['g1']);
	});
});

