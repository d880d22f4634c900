/**
 * A channel's, a private channel's and a workspace's name is a member's to choose, and the
 * sidebar, the header, search results, the composer's placeholder and the switcher show it.
 * Found in review: outside notifications they kept bidi controls (an RLO reversed the text after
 * it on its line), invisible characters and line breaks. WorkspaceState gives every view the
 * name as shownNames.ts shows it. Real services on fake-indexeddb, a signed team (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signChannelEntry } from '../../../src/lib/doc/signature.js';
import { newSpaceId } from '../../../src/lib/doc/team/teamId.js';
import { searchHitPlace } from '../../../src/lib/state/openSearchHit.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { SearchKind } from '../../../src/lib/store/search/rows.js';
import type { SearchHit } from '../../../src/lib/store/search/SearchIndex.js';
import { T0, world, type World } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterEach(async () => {
	await state?.close().catch(() => undefined);
	state = undefined;
});

/** The owner lists an open channel named `name` in the root. */
async function channelNamed(w: World, name: string): Promise<string> {
	const id = newId();
	w.root.createChannel(await signChannelEntry(w.owner.key, { id, name, topic: '', private: false, readOnly: false, archived: false, createdAt: T0 + 1, createdBy: w.owner.peerId }));
	return id;
}

function messageHit(docId: string): SearchHit {
	return { kind: SearchKind.message, docId, itemId: newId() } as SearchHit;
}

describe('channel, space and workspace names with bidi controls, invisible characters and line breaks', () => {
	it('are shown on one line without them, wherever a view reads a channel', async () => {
		const w = await world();
		const payroll = await channelNamed(w, 'pay\u202Eroll\u200B\nnow\u2066');
		const blank = await channelNamed(w, '\u200B\u202E\uFEFF');
		const { space, nonce } = newSpaceId(w.ws, w.alice.peerId);
		await w.op(w.alice, { t: 'space', space, nonce, kind: 'private', members: [w.alice.peerId, w.mallory.peerId] });
		new ChannelDoc(await w.hold(space)).setSpaceInfo({ name: 'board\u202E-only\r\nsecret', topic: '' });

		state = await w.open();
		await state.team.authority.settled?.();
		const shown = new Map(state.channels.map((c) => [c.id, c.name]));
		// The sidebar's list, which the AI's channel choices and knowledge labels read too:
		expect(shown.get(payroll)).toBe('payroll now');
		expect(shown.get(blank)).toBe(`…${blank.slice(-6)}`);
		expect(shown.get(space)).toBe('board-only secret');
		// The header, the composer's placeholder and notifications read the entry:
		expect(state.channelEntry(payroll)?.name).toBe('payroll now');
		expect(state.channelEntry(space)?.name).toBe('board-only secret');
		// Search results name where a message was found:
		expect(searchHitPlace(state, messageHit(payroll))).toBe('payroll now');
		expect(searchHitPlace(state, messageHit(space))).toBe('board-only secret');
		// What was written stays in the document:
		expect(w.root.channel(payroll, state.channelRules)?.name).toBe('pay\u202Eroll\u200B\nnow\u2066');
	});

	it('a name of thousands of characters is cut to one line of 80', async () => {
		const w = await world();
		const long = await channelNamed(w, 'x'.repeat(5_000));
		state = await w.open();
		await state.team.authority.settled?.();
		expect([...(state.channelEntry(long)?.name ?? '')]).toHaveLength(80);
	});

	it('the workspace name in the header and in the switcher\'s stored row', async () => {
		const w = await world();
		w.root.name = 'Har\u202Ebour\u200B\n\u2067ops';
		state = await w.open();
		expect(state.name).toBe('Harbour ops');
		// The switcher shows the stored row, which follows the root's name:
		w.root.name = 'Dock\u202Eyard\u2028two';
		expect(state.name).toBe('Dockyard two');
		await vi.waitFor(async () => expect((await w.services.db.workspaces.get(w.ws))?.name).toBe('Dockyard two'));
	});
});
