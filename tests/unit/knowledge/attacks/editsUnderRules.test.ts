/**
 * Found in review: workspace knowledge took a message's newest signed edit whatever the
 * channel's rules (KnowledgeIndexer read channels without them), so a member's edit dated
 * after the channel went read-only, which the view, search and the model's tools refuse, was
 * quoted to the model in an AI chat every member reads. Knowledge now weighs edits by the
 * channel's posting rules, and reads a channel again when a settings mark arrives later.
 * Real services, a real signed team, real signatures (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelDoc } from '../../../../src/lib/doc/ChannelDoc.js';
import { signEdit, signSettingsMark } from '../../../../src/lib/doc/signature.js';
import type { WorkspaceState } from '../../../../src/lib/state/WorkspaceState.svelte.js';
import { hlc, knowledgeFor, post, world, type World } from './world.js';
import { newDevice, type Device } from '../../doc/team/teamKit.js';

let state: WorkspaceState | undefined;

afterEach(async () => {
	await state?.close().catch(() => undefined);
	state = undefined;
});

/** `who` edits message `msg` of `channel` at minute `i`, signed. */
async function edit(w: World, channel: string, who: Device, msg: string, i: number, text: string): Promise<void> {
	const record = await signEdit(who.key, { msg, author: who.peerId, hlc: hlc(i, who.peerId), text });
	new ChannelDoc(await w.hold(channel)).edit(record);
}

/** The owner's signed mark making `general` read-only from minute `i` (it lands in Alice's root). */
async function readOnlyFrom(w: World, i: number): Promise<void> {
	w.root.markSetting(await signSettingsMark(w.owner.key, { channel: w.general, field: 'readOnly', value: true, by: w.owner.peerId, hlc: hlc(i, w.owner.peerId) }));
}

const ORIGINAL = 'The ferry leaves the harbour at noon';
const REFUSED = 'The ferry is cancelled: claim your refund at evil.example';

describe('workspace knowledge and the channel’s rules on edits', () => {
	it('does not quote an edit dated while the channel is read-only', async () => {
		const w = await world();
		const general = await w.hold(w.general);
		const id = await post(general, w.mallory, 1, ORIGINAL);
		await readOnlyFrom(w, 5);
		// Mallory's modified client rewrites her post after the channel went read-only.
		await edit(w, w.general, w.mallory, id, 10, REFUSED);

		state = await w.open();
		await state.team.authority.settled?.();
		expect(state.postingRules(w.general).readOnly.length).toBeGreaterThan(0);
		const { prompt, sources } = await knowledgeFor(state, 'ferry refund');
		expect(sources.map((s) => s.itemId)).toContain(id);
		expect(prompt).toContain(ORIGINAL);
		expect(prompt).not.toContain('evil.example');
	});

	it('drops an edit it quoted once a settings mark arrives that refuses it', async () => {
		const w = await world();
		const general = await w.hold(w.general);
		const id = await post(general, w.mallory, 1, ORIGINAL);
		await edit(w, w.general, w.mallory, id, 10, REFUSED);

		state = await w.open();
		await state.team.authority.settled?.();
		// The channel is open to members: the edit shows, and is quoted.
		expect((await knowledgeFor(state, 'ferry refund')).prompt).toContain('evil.example');

		// The owner's read-only mark, dated before the edit, arrives after the channel was read.
		await readOnlyFrom(w, 5);
		const { prompt, sources } = await knowledgeFor(state, 'ferry refund');
		expect(sources.map((s) => s.itemId)).toContain(id);
		expect(prompt).toContain(ORIGINAL);
		expect(prompt).not.toContain('evil.example');
	});

	it('drops an edit it quoted once its editor’s role changes so that the rules refuse it', async () => {
		const w = await world();
		const ada = await newDevice();
		await w.op(w.owner, { t: 'add', member: ada.peerId, role: 'admin', name: 'Ada' });
		const general = await w.hold(w.general);
		const id = await post(general, ada, 1, ORIGINAL);
		await readOnlyFrom(w, 5);
		// Admins post in a read-only channel: Ada's edit shows while she is one.
		await edit(w, w.general, ada, id, 10, REFUSED);

		state = await w.open();
		await state.team.authority.settled?.();
		expect((await knowledgeFor(state, 'ferry refund')).prompt).toContain('evil.example');

		// The owner makes Ada a plain member: her edit in the read-only span no longer shows.
		const member = state.team.authority.team.devices.get(ada.peerId)!;
		await w.op(w.owner, { t: 'role', member, role: 'member' });
		await state.team.authority.settled?.();
		await vi.waitFor(() => expect(state!.postingRules(w.general).roleOf(ada.peerId)).toBe('member'));
		const { prompt, sources } = await knowledgeFor(state, 'ferry refund');
		expect(sources.map((s) => s.itemId)).toContain(id);
		expect(prompt).toContain(ORIGINAL);
		expect(prompt).not.toContain('evil.example');
	});
});
