/**
 * The built-in workspace tools a model may call in an AI chat (issue 15): search the
 * workspace, read a note, list a channel's recent messages, append to or create a note, post a
 * message. The tool loop runs on the asking member's device, so the tools act as that member on
 * this device's replica: they see and change only what the member could in the UI, and write
 * exactly what the app writes (signed messages, notes with this device's client binding), so
 * other replicas take the writes (workspaceToolAccess.ts says what is allowed).
 *
 * Everything they need comes through a narrow {@link WorkspaceToolContext}
 * (workspaceToolContext.ts builds one from the app's services). Results are plain English text
 * for the model, at most 8 KiB.
 */
import type * as Y from 'yjs';
import { ChannelDoc } from '../../doc/ChannelDoc.js';
import { ChannelView } from '../../doc/ChannelView.js';
import type { DeviceKey } from '../../doc/deviceKey.js';
import { compareHlc, hlcWall, type HybridClock } from '../../doc/hlc.js';
import { newId, newIdFor } from '../../doc/ids.js';
import { MAX_NOTE_TITLE, NoteDoc } from '../../doc/NoteDoc.js';
import { titleKey } from '../../doc/noteLinks.js';
import type { ClientBinding, MessageRecord } from '../../doc/schema.js';
import { signBindingNow, signMessage } from '../../doc/signature.js';
import { isMessageRecord } from '../../doc/validate.js';
import { WorkspaceDoc } from '../../doc/WorkspaceDoc.js';
import { excerpt } from '../../store/search/highlight.js';
import type { SearchHit } from '../../store/search/SearchIndex.js';
import { SearchKind } from '../../store/search/rows.js';
import type { RunnableTool } from './toolLoop.js';
import type { JsonSchema, ToolResult } from './types.js';
import {
	channelLabel,
	displayName,
	findChannel,
	findNote,
	noteRefusal,
	postingRules,
	postRefusal,
	readableChannels,
	ShownMessages,
	type HeldDoc,
	type ToolChannel,
	type ToolTeam
} from './workspaceToolAccess.js';
import { bounded, byteLength, clockTime, cutToBytes, MAX_RESULT_BYTES, oneLine, refused } from './workspaceToolText.js';

export type { HeldDoc, ToolTeam } from './workspaceToolAccess.js';

/** What the workspace tools need: the workspace, this device, and the workspace's search. */
export interface WorkspaceToolContext {
	/** The workspace's id (its root document's). */
	readonly workspaceId: string;
	/** This device: it signs messages and its note edits' client bindings. */
	readonly device: { readonly peerId: string; readonly privateKey: DeviceKey };
	/** This device's hybrid clock (messages are stamped with it). */
	readonly clock: Pick<HybridClock, 'tick' | 'receive'>;
	/** Origin of the tools' transactions: the app's origin of local edits (state's `LOCAL_ORIGIN`). */
	readonly origin: unknown;
	/** The workspace's team as this device folds it now; undefined while the workspace is not open. */
	team(): ToolTeam | undefined;
	/** Loads one of the workspace's documents (its root too); release it when done. */
	open(docId: string): Promise<HeldDoc>;
	/** The workspace's full-text index: hits best first, before any rights are checked (the tools check them). */
	search(query: string, limit: number): Promise<SearchHit[]>;
	/**
	 * The channel where the model's answer shows (`@model` in a channel), read by everyone in
	 * it: the tools then read only what every reader of that channel may read, so an answer
	 * cannot carry a private conversation of the asker's into a wider one. Open channels and
	 * notes every member reads; a private channel or direct conversation only when it is this
	 * channel itself. An AI chat's audience is the chat, which every member reads (its answer
	 * and tool steps too): open channels and notes only. Absent: everything the asker reads
	 * (a tool run whose result only the asker sees).
	 */
	readonly audience?: string;
}

