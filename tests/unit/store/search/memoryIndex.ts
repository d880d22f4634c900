/** A search index in memory for extract.ts tests: what a pass wrote, for the next pass to read. */
import type { EntryLookup } from '../../../../src/lib/store/search/extract';
import type { IndexChange } from '../../../../src/lib/store/search/SearchIndex';
import type { SearchDocRow, SearchEntryRow } from '../../../../src/lib/store/search/rows';

/** The index of document `docId` of workspace `w`. */
export function memoryIndex(docId: string) {
	const rows = new Map<string, SearchEntryRow>();
	let doc: SearchDocRow | undefined;
	const lookup: EntryLookup = {
		entries: async (_docId, ids) => ids.map((id) => rows.get(id)),
		itemIds: async () => [...rows.keys()]
	};
	const apply = (change: IndexChange) => {
		for (const e of change.put ?? []) rows.set(e.itemId, { ...e, id: `w|${docId}|${e.itemId}`, workspaceId: 'w' });
		for (const r of change.remove ?? []) rows.delete(r.itemId);
		if (change.doc) doc = { ...change.doc, id: `w|${docId}`, workspaceId: 'w' } as SearchDocRow;
	};
	return { rows, lookup, apply, prev: () => doc };
}
