/**
 * The workspace's one awareness, seen through one note's editor. y-codemirror.next draws a
 * remote caret for every awareness state with a `cursor`, and a cursor at a document's
 * start or end (a relative position by type name) would resolve in any note. So this view
 * hands the editor only the states whose `note` is this note, and writes the local cursor
 * together with `note`; presence and typing fields of the shared state are kept as they are.
 * Remote states are read defensively (anyone in the workspace writes them) and given a
 * `user` with the member's display name and a colour derived from their peer id.
 */
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';

/** A cursor as y-codemirror.next stores it: two relative positions in JSON form. */
interface CursorJson {
	anchor: RelativePositionJson;
	head: RelativePositionJson;
}
interface IdJson {
	client: number;
	clock: number;
}
interface RelativePositionJson {
	type: IdJson | null;
	tname: string | null;
	item: IdJson | null;
	assoc: number;
}

type State = Record<string, unknown>;
type ChangeListener = (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void;

/** Caret colours (readable on white, distinct from each other). */
const COLORS = ['#d9480f', '#1971c2', '#2f9e44', '#ae3ec9', '#e8590c', '#0c8599', '#c2255c', '#5f3dc4'];

/** A stable colour for a peer. */
export function colorOf(peerId: string): string {
	let hash = 0;
	for (let i = 0; i < peerId.length; i++) hash = (hash * 31 + peerId.charCodeAt(i)) >>> 0;
	return COLORS[hash % COLORS.length];
}

function readId(value: unknown): IdJson | null | undefined {
	if (value === null || value === undefined) return null;
	if (typeof value !== 'object') return undefined;
	const { client, clock } = value as Record<string, unknown>;
	if (!Number.isSafeInteger(client) || !Number.isSafeInteger(clock) || (client as number) < 0 || (clock as number) < 0) return undefined;
	return { client: client as number, clock: clock as number };
}

function readPosition(value: unknown): RelativePositionJson | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	const v = value as Record<string, unknown>;
	const type = readId(v.type);
	const item = readId(v.item);
	if (type === undefined || item === undefined) return undefined;
	const tname = typeof v.tname === 'string' && v.tname.length <= 64 ? v.tname : null;
	if (type === null && item === null && tname === null) return undefined;
	const assoc = typeof v.assoc === 'number' && Number.isFinite(v.assoc) ? Math.sign(v.assoc) : 0;
	return { type, tname, item, assoc };
}

/** A remote cursor checked for shape, or undefined. */
export function readCursor(value: unknown): CursorJson | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	const { anchor, head } = value as Record<string, unknown>;
	const a = readPosition(anchor);
	const h = readPosition(head);
	return a && h ? { anchor: a, head: h } : undefined;
}

/** The awareness of one workspace, scoped to one note; pass it to `yCollab`. */
export class NoteAwareness {
	/**
	 * @param awareness The workspace's awareness (MeshState).
	 * @param noteId The note this editor shows.
	 * @param nameOf A member's display name by peer id.
	 */
	constructor(
		private readonly awareness: Awareness,
		readonly noteId: string,
		private readonly nameOf: (peerId: string) => string
	) {}

	/** The document whose client id is this device's awareness client. */
	get doc(): Y.Doc {
		return this.awareness.doc;
	}

	/** The local state, with no cursor unless the cursor is in this note. */
	getLocalState(): State | null {
		const state = this.awareness.getLocalState() as State | null;
		if (state === null) return null;
		return state.note === this.noteId ? state : { ...state, cursor: null };
	}

	/** Sets a field of the local state; `cursor` is recorded as being in this note. */
	setLocalStateField(field: string, value: unknown): void {
		const state = (this.awareness.getLocalState() ?? {}) as State;
		const next: State = { ...state, [field]: value };
		if (field === 'cursor') next.note = this.noteId;
		// Plain JSON, as the rest of the app writes it (see MeshState.updateLocal).
		this.awareness.setLocalState(JSON.parse(JSON.stringify(next)) as State);
	}

	/** The local state and the remote states with a cursor in this note, each with a `user`. */
	getStates(): Map<number, State> {
		const out = new Map<number, State>();
		for (const [clientId, raw] of this.awareness.getStates()) {
			const state = raw as State;
			if (clientId === this.awareness.clientID) {
				out.set(clientId, state);
				continue;
			}
			if (state.note !== this.noteId || typeof state.peer !== 'string') continue;
			const cursor = readCursor(state.cursor);
			if (!cursor) continue;
			const color = colorOf(state.peer);
			// Named by the team (nameOf), never by the state's own `name`: anyone in the workspace
			// writes awareness, and a cursor labelled with a claimed name would pass for that member's.
			const name = this.nameOf(state.peer) || `…${state.peer.slice(-6)}`;
			out.set(clientId, { cursor, user: { name, color, colorLight: `${color}33` } });
		}
		return out;
	}

	on(event: 'change', listener: ChangeListener): void {
		this.awareness.on(event, listener);
	}

	off(event: 'change', listener: ChangeListener): void {
		this.awareness.off(event, listener);
	}

	/** Withdraws this device's cursor from the note (the editor closed). */
	clear(): void {
		const state = this.awareness.getLocalState() as State | null;
		if (state === null || state.note !== this.noteId) return;
		const { cursor: _cursor, note: _note, ...rest } = state;
		this.awareness.setLocalState(rest);
	}
}