/** Longest text a tool writes at once (a note's addition, a message). */
export const MAX_TOOL_TEXT = 4000;
/** Most messages {@link createWorkspaceTools}' `list_messages` returns. */
export const MAX_LISTED_MESSAGES = 50;
/** Characters of a note `read_note` returns at most (less when that is more than 8 KiB). */
export const MAX_NOTE_CHARS = 8000;

/** The six tools over `context`; see the module comment. */
export function createWorkspaceTools(context: WorkspaceToolContext): RunnableTool[] {
	const tools = new WorkspaceTools(context);
	return [
		tool(
			'search',
			"Search the workspace's messages and notes.",
			{ query: { type: 'string', minLength: 1, maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 20 } },
			['query'],
			false,
			(a, s) => tools.search(a['query'] as string, (a['limit'] as number | undefined) ?? 8, s)
		),
		tool('read_note', "Read a note's markdown.", { note: NOTE_REF }, ['note'], false, (a, s) => tools.readNote(a['note'] as string, s)),
		tool(
			'list_messages',
			"List a channel's most recent messages.",
			{ channel: CHANNEL_REF, limit: { type: 'integer', minimum: 1, maximum: MAX_LISTED_MESSAGES } },
			['channel'],
			false,
			(a, s) => tools.listMessages(a['channel'] as string, (a['limit'] as number | undefined) ?? 20, s)
		),
		tool(
			'append_to_note',
			'Append markdown to the end of a note.',
			{ note: NOTE_REF, text: { type: 'string', minLength: 1, maxLength: MAX_TOOL_TEXT } },
			['note', 'text'],
			true,
			(a, s) => tools.appendToNote(a['note'] as string, a['text'] as string, s)
		),
		tool(
			'create_note',
			'Create a note.',
			{ title: { type: 'string', minLength: 1, maxLength: MAX_NOTE_TITLE }, text: { type: 'string', maxLength: MAX_TOOL_TEXT } },
			['title', 'text'],
			true,
			(a, s) => tools.createNote(a['title'] as string, a['text'] as string, s)
		),
		tool(
			'post_message',
			'Post a message in a channel as the user.',
			{ channel: CHANNEL_REF, text: { type: 'string', minLength: 1, maxLength: MAX_TOOL_TEXT } },
			['channel', 'text'],
			true,
			(a, s) => tools.postMessage(a['channel'] as string, a['text'] as string, s)
		)
	];
}

const NOTE_REF: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, description: 'Note id or exact title' };
const CHANNEL_REF: JsonSchema = { type: 'string', minLength: 1, maxLength: 100, description: 'Channel id or name' };

function tool(
	name: string,
	description: string,
	properties: Record<string, JsonSchema>,
	required: string[],
	mutates: boolean,
	run: (args: Record<string, unknown>, signal: AbortSignal) => Promise<ToolResult>
): RunnableTool {
	return { spec: { name, description, parameters: { type: 'object', properties, required, additionalProperties: false } }, mutates, run };
}

/** The workspace while a tool runs: its root (held) and team. */
interface Open {
	root: WorkspaceDoc;
	team: ToolTeam;
}

/** A channel loaded for reading: its view and which messages show. */
interface LoadedChannel {
	channel: ChannelDoc;
	view: ChannelView;
	shown: ShownMessages;
	close(): void;
}

/** The tools' work, over one context. */
class WorkspaceTools {
	constructor(private readonly ctx: WorkspaceToolContext) {}

	private get me(): string {
		return this.ctx.device.peerId;
	}

	/** Runs `body` with the workspace's root held; its result is bounded. */
	private async inWorkspace(signal: AbortSignal, body: (ws: Open) => Promise<ToolResult>): Promise<ToolResult> {
		const team = this.ctx.team();
		if (team === undefined) return refused('The workspace is not open on this device.');
		const held = await this.ctx.open(this.ctx.workspaceId);
		try {
			signal.throwIfAborted();
			const result = await body({ root: new WorkspaceDoc(held.doc), team });
			return bounded(result.content, result.isError === true);
		} finally {
			held.release();
		}
	}

