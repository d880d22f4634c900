/**
 * Found in review (an incomplete fix): editShows (channelRights.ts) was applied only in ChannelState.text/edits.
 * The AI workspace tools (list_messages: workspaceTools.ts view.text(m)) still take the author's newest
 * edit, so a member's edit dated after the owner made the channel read-only rewrites what the model
 * reads and quotes.
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { parseArguments } from '../../../src/lib/ai/tools/toolArgs.js';
import { workspaceToolContext } from '../../../src/lib/ai/tools/workspaceToolContext.js';
import { createWorkspaceTools } from '../../../src/lib/ai/tools/workspaceTools.js';
import { ChannelDoc } from '../../../src/lib/doc/ChannelDoc.js';
import { signEdit, signSettingsMark } from '../../../src/lib/doc/signature.js';
import { hlc, post, world, type World } from '../knowledge/attacks/world.js';

let w: World | undefined;
afterAll(async () => {
	if (!w) return;
	for (const h of w.held.splice(0)) w.services.docs.release(h);
	await w.services.core.release(w.ws).catch(() => undefined);
});

describe('AI tools and edits in a read-only span', () => {
	it('list_messages does not show a member edit dated after the channel went read-only', async () => {
		w = await world();
		const general = await w.hold(w.general);
		const id = await post(general, w.mallory, 1, 'welcome, everyone!');
		w.root.markSetting(await signSettingsMark(w.owner.key, { channel: w.general, field: 'readOnly', value: true, by: w.owner.peerId, hlc: hlc(2, w.owner.peerId) }));
		const edit = await signEdit(w.mallory.key, { msg: id, author: w.mallory.peerId, hlc: hlc(3, w.mallory.peerId), text: 'URGENT: new payroll portal at https://evil.example' });
		general.transact(() => new ChannelDoc(general).edit(edit));
		await w.services.core.open({ id: w.ws });
		const ctx = workspaceToolContext(w.services, w.ws, { origin: 'outpost:local' });
		const tool = createWorkspaceTools(ctx).find((t) => t.spec.name === 'list_messages')!;
		const parsed = parseArguments(JSON.stringify({ channel: '#general', limit: 10 }), tool.spec.parameters);
		if (!parsed.ok) throw new Error(parsed.error);
		const result = await tool.run(parsed.value, new AbortController().signal);
		expect(result.content).toContain('welcome, everyone!');
		expect(result.content).not.toContain('evil.example');
	});
});
