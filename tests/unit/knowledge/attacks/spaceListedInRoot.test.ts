/**
 * Found in review: a member lists a private space's id as an open channel in the workspace root.
 * WorkspaceState.channels then lists the space twice (once as the root's open channel), and
 * knowledgeFor keeps it (`!c.private`): Alice's AI chat, which every member (Mallory too)
 * reads, quotes the private channel's messages, and the prompt goes to a model host outside it.
 * (The workspace tools already leave such ids out: workspaceToolAccess.ts readableChannels.)
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { signChannelEntry } from '../../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import { knowledgeFor, post, T0, world, type World } from './world.js';
import type { WorkspaceState } from '../../../../src/lib/state/WorkspaceState.svelte.js';

let w: World;
let state: WorkspaceState | undefined;

afterAll(async () => {
	await state?.close().catch(() => undefined);
});

describe('workspace knowledge and a space id listed in the root', () => {
	it('never quotes a private channel into an AI chat, even when a member lists its id in the root', async () => {
		w = await world();
		const generalDoc = await w.hold(w.general);
		await post(generalDoc, w.owner, 1, 'The launch window opens on Friday');
		const secretDoc = await w.hold(w.secret);
		const secretMsg = await post(secretDoc, w.alice, 2, 'Board only: the launch code is 4471-ALPHA');
		// Mallory (not in the space) signs a channel entry naming the space's id: the team names every space's id.
		// Made on Mallory's replica of the root. Alice's replica's write policy refuses it now
		// (rootPolicy.ts: no index lists a space's id); one that took it before holds it all the same.
		const mallorys = new Y.Doc();
		Y.applyUpdate(mallorys, Y.encodeStateAsUpdate(w.root.doc));
		const sv = Y.encodeStateVector(mallorys);
		new WorkspaceDoc(mallorys).createChannel(await signChannelEntry(w.mallory.key, { id: w.secret, name: 'launch-notes', topic: '', private: false, readOnly: false, archived: false, createdAt: T0 + 5, createdBy: w.mallory.peerId }));
		const update = Y.encodeStateAsUpdate(mallorys, sv);
		expect(checkRemoteUpdate(w.ws, w.ws, w.root.doc, update)).toMatch(/private space's id/);
		Y.applyUpdate(w.root.doc, update, 'mesh');

		state = await w.open();
		await state.team.authority.settled?.();
		// Sanity: the space is Alice's private channel.
		expect(state.spaces.channels.map((c) => c.id)).toContain(w.secret);

		const { prompt, sources } = await knowledgeFor(state, 'launch code');
		expect(prompt).toContain('launch window'); // the open channel is quoted
		expect(prompt).not.toContain('4471');
		expect(sources.map((s) => s.itemId)).not.toContain(secretMsg);
		expect(sources.map((s) => s.docId)).not.toContain(w.secret);
	});
});