	private async channels({ root, team }: Open): Promise<ToolChannel[]> {
		const readable = await readableChannels(root, team, this.me, (id) => this.ctx.open(id));
		const audience = this.ctx.audience;
		if (audience === undefined) return readable;
		// Not the unverified channels an admin's list shows (a guest's, or a forged entry): nobody
		// else is shown them, and everyone in the audience reads the answer (found in review).
		return readable.filter((c) => c.id === audience || (c.kind === 'channel' && !c.info.private && c.info.unverified !== true));
	}

	private async loadChannel({ root, team }: Open, id: string): Promise<LoadedChannel> {
		const held = await this.ctx.open(id);
		const channel = new ChannelDoc(held.doc);
		const view = new ChannelView(channel);
		try {
			const shown = await ShownMessages.of(view, postingRules(root, team, id));
			const close = () => {
				view.destroy();
				held.release();
			};
			return { channel, view, shown, close };
		} catch (error) {
			view.destroy();
			held.release();
			throw error;
		}
	}

	private author(team: ToolTeam, m: MessageRecord): string {
		return m.model !== undefined ? `${m.model} (model)` : displayName(team, m.author);
	}

	search(query: string, limit: number, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async (ws) => {
			const channels = new Map((await this.channels(ws)).map((c) => [c.id, c]));
			// More hits than asked for: some fall to the checks below.
			const hits = await this.ctx.search(query, Math.min(200, limit * 4));
			const loaded = new Map<string, LoadedChannel>();
			const lines: string[] = [];
			try {
				for (const hit of hits) {
					if (lines.length >= limit) break;
					signal.throwIfAborted();
					const line = await this.hitLine(ws, hit, channels, loaded);
					if (line !== undefined) lines.push(`${lines.length + 1}. ${line}`);
				}
			} finally {
				for (const channel of loaded.values()) channel.close();
			}
			if (lines.length === 0) return { content: `Nothing in the workspace matches "${query}".` };
			return { content: `Results for "${query}", best first:\n${lines.join('\n')}` };
		});
	}

	/** A hit as the model reads it, or undefined when the member is not shown it. */
	private async hitLine(ws: Open, hit: SearchHit, channels: Map<string, ToolChannel>, loaded: Map<string, LoadedChannel>): Promise<string | undefined> {
		const text = oneLine(excerpt(hit.text, hit.ranges, 200).map((s) => s.text).join(''), 240);
		if (hit.kind === SearchKind.note) {
			const entry = ws.root.listNotes().find((n) => n.id === hit.docId);
			if (entry === undefined) return undefined;
			return `note "${hit.title || entry.title || 'Untitled'}" (note id ${hit.docId}): ${text}`;
		}
		if (hit.kind !== SearchKind.message) return undefined;
		const channel = channels.get(hit.docId);
		if (channel === undefined) return undefined;
		let reader = loaded.get(channel.id);
		if (reader === undefined) loaded.set(channel.id, (reader = await this.loadChannel(ws, channel.id)));
		const m = reader.view.byId.get(hit.itemId);
		if (m === undefined || !(await reader.shown.shows(m))) return undefined;
		const where = m.parent !== undefined ? `a thread reply in ${channelLabel(channel)}` : `message in ${channelLabel(channel)}`;
		return `${where} by ${this.author(ws.team, m)}, ${clockTime(m.hlc)} (channel id ${channel.id}): ${text}`;
	}

	readNote(ref: string, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async ({ root }) => {
			const found = findNote(root.listNotes(), ref);
			if (typeof found === 'string') return refused(found);
			const held = await this.ctx.open(found.id);
			try {
				const note = new NoteDoc(held.doc);
				const tags = note.tagList();
				const header = `Note "${note.title || found.title || 'Untitled'}" (note id ${found.id}${tags.length > 0 ? `, tags: ${tags.join(', ')}` : ''}):\n\n`;
				const body = note.body.toString();
				const room = MAX_RESULT_BYTES - byteLength(header) - 100;
				const shown = cutToBytes(body.slice(0, MAX_NOTE_CHARS), room);
				const rest = body.length - shown.length;
				return { content: header + (body === '' ? '(The note is empty.)' : shown) + (rest > 0 ? `\n\n[Cut here: ${rest} more characters not shown.]` : '') };
			} finally {
				held.release();
			}
		});
	}

	listMessages(ref: string, limit: number, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async (ws) => {
			const channel = findChannel(await this.channels(ws), ref);
			if (typeof channel === 'string') return refused(channel);
			const reader = await this.loadChannel(ws, channel.id);
			try {
				const { view, shown } = reader;
				// Newest first until `limit` shown messages fill the room; shown oldest first.
				const lines: string[] = [];
				let room = MAX_RESULT_BYTES - 200;
				for (let i = view.top.length - 1; i >= 0 && lines.length < limit; i--) {
					signal.throwIfAborted();
					const m = view.top[i]!;
					if (!(await shown.shows(m))) continue;
					const replies = view.repliesTo(m.id).filter((r) => shown.likelyShows(r)).length;
					const line = `[${clockTime(m.hlc)}] ${this.author(ws.team, m)}: ${oneLine(shown.text(m), 1000)}${replies > 0 ? ` (${replies} ${replies === 1 ? 'reply' : 'replies'})` : ''}`;
					room -= byteLength(line) + 1;
					if (room < 0) break;
					lines.push(line);
				}
				const label = channelLabel(channel);
				if (lines.length === 0) return { content: `There are no messages in ${label}.` };
				const topic = channel.info.topic ? ` Topic: ${oneLine(channel.info.topic, 200)}.` : '';
				return { content: `The ${lines.length} most recent messages in ${label} (channel id ${channel.id}), oldest first.${topic}\n${lines.reverse().join('\n')}` };
			} finally {
				reader.close();
			}
		});
	}

	appendToNote(ref: string, text: string, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async ({ root, team }) => {
			const found = findNote(root.listNotes(), ref);
			if (typeof found === 'string') return refused(found);
			const label = `"${found.title || 'Untitled'}"`;
			const refusal = noteRefusal(team, this.me, `the note ${label}`);
			if (refusal !== undefined) return refused(refusal);
			const held = await this.ctx.open(found.id);
			try {
				signal.throwIfAborted();
				const note = new NoteDoc(held.doc);
				const current = note.body.toString();
				const gap = current === '' || current.endsWith('\n\n') ? '' : current.endsWith('\n') ? '\n' : '\n\n';
				held.doc.transact(() => {
					this.bind(held.doc, found.id);
					note.body.insert(note.body.length, gap + text);
				}, this.ctx.origin);
				this.touch(root, found.id, note.title);
				return { content: `Appended ${text.length} characters to the note ${label} (note id ${found.id}).` };
			} finally {
				held.release();
			}
		});
	}

	createNote(title: string, text: string, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async ({ root, team }) => {
			const clean = title.replace(/[\r\n]+/g, ' ').trim().slice(0, MAX_NOTE_TITLE);
			if (clean === '') return refused('A note needs a title.');
			const refusal = noteRefusal(team, this.me, 'notes');
			if (refusal !== undefined) return refused(refusal);
			const existing = root.listNotes().find((n) => titleKey(n.title) === titleKey(clean));
			if (existing !== undefined) return refused(`A note called "${existing.title}" exists already (note id ${existing.id}): add to it with append_to_note.`);
			signal.throwIfAborted();
			// As the app creates one (WorkspaceState.createNote): its entry in the root, then its document.
			const id = newId();
			const now = Date.now();
			root.doc.transact(() => root.createNote({ id, title: clean, createdAt: now, updatedAt: now }), this.ctx.origin);
			const held = await this.ctx.open(id);
			try {
				const note = new NoteDoc(held.doc);
				held.doc.transact(() => {
					this.bind(held.doc, id);
					note.title = clean;
					if (text !== '') note.body.insert(0, text);
				}, this.ctx.origin);
			} finally {
				held.release();
			}
			return { content: `Created the note "${clean}" (note id ${id}).` };
		});
	}

	postMessage(ref: string, text: string, signal: AbortSignal): Promise<ToolResult> {
		return this.inWorkspace(signal, async (ws) => {
			const channel = findChannel(await this.channels(ws), ref);
			if (typeof channel === 'string') return refused(channel);
			const refusal = postRefusal(channel, ws.team.roleOf(this.me));
			if (refusal !== undefined) return refused(refusal);
			const clean = text.trim();
			if (clean === '') return refused('A message needs some text.');
			const held = await this.ctx.open(channel.id);
			try {
				const doc = new ChannelDoc(held.doc);
				// Ordered after everything the channel holds, as an open channel's clock is (ChannelState.load).
				const latest = latestHlc(doc);
				if (latest !== '') this.ctx.clock.receive(latest);
				const { peerId, privateKey } = this.ctx.device;
				const record = await signMessage(privateKey, { id: newIdFor(peerId), author: peerId, hlc: this.ctx.clock.tick(), text: clean }, channel.id);
				signal.throwIfAborted();
				held.doc.transact(() => doc.post(record), this.ctx.origin);
				return { content: `Posted in ${channelLabel(channel)} (message id ${record.id}).` };
			} finally {
				held.release();
			}
		});
	}

	/**
	 * Binds this copy's Yjs client to this device inside the transaction of an edit, as the
	 * note editor does (state/noteBinding.ts): other replicas take a note's items only from
	 * clients bound to a device that may write (notePolicy.ts).
	 */
	private bind(doc: Y.Doc, docId: string): void {
		const bindings = doc.getMap<ClientBinding>('bindings');
		const client = doc.clientID;
		if (bindings.has(String(client))) return;
		const { peerId, privateKey } = this.ctx.device;
		bindings.set(String(client), signBindingNow(privateKey, { doc: docId, client, device: peerId }));
	}

	/** Records a note's edit in the root's index, as the open note does (state/noteIndex.ts). */
	private touch(root: WorkspaceDoc, id: string, title: string): void {
		const updatedAt = Date.now();
		root.doc.transact(() => root.touchNote(id, title !== '' ? { title, updatedAt } : { updatedAt }), this.ctx.origin);
	}
}

