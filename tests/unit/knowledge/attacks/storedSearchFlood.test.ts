/**
 * Found in review: the model's search tool over the stored index (workspaceToolContext.ts
 * `storedSearch`, used when no live search is open) read back one page of hits and left the
 * rights to the tool after, so a guest's flood of posts, which the index keeps and the channel
 * withholds, filled the page: the model was told nothing matched while a member's post did.
 * The stored search now leaves out what the member is not shown page by page, as the live
 * search (SearchState) does. Real services, a real signed team, real signatures (world.ts).
 */
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { workspaceToolContext } from '../../../../src/lib/ai/tools/workspaceToolContext.js';
import { createWorkspaceTools } from '../../../../src/lib/ai/tools/workspaceTools.js';
import { SearchIndex } from '../../../../src/lib/store/search/SearchIndex.js';
import { SearchIndexer } from '../../../../src/lib/store/search/SearchIndexer.js';
import { newDevice } from '../../doc/team/teamKit.js';
import { post, world, type World } from './world.js';

let w: World | undefined;

afterAll(async () => {
	if (w === undefined) return;
	for (const handle of w.held.splice(0)) w.services.docs.release(handle);
	await w.services.core.release(w.ws);
});

describe('the model’s search over the stored index', () => {
	it('finds a member’s post under a guest’s flood of withheld posts', async () => {
		w = await world();
		const gus = await newDevice();
		await w.op(w.owner, { t: 'add', member: gus.peerId, role: 'guest', name: 'Gus' });
		const general = await w.hold(w.general);
		// Guests' posts show to nobody; these rank above the member's (short, the word repeated).
		for (let i = 0; i < 60; i++) await post(general, gus, i + 1, `refund refund refund ${i}`);
		const real = await post(general, w.mallory, 100, 'The refund desk opens at nine in the harbour office, bring the ticket stub and a form of identification');
		const { authority } = await w.services.core.open({ id: w.ws });
		await authority.settled?.();
		expect(authority.roleOf(gus.peerId)).toBe('guest');

		const index = await SearchIndex.open({ db: w.services.db, workspaceId: w.ws, snapshotDelayMs: 10 });
		const indexer = new SearchIndexer({ docs: w.services.docs, root: w.root, index });
		await indexer.start();
		await indexer.stop();
		// Sanity: the guest's posts fill the first hits the tool reads (its limit of 8, four times over).
		expect((await index.search('refund', 32)).every((h) => h.itemId !== real)).toBe(true);
		await index.close();

		const tools = createWorkspaceTools(workspaceToolContext(w.services, w.ws, { origin: 'tools' }));
		const search = tools.find((t) => t.spec.name === 'search');
		expect(search).toBeDefined();
		const result = await search!.run({ query: 'refund' }, new AbortController().signal);
		expect(result.content).toContain('refund desk opens at nine');
		expect(result.content).not.toContain('refund refund');
	});
});
