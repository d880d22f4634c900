/**
 * Channels that look alike are told apart, as members are (nameSkeleton.ts `distinctLabels`).
 * A channel's name is a member's to choose, and shown cleaned (shownNames.ts): found in review,
 * Mallory's "gen\u200Beral" showed as exactly "general", and "gеneral" (a Cyrillic е) as good as,
 * beside the real one in the sidebar, the header, search results and notifications, and in the
 * model's channel list. Each channel that looks like another now shows its id's tail, in every
 * view alike; the model finds them by that name, or is asked for an id. Real services on
 * fake-indexeddb, a signed team (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { findChannel, readableChannels } from '../../../src/lib/ai/tools/workspaceToolAccess.js';
import { newId } from '../../../src/lib/doc/ids.js';
import { signChannelEntry } from '../../../src/lib/doc/signature.js';
import type { Device } from '../doc/team/teamKit.js';
import type { WorkspaceState } from '../../../src/lib/state/WorkspaceState.svelte.js';
import { T0, world, type World } from '../knowledge/attacks/world.js';

let state: WorkspaceState | undefined;
afterEach(async () => {
	await state?.close().catch(() => undefined);
	state = undefined;
});

/** `by` lists an open channel named `name` in the root. */
async function channelNamed(w: World, by: Device, name: string, at: number): Promise<string> {
	const id = newId();
	w.root.createChannel(await signChannelEntry(by.key, { id, name, topic: '', private: false, readOnly: false, archived: false, createdAt: T0 + at, createdBy: by.peerId }));
	return id;
}

describe('channels whose names look alike', () => {
	it('each show their id’s tail, in the list and in the entry every other view reads; others are left alone', async () => {
		const w = await world();
		const general = await channelNamed(w, w.owner, 'general', 1);
		const hidden = await channelNamed(w, w.mallory, 'gen\u200Beral', 2);
		const cyrillic = await channelNamed(w, w.mallory, 'g\u0435neral', 3);
		const random = await channelNamed(w, w.owner, 'random', 4);
		state = await w.open();
		await state.team.authority.settled?.();

		const shown = new Map(state.channels.map((c) => [c.id, c.name]));
		const names = [general, hidden, cyrillic].map((id) => shown.get(id));
		expect(new Set(names).size).toBe(3);
		for (const [i, id] of [general, hidden, cyrillic].entries()) expect(names[i]).toContain(id.slice(-6));
		expect(shown.get(random)).toBe('random');
		for (const id of [general, hidden, cyrillic, random]) expect(state.channelEntry(id)?.name).toBe(shown.get(id));

		// The model's channel tools list them so, and asked for "general" ask which one.
		const team = state.team.authority;
		const channels = await readableChannels(w.root, team, w.alice.peerId, async (id) => ({ doc: await w.hold(id), release: () => undefined }));
		const listed = new Map(channels.map((c) => [c.id, c.name]));
		for (const id of [general, hidden, cyrillic, random]) expect(listed.get(id)).toBe(shown.get(id));
		expect(findChannel(channels, 'general')).toMatch(/^Several channels/);
		expect(findChannel(channels, `#${shown.get(general)}`)).toMatchObject({ id: general });
	});
});