/** The newest well-formed clock among a channel's messages ('' when it has none). */
function latestHlc(channel: ChannelDoc): string {
	let latest = '';
	for (const m of channel.messages.toArray()) if (isMessageRecord(m) && hlcWall(m.hlc) > 0 && compareHlc(m.hlc, latest) > 0) latest = m.hlc;
	return latest;
}

/**
 * A workspace tool whose `channel` and `note` arguments may only be one of `choices` (the
 * names the user sees): a model constrained by the schema's grammar (a small model, or a
 * forced call) then names a real channel or note instead of inventing one. Lists over 64
 * names are left open (the tool still checks whatever name it gets).
 */
export function withChoices(tool: RunnableTool, choices: { channel?: string[]; note?: string[] }): RunnableTool {
	const properties = { ...(tool.spec.parameters.properties ?? {}) };
	let changed = false;
	for (const key of ['channel', 'note'] as const) {
		const names = [...new Set(choices[key] ?? [])].filter((n) => n.length > 0 && n.length <= 200);
		if (properties[key] === undefined || names.length === 0 || names.length > 64) continue;
		properties[key] = { ...properties[key], enum: names };
		changed = true;
	}
	return changed ? { ...tool, spec: { ...tool.spec, parameters: { ...tool.spec.parameters, properties } } } : tool;
}
