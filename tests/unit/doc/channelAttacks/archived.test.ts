/**
 * A post dated while a channel was archived does not show, whoever wrote it (found in review:
 * only the composer and the model hosts refused one, and a modified client's post into an
 * archived channel showed everywhere, in search and export too).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { acceptSettings, postShows, archivedSpans, readOnlySpans, unseenMessages, type PostingRules } from '../../../../src/lib/doc/channelRights.js';
import { signChannelEntry, signMessage, signSettingsMark } from '../../../../src/lib/doc/signature.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { at } from '../helpers.js';
import { replica } from './replica.js';
import { team } from './team.js';

describe('a post into an archived channel', () => {
	it('is withheld, as the composer and the model hosts refuse it', async () => {
		const t = await team();
		const root = new WorkspaceDoc(new Y.Doc());
		root.createChannel(await signChannelEntry(t.admin.key, { id: 'old', name: 'old', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.admin.id }));
		root.markSetting(await signSettingsMark(t.admin.key, { channel: 'old', field: 'archived', value: true, by: t.admin.id, hlc: at(200, t.admin.id) }));
		expect(root.channel('old', { settings: acceptSettings(t.roleOf), creation: () => true })?.archived).toBe(true);

		// As WorkspaceState.postingRules builds them.
		const rules: PostingRules = { roleOf: t.roleOf, readOnly: readOnlySpans(root, 'old', t.roleOf), archived: archivedSpans(root, 'old', t.roleOf) };
		const channel = replica('old');
		const before = await signMessage(t.member.key, { id: 'a', author: t.member.id, hlc: at(100, t.member.id), text: 'before' }, 'old');
		const after = await signMessage(t.member.key, { id: 'b', author: t.member.id, hlc: at(300, t.member.id), text: 'posted into the archive' }, 'old');
		channel.postMany([before, after]);
		expect(postShows(before, rules)).toBe(true);
		expect(postShows(after, rules)).toBe(false);
		expect((await unseenMessages(channel, rules)).has('b')).toBe(true);
		// Restored: a later post shows again.
		root.markSetting(await signSettingsMark(t.admin.key, { channel: 'old', field: 'archived', value: false, by: t.admin.id, hlc: at(400, t.admin.id) }));
		const restored: PostingRules = { ...rules, archived: archivedSpans(root, 'old', t.roleOf) };
		const later = await signMessage(t.member.key, { id: 'c', author: t.member.id, hlc: at(500, t.member.id), text: 'back' }, 'old');
		expect(postShows(later, restored)).toBe(true);
		expect(postShows(after, restored)).toBe(false);
	});
});
