/**
 * Found in review. Read-only and archived spans withheld posts dated in them, but not edits: a member's post from
 * before the channel became read-only (or was archived) is rewritten by a signed edit dated
 * inside the span, and every replica shows the new text (ChannelView.text takes the author's
 * newest edit; ChannelState.text passes it on, whatever postingRules say). Only the UI refuses:
 * MessageItem offers Edit only when `canWrite`. So in an announcements channel the owner made
 * read-only, a member's old "welcome!" becomes "URGENT: new payroll portal at evil.example".
 */
import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { assembleServices } from '../../../../src/lib/app.js';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { signChannelEntry, signEdit, signMessage, signSettingsMark } from '../../../../src/lib/doc/signature.js';
import { archivedSpans, readOnlySpans } from '../../../../src/lib/doc/channelRights.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { ChannelState } from '../../../../src/lib/state/ChannelState.svelte.js';
import { DocStore } from '../../../../src/lib/store/DocStore.js';
import { OutpostDb } from '../../../../src/lib/store/db.js';
import { at } from '../helpers.js';
import { team } from './team.js';

async function viewer() {
	const privateKey = await generateKeyPair('Ed25519');
	return assembleServices(new OutpostDb(`rm-${newId()}`), new DocStore(`rm-${newId()}:`), { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), displayName: 'Viewer' });
}

for (const field of ['readOnly', 'archived'] as const) {
	describe(`an edit dated while the channel is ${field}`, () => {
		it('does not change what a member\'s post says', async () => {
			const t = await team();
			const id = newId();
			const root = new WorkspaceDoc(new Y.Doc());
			root.createChannel(await signChannelEntry(t.owner.key, { id, name: 'announcements', topic: '', private: false, readOnly: false, archived: false, createdAt: 1, createdBy: t.owner.id }));
			root.markSetting(await signSettingsMark(t.owner.key, { channel: id, field, value: true, by: t.owner.id, hlc: at(200, t.owner.id) }));

			const svc = await viewer();
			const state = await ChannelState.open(svc, 'ws', id);
			state.postingRules = { roleOf: t.roleOf, readOnly: readOnlySpans(root, id, t.roleOf), archived: archivedSpans(root, id, t.roleOf) };
			const post = await signMessage(t.member.key, { id: 'old', author: t.member.id, hlc: at(100, t.member.id), text: 'welcome, everyone!' }, id);
			const edit = await signEdit(t.member.key, { msg: 'old', author: t.member.id, hlc: at(300, t.member.id), text: 'URGENT: new payroll portal at https://evil.example' });
			const handle = svc.docs.open(id);
			const remote = new Y.Doc();
			Y.applyUpdate(remote, Y.encodeStateAsUpdate(handle.doc));
			const sv = Y.encodeStateVector(remote);
			new ChannelDoc(remote).post(post);
			new ChannelDoc(remote).edit(edit);
			svc.docs.applyUpdate(handle, Y.encodeStateAsUpdate(remote, sv), 'mesh');

			const [m] = state.messages;
			expect(m?.id).toBe('old');
			expect(state.isWithheld(m!)).toBe(false); // posted before: shows
			expect(state.text(m!)).toBe('welcome, everyone!');
			svc.docs.release(handle);
			await state.close();
		});
	});
}
