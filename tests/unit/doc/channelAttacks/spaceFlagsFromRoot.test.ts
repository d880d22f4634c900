/**
 * Found in review. A member outside a private space lists the space's id in the workspace root as an open
 * channel, created archived and read-only (the team names every space's id; the root's write
 * policy takes the entry). WorkspaceState.channelEntry reads the root first, and postingRules
 * reads the root entry's flags for any id (channelRights.ts flagSpans), so on the space
 * members' own replicas: every post in the private channel / DM is withheld ("Not shown:
 * posted where its author may not post"), the composer is disabled, and the channel's header
 * shows Mallory's name for it. Nobody inside the space did anything.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { postShows } from '../../../../src/lib/doc/channelRights.js';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { signChannelEntry } from '../../../../src/lib/doc/signature.js';
import { checkRemoteUpdate } from '../../../../src/lib/doc/team/writePolicy.js';
import { WorkspaceDoc } from '../../../../src/lib/doc/WorkspaceDoc.js';
import type { WorkspaceState } from '../../../../src/lib/state/WorkspaceState.svelte.js';
import { isMessageRecord } from '../../../../src/lib/doc/validate.js';
import { newDevice } from '../team/teamKit.js';
import { post, T0, world, type World } from '../../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterAll(async () => {
	await state?.close().catch(() => undefined);
});

/** `by` lists `id` in the root as an archived, read-only open channel, which the root's write policy refuses; applied all the same. */
async function listInRoot(w: World, by: { key: unknown; peerId: string }, id: string): Promise<void> {
	const theirs = new Y.Doc();
	Y.applyUpdate(theirs, Y.encodeStateAsUpdate(w.root.doc));
	const sv = Y.encodeStateVector(theirs);
	new WorkspaceDoc(theirs).createChannel(
		await signChannelEntry(by.key as never, { id, name: 'SECURITY-ALERT', topic: '', private: false, readOnly: true, archived: true, createdAt: T0 + 5, createdBy: by.peerId })
	);
	const update = Y.encodeStateAsUpdate(theirs, sv);
	// The root's write policy refuses it now (rootPolicy.ts: no index lists a space's id); a
	// replica that took it before that rule, or wrote it itself, holds it all the same.
	expect(checkRemoteUpdate(w.ws, w.ws, w.root.doc, update)).toMatch(/private space's id/);
	Y.applyUpdate(w.root.doc, update, 'mesh');
}

describe('a private space silenced by a root entry of its id', () => {
	it('a member outside the space cannot withhold its posts, disable its composer or rename it', async () => {
		const w = await world();
		const secretDoc = await w.hold(w.secret);
		await post(secretDoc, w.owner, 1, 'board: the launch moved to Friday');
		await post(secretDoc, w.alice, 2, 'ack');
		await listInRoot(w, w.mallory, w.secret);

		state = await w.open();
		await state.team.authority.settled?.();
		expect(state.spaces.channels.map((c) => c.id)).toContain(w.secret); // Alice's private channel

		const messages = new ChannelDoc(secretDoc).messages.toArray().filter(isMessageRecord);
		const rules = state.postingRules(w.secret);
		const info = state.channelEntry(w.secret);
		// What Alice is shown in her own private channel:
		expect(messages.map((m) => postShows(m, rules))).toEqual([true, true]);
		expect(state.canPost(info)).toBe(true);
		expect(info?.archived).toBe(false);
		expect(info?.name).not.toBe('SECURITY-ALERT');
	});

	it('even a guest (whose channel entries count for nobody) withholds a space\'s posts this way', async () => {
		const w = await world();
		const guest = await newDevice();
		await w.op(w.owner, { t: 'add', member: guest.peerId, role: 'guest', name: 'Gus' });
		const secretDoc = await w.hold(w.secret);
		await post(secretDoc, w.owner, 1, 'board: the launch moved to Friday');
		await listInRoot(w, guest, w.secret);

		state = await w.open();
		await state.team.authority.settled?.();
		const [m] = new ChannelDoc(secretDoc).messages.toArray().filter(isMessageRecord);
		expect(postShows(m!, state.postingRules(w.secret))).toBe(true);
		expect((await state.unseen(w.secret, secretDoc)).size).toBe(0); // search and export leave nothing out
	});
});
