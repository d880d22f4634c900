/**
 * SyncDocs over plain in-memory Y.Docs, for tests: a workspace is a Map of documents.
 * Counts every remote apply so tests can assert that nothing was applied.
 */
import * as Y from 'yjs';
import { docDigest, type SyncDocs, type UpdateListener } from '../../../src/lib/mesh/syncDocs';
import { checkRemoteUpdate, isListedDoc, isListedNote, settledFor, NO_TEAM, updateContext, type DocsTeam } from '../../../src/lib/doc/team/writePolicy.js';
import { applyRemoteUpdate, clocksOfDoc } from '../../../src/lib/mesh/updateCheck.js';

/** In-memory {@link SyncDocs}; `docs` may be edited directly by tests. */
export class MemoryDocs implements SyncDocs {
	readonly docs = new Map<string, Y.Doc>();
	/** Number of remote updates applied (calls of apply that did not throw). */
	applied = 0;
	private readonly listeners = new Set<UpdateListener>();

	/** `workspaceId`: apply the workspace's write policy (writePolicy.ts) to remote updates, as real stores do. */
	constructor(private readonly workspaceId?: string) {}

	/** The document `id`, created (and watched) when missing. */
	get(id: string): Y.Doc {
		let doc = this.docs.get(id);
		if (!doc) {
			doc = new Y.Doc({ guid: id });
			doc.on('update', (update: Uint8Array, origin: unknown) => {
				for (const listener of this.listeners) listener(id, update, origin);
			});
			this.docs.set(id, doc);
		}
		return doc;
	}

	/** The document `id`, created when missing (the workspace core keeps the roster so). */
	hold(id: string): Promise<Y.Doc> {
		return Promise.resolve(this.get(id));
	}

	/** Nothing to store or let go. */
	close(): void {}

	/** The team's answers (the core tells: OutpostCore `useTeam`). */
	private team: DocsTeam = NO_TEAM;

	useTeam(team: DocsTeam): void {
		this.team = team;
	}

	/** Without a workspace id every document is named to every member. */
	isListed(docId: string): boolean {
		if (this.workspaceId === undefined) return true;
		return isListedDoc(this.workspaceId, this.docs.get(this.workspaceId), docId) || this.team.spaces().has(docId);
	}

	isNote(docId: string): boolean {
		const root = this.workspaceId === undefined ? undefined : this.docs.get(this.workspaceId);
		return root !== undefined && isListedNote(root, docId);
	}

	list(): string[] {
		return [...this.docs.keys()];
	}

	digest(docId: string): Promise<string> | undefined {
		const doc = this.docs.get(docId);
		return doc && docDigest(doc);
	}

	stateVector(docId: string): Uint8Array | undefined {
		const doc = this.docs.get(docId);
		return doc && Y.encodeStateVector(doc);
	}

	clocks(docId: string): ((client: number) => number) | undefined {
		const doc = this.docs.get(docId);
		return doc && clocksOfDoc(doc);
	}

	diff(docId: string, stateVector: Uint8Array): Uint8Array | undefined {
		const doc = this.docs.get(docId);
		return doc && Y.encodeStateAsUpdate(doc, stateVector);
	}

	apply(docId: string, update: Uint8Array, origin: unknown, from?: string): void | Promise<void> {
		// As the real stores: a peer no carrier by the team now is asked about again once it settles.
		const settling = this.workspaceId === undefined ? undefined : settledFor(this.team, from);
		if (settling !== undefined) return settling.then(() => this.applyNow(docId, update, origin, from));
		this.applyNow(docId, update, origin, from);
	}

	private applyNow(docId: string, update: Uint8Array, origin: unknown, from?: string): void {
		if (this.workspaceId !== undefined) {
			const context = updateContext(this.docs.get(this.workspaceId), docId, this.team, from);
			const refused = checkRemoteUpdate(this.workspaceId, docId, this.get(docId), update, context);
			if (refused !== undefined) throw new Error(`update refused: ${refused}`);
		}
		applyRemoteUpdate(this.get(docId), update, origin);
		this.applied++;
	}

	onLocalUpdate(listener: UpdateListener): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** Every document's full state, for equality checks. */
	snapshot(): Record<string, unknown> {
		const out: Record<string, unknown> = {};
		for (const [id, doc] of [...this.docs].sort(([a], [b]) => a.localeCompare(b))) {
			out[id] = { text: doc.getText('t').toString(), map: doc.getMap('m').toJSON() };
		}
		return out;
	}
}
