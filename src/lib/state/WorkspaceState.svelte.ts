/**
 * Runes state for the open workspace: its root document (channels, notes, AI threads) and
 * roster, the open channel, and unread tallies. Opening a workspace loads the root, the
 * roster and the channel on screen; other channels are only visited in the background, one
 * at a time, to refresh their unread counts, and released again.
 */
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import type { ChatMessage } from '../ai/engine.js';
import type { SourceRef } from '../doc/schema.js';
import type { WorkspaceKnowledge } from '../knowledge/WorkspaceKnowledge.js';
import { ChannelDoc } from '../doc/ChannelDoc.js';
import type * as Y from 'yjs';
import { newId } from '../doc/ids.js';
import type { ChannelInfo, ChannelSettingValues } from '../doc/schema.js';
import { signChannelEntry, signSettingsMark } from '../doc/signature.js';
import { archivedSpans, channelRules, readOnlySpans, unseenMessages, type PostingRules } from '../doc/channelRights.js';
import type { TeamAuthority } from '../core/TeamAuthority.js';
import { TeamState } from './TeamState.svelte.js';
import { countUnread } from '../doc/unread.js';
import { WorkspaceDoc, type ChannelRules } from '../doc/WorkspaceDoc.js';
import type { Services } from '../app.js';
import type { WorkspaceRow } from '../store/db.js';
import type { DocHandle } from '../store/DocStore.js';
import { ChannelState, LOCAL_ORIGIN } from './ChannelState.svelte.js';
import { AiChatState } from './AiChatState.svelte.js';
import type { AiThreadInfo, NoteInfo } from '../doc/schema.js';
import { MAX_NOTE_TITLE } from '../doc/NoteDoc.js';
import { sameTitle } from '../doc/noteLinks.js';
import { NoteState } from './NoteState.svelte.js';
import { SearchState } from './SearchState.svelte.js';
import { SpacesState, type DirectInfo } from './SpacesState.svelte.js';
import { WorkspaceNotifier } from './notify/WorkspaceNotifier.svelte.js';
import { KnowledgeEmbedding } from './KnowledgeEmbedding.svelte.js';
import { shownChannel, shownChannels, shownWorkspaceName } from './shownNames.js';

/** Longest channel name kept. */
export const MAX_CHANNEL_NAME = 80;

/** Thrown for an empty channel or workspace name. */
export class EmptyNameError extends Error {
	name = 'EmptyNameError';
}

/** The team does not allow this device what it asked (a member changing channel settings, a guest creating a channel). */
export class NotAllowedError extends Error {
	name = 'NotAllowedError';
}

/** Fields of a new channel. */
export interface NewChannel {
	name: string;
	topic?: string;
	/** A private channel: only its members' devices ever receive it. */
	private?: boolean;
	/** For a private channel: the member ids it is shared with (besides its creator). */
	members?: string[];
	readOnly?: boolean;
}

/** Sources of workspace knowledge quoted to a model for one question. */
const KNOWLEDGE_SOURCES = 6;

/** State of the open workspace. */
export class WorkspaceState {
	/** Bumps when the root or roster document changes. */
	version = $state(0);
	channel = $state.raw<ChannelState | undefined>();
	/** The open AI chat (shown instead of the channel). */
	chat = $state.raw<AiChatState | undefined>();
	/** The open note: in place of the channel, or beside it when {@link notePanel}. */
	note = $state.raw<NoteState | undefined>();
	/** Whether the open note is shown in a side panel next to the channel. */
	notePanel = $state(false);
	/** The channel being opened (its document loading), until it is on screen or fails. */
	openingChannel = $state<string | undefined>();
	/** The channel that could not be opened last, until another is opened. */
	openFailed = $state<string | undefined>();
	unread = $state.raw<Record<string, number>>({});
	showArchived = $state(false);
	/** Damaged entries set aside while loading the root or roster. */
	damaged = $state(0);

	readonly root: WorkspaceDoc;
	/** The team: members, roles, devices and invitations (signed operations, folded). */
	readonly team: TeamState;
	/** Full-text search over this workspace's messages, notes and AI chats. */
	readonly search: SearchState;
	/** Private channels and direct conversations this member is in. */
	readonly spaces: SpacesState;
	/** System notifications, per-channel levels and the app badge (state/notify/). */
	readonly notify: WorkspaceNotifier;
	private readonly onChange = () => {
		this.version++;
		void this.mirrorRow();
	};
	private readonly stopTeam: () => void;
	private closed = false;
	private opening = 0;
	/** The workspace knowledge index, once an AI chat asked with "Use workspace knowledge". */
	private knowledge: Promise<WorkspaceKnowledge> | undefined;
	/** "Knowledge embeddings": the embedding model that ranks knowledge by meaning too (this device's choice). */
	readonly knowledgeEmbedding: KnowledgeEmbedding;
	private noteOpening = 0;

	private constructor(
		private readonly services: Services,
		readonly row: WorkspaceRow,
		private readonly rootHandle: DocHandle,
		authority: TeamAuthority
	) {
		this.root = new WorkspaceDoc(rootHandle.doc);
		this.team = new TeamState(authority, services.db);
		this.spaces = new SpacesState(authority, services.docs);
		this.notify = new WorkspaceNotifier(services, this);
		this.knowledgeEmbedding = new KnowledgeEmbedding({ settings: services.db.settings });
		this.stopTeam = authority.on('change', () => {
			this.spaces.refresh();
			this.onChange();
			void this.leaveLostSpace();
		});
		this.search = new SearchState(services, row.id, this.root, {
			spaces: () => authority.mySpaces(),
			unseen: (docId, doc) => this.unseen(docId, doc),
			listed: (docId) => this.channelEntry(docId) !== undefined,
			rules: (docId) => this.postingRules(docId),
			watchRules: (changed) => authority.on('change', changed)
		});
	}

	/** Loads a workspace's root document and its team. */
	static async open(services: Services, row: WorkspaceRow): Promise<WorkspaceState> {
		const root = services.docs.open(row.id);
		const [{ authority }] = await Promise.all([services.core.open({ id: row.id, rosterId: row.rosterId }), root.ready]);
		const ws = new WorkspaceState(services, row, root, authority);
		ws.damaged = root.error?.quarantined ?? 0;
		ws.spaces.refresh();
		root.doc.on('update', ws.onChange);
		ws.ensureMember(true);
		const stored = await services.db.channelState.where('workspaceId').equals(row.id).toArray();
		ws.unread = Object.fromEntries(stored.map((r) => [r.channelId, r.unread]));
		await ws.notify.start();
		return ws;
	}

	get id(): string {
		return this.row.id;
	}

	/** The workspace's name as every view shows it (shownNames.ts). */
	get name(): string {
		void this.version;
		return shownWorkspaceName(this.root.name || this.row.name, this.id);
	}

	get color(): string {
		void this.version;
		return this.root.color;
	}

	/**
	 * Channels to list: active ones, plus archived ones when asked; then the member's private
	 * channels. A space's id listed in the root (anyone may list one: the team names every
	 * space) is not a channel of the root: its document is the space's (found in review: so
	 * listed, a private channel's messages were quoted into an AI chat every member reads).
	 * Each with the name every view shows (shownNames.ts).
	 */
	get channels(): ChannelInfo[] {
		const names = this.shownChannelNames();
		const spaces = this.team.authority.team.spaces;
		const open = this.root.listChannels(this.channelRules).filter((c) => (this.showArchived || !c.archived) && !spaces.has(c.id));
		return [...open, ...this.spaces.channels].map((c) => withName(c, names.get(c.id)));
	}

	/** The shown name of every channel the member is shown (archived ones too), look-alikes marked; kept until the root or a space changes. */
	private shownNames: { at: string; names: Map<string, string> } | undefined;

	/**
	 * The name every view shows for each public and private channel (shownNames.ts
	 * `shownChannels`: one that looks like another's carries its id's tail, in the list, the
	 * header, search results and notifications alike), worked out once per change.
	 */
	private shownChannelNames(): Map<string, string> {
		const at = `${this.version}/${this.spaces.version}`;
		if (this.shownNames?.at === at) return this.shownNames.names;
		const spaces = this.team.authority.team.spaces;
		const all = [...this.root.listChannels(this.channelRules).filter((c) => !spaces.has(c.id)), ...this.spaces.channels];
		const names = new Map(shownChannels(all).map((c) => [c.id, c.name]));
		this.shownNames = { at, names };
		return names;
	}

	/** The member's direct conversations, with a name for each (the others' names). */
	get directs(): (DirectInfo & { name: string })[] {
		void this.version;
		return this.spaces.directs.map((d) => ({ ...d, name: this.directName(d.others) }));
	}

	private directName(others: string[]): string {
		return others.map((id) => this.team.displayName(id)).join(', ');
	}

	/**
	 * A channel's entry (a public one, a private one or a direct conversation), if this member
	 * sees it, with the name every view shows (shownNames.ts).
	 */
	channelEntry(id: string): ChannelInfo | undefined {
		void this.version;
		// A space's id listed in the root is not the space (see channels).
		const open = this.team.authority.team.spaces.has(id) ? undefined : this.root.channel(id, this.channelRules);
		if (open !== undefined) return withName(open, this.shownChannelNames().get(id));
		const space = this.spaces.channel(id);
		if (space === undefined) return undefined;
		if (!this.spaces.isDirect(id)) return withName(space, this.shownChannelNames().get(id));
		// Named by its members' display names, each already as shown (TeamState.displayName).
		return { ...space, name: this.directName(this.spaces.directs.find((d) => d.id === id)?.others ?? []) };
	}

	/** Ids of channel `docId`'s messages nobody is shown (hidden by a moderator, withheld by its posting rules). */
	unseen(docId: string, doc: Y.Doc): Promise<Set<string>> {
		return unseenMessages(new ChannelDoc(doc), this.postingRules(docId));
	}

	/**
	 * After a change of the team: when the open channel is a private space this member is no
	 * longer in (it left, or was removed), opens the first channel instead.
	 */
	private async leaveLostSpace(): Promise<void> {
		const open = this.channel?.id;
		if (open === undefined || !this.team.authority.team.spaces.has(open) || this.spaces.channel(open) !== undefined) return;
		const first = this.channels[0];
		if (first !== undefined) await this.openChannel(first.id);
	}

	/** Opens the direct conversation with member `memberId` (created when there is none yet). */
	async openDirect(memberId: string): Promise<string> {
		if (this.role === 'guest') throw new NotAllowedError('guests do not start conversations');
		const id = await this.spaces.direct([memberId]);
		await this.openChannel(id);
		return id;
	}

	/** Whether any channel is archived (to offer the toggle). */
	get hasArchived(): boolean {
		void this.version;
		return this.root.listChannels(this.channelRules).some((c) => c.archived);
	}

	/** Whether `peerId` is a current member device. */
	isMember(peerId: string): boolean {
		void this.version;
		return this.team.authority.isMember(peerId);
	}

	/**
	 * The member device `peerId` is, or the one whose tab it is (by the tab's signed
	 * delegation); undefined for anyone else. Presence and huddles name people through this only.
	 */
	deviceOf(peerId: string): string | undefined {
		void this.version;
		return this.team.authority.deviceOf(peerId);
	}

	/** Whether this device may manage the team (owner or admin): members, invitations, the relay's API keys. */
	get isAdmin(): boolean {
		return this.team.canManage;
	}

	/** Settings of the open channel. */
	get channelInfo(): ChannelInfo | undefined {
		void this.version;
		return this.channel ? this.channelEntry(this.channel.id) : undefined;
	}

	/** Which channels are listed, with which settings (channelRules in channelRights.ts); admins also see unverified ones. */
	get channelRules(): ChannelRules {
		const { authority } = this.team;
		return channelRules((peerId) => authority.roleOf(peerId), (peerId) => authority.roleEver(peerId), this.isAdmin);
	}

	/** Which posts of a channel show: the team's roles and the channel's read-only spans (channelRights.ts). */
	postingRules(channelId: string): PostingRules {
		void this.version;
		const { authority } = this.team;
		const roleOf = (peerId: string) => authority.roleOf(peerId);
		const flags = { creatorRole: (peerId: string) => authority.roleEver(peerId), space: authority.team.spaces.has(channelId) };
		return { roleOf, postedEver: (peerId) => authority.wroteNotes(peerId), readOnly: readOnlySpans(this.root, channelId, roleOf, flags), archived: archivedSpans(this.root, channelId, roleOf, flags) };
	}

	/** This device's member's role in the team (undefined while it is not a member). */
	get role(): string | undefined {
		void this.version;
		return this.team.authority.roleOf(this.services.identity.peerId);
	}

	/**
	 * Whether this device's posts in a channel would show: not in an archived channel, not as a
	 * guest, and in a read-only channel only as an admin or the owner. (A device the team does not
	 * count yet, or any more, may still write; its posts count once it is admitted, or never.)
	 */
	canPost(info: ChannelInfo | undefined): boolean {
		const role = this.role;
		if (info === undefined || info.archived || role === 'guest') return false;
		return !info.readOnly || role === 'owner' || role === 'admin';
	}

	/** The team's devices that write notes, removed and demoted ones included (who may have saved a note's snapshot). */
	get noteWriters(): ReadonlySet<string> {
		void this.version;
		return this.team.authority.team.noteWriters;
	}

	/** A member's display name (or a short peer id). */
	displayName(peerId: string): string {
		void this.version;
		return this.team.displayName(peerId);
	}

	/** Sets this member's display name in the team to this device's (at open, only when the member has none: a second device keeps the name). */
	ensureMember(onlyIfUnnamed = false): void {
		const { displayName } = this.services.identity;
		this.team.setName(displayName, onlyIfUnnamed).catch((error: unknown) => console.warn('team: could not set the display name', error));
	}

	/** Creates a channel and opens it; returns its id. */
	async createChannel(input: NewChannel): Promise<string> {
		const name = input.name.trim().slice(0, MAX_CHANNEL_NAME);
		if (!name) throw new EmptyNameError('channel name is empty');
		if (this.role === 'guest') throw new NotAllowedError('guests do not create channels');
		if (input.private === true) {
			const id = await this.spaces.createChannel(name, (input.topic ?? '').trim(), input.members ?? []);
			await this.openChannel(id);
			return id;
		}
		const id = newId();
		const { identity } = this.services;
		const entry = await signChannelEntry(identity.privateKey, {
			id,
			name,
			topic: (input.topic ?? '').trim(),
			private: false,
			readOnly: input.readOnly === true,
			archived: false,
			createdAt: Date.now(),
			createdBy: identity.peerId
		});
		this.rootHandle.doc.transact(() => this.root.createChannel(entry), LOCAL_ORIGIN);
		await this.openChannel(id);
		return id;
	}

	/** Renames a channel (an admin's signed settings mark). */
	async renameChannel(id: string, name: string): Promise<void> {
		const clean = name.trim().slice(0, MAX_CHANNEL_NAME);
		if (!clean) throw new EmptyNameError('channel name is empty');
		await this.changeSetting(id, 'name', clean);
	}

	/** Sets a channel's topic. */
	setTopic(id: string, topic: string): Promise<void> {
		return this.changeSetting(id, 'topic', topic.trim());
	}

	/** Archives or restores a channel. */
	async setArchived(id: string, archived: boolean): Promise<void> {
		await this.changeSetting(id, 'archived', archived);
		if (archived) this.showArchived = this.showArchived || this.channel?.id === id;
	}

	/**
	 * Keeps a channel whose creation does not count (made before entries were signed, or written
	 * by a device that may not create channels): an admin's signed mark of its name lists it for
	 * everyone.
	 */
	async keepChannel(id: string): Promise<void> {
		const info = this.channelEntry(id);
		if (info === undefined) throw new NotAllowedError('no such channel');
		await this.changeSetting(id, 'name', info.name);
	}

	/** Makes a channel read-only (only admins and the owner post) or open to every member again. */
	setReadOnly(id: string, readOnly: boolean): Promise<void> {
		return this.changeSetting(id, 'readOnly', readOnly);
	}

	/**
	 * Signs and records a change of one channel setting. Only admins and the owner change
	 * settings after creation: every replica ignores anyone else's marks.
	 */
	private async changeSetting<F extends keyof ChannelSettingValues>(id: string, field: F, value: ChannelSettingValues[F]): Promise<void> {
		if (!this.isAdmin) throw new NotAllowedError('only admins change channel settings');
		const { identity, clock } = this.services;
		const mark = await signSettingsMark(identity.privateKey, { channel: id, field, value, by: identity.peerId, hlc: clock.tick() });
		this.rootHandle.doc.transact(() => this.root.markSetting(mark), LOCAL_ORIGIN);
	}

	/** AI chats of the workspace, newest first. */
	get aiThreads(): AiThreadInfo[] {
		void this.version;
		return this.root.listAiThreads();
	}

	/** Starts an AI chat and opens it; returns its id. */
	async createAiThread(title: string): Promise<string> {
		const id = newId();
		const clean = title.trim().slice(0, MAX_CHANNEL_NAME) || 'Chat';
		this.rootHandle.doc.transact(() => this.root.createAiThread({ id, title: clean, createdAt: Date.now() }), LOCAL_ORIGIN);
		await this.openAiThread(id);
		return id;
	}

	/** Notes of the workspace, most recently edited first. */
	get notes(): NoteInfo[] {
		void this.version;
		return this.root.listNotes();
	}

	/** Creates a note (with an optional title) and opens it; returns its id. */
	async createNote(title = '', options: { panel?: boolean } = {}): Promise<string> {
		const id = newId();
		const now = Date.now();
		const clean = title.trim().slice(0, MAX_NOTE_TITLE);
		this.rootHandle.doc.transact(() => this.root.createNote({ id, title: clean, createdAt: now, updatedAt: now }), LOCAL_ORIGIN);
		await this.openNote(id, undefined, options);
		if (clean && this.note?.id === id) this.note.setTitle(clean);
		return id;
	}

	/**
	 * Opens a note, with the editor's cursor at `offset` when given: in place of the channel,
	 * or in a side panel next to it (`panel`), which leaves the channel open.
	 */
	async openNote(id: string, offset?: number, options: { panel?: boolean } = {}): Promise<void> {
		const panel = options.panel === true && this.channel !== undefined;
		if (!panel) await this.closeChat();
		if (this.note?.id === id) {
			this.notePanel = panel;
			if (offset !== undefined) this.note.focusOffset = offset;
			return;
		}
		const ticket = ++this.noteOpening;
		const next = await NoteState.open(this.services, this.root, id, () => this.noteWriters, offset);
		if (ticket !== this.noteOpening || this.closed) {
			await next.close();
			return;
		}
		// Swapped in one step, so the pane never falls back to the channel in between.
		const previous = this.note;
		this.note = next;
		this.notePanel = panel;
		await previous?.close();
	}

	/**
	 * Opens the note a `[[title]]` link names (the most recently edited one, if several share
	 * the title), or creates it when there is none, as wikis do.
	 */
	async openNoteByTitle(title: string, options: { panel?: boolean } = {}): Promise<void> {
		const found = this.root.listNotes().find((n) => sameTitle(n.title, title));
		if (found) await this.openNote(found.id, undefined, options);
		else await this.createNote(title, options);
	}

	/** Closes the open note (main pane or side panel). */
	async closeNote(): Promise<void> {
		const note = this.note;
		this.note = undefined;
		this.notePanel = false;
		await note?.close();
	}

	private async closeChat(): Promise<void> {
		const chat = this.chat;
		this.chat = undefined;
		await chat?.close();
	}

	/** The tools the relays share with this member (set by the app: MeshState.sharedTools); none without it. */
	sharedTools: (() => Promise<RunnableTool[]>) | undefined;

	/**
	 * The tools a model answering in document `audience` gets: the workspace's own (search,
	 * read and write notes, read and post messages, as this member may) and the relays' MCP
	 * servers' tools this member's role may use (on the mesh, and the relay that served the
	 * app). Everyone who reads `audience` reads the answer and its tool steps (an AI chat: every
	 * member; `@model` in a channel: that channel's readers), so the workspace's tools read only
	 * what they all may (workspaceTools.ts), and the channels offered by name are those.
	 */
	private async chatTools(audience: string): Promise<RunnableTool[]> {
		const [{ createWorkspaceTools, withChoices }, { workspaceToolContext }] = await Promise.all([
			import('../ai/tools/workspaceTools.js'),
			import('../ai/tools/workspaceToolContext.js')
		]);
		const channels = this.channels.filter((c) => c.id === audience || !c.private);
		const choices = { channel: channels.map((c) => c.name), note: this.notes.map((n) => n.title) };
		const context = workspaceToolContext(this.services, this.id, { origin: LOCAL_ORIGIN, search: (q, n) => this.search.hits(q, n), audience });
		const own = createWorkspaceTools(context).map(
			(tool) => withChoices(tool, choices)
		);
		const shared = (await this.sharedTools?.().catch(() => [])) ?? [];
		const names = new Set(own.map((t) => t.spec.name));
		return [...own, ...shared.filter((t) => !names.has(t.spec.name))];
	}

	/**
	 * Workspace knowledge for a question in an AI chat (issue 15): the notes and open channels
	 * are brought up to date in the knowledge index (only what is new this session or changed
	 * since is read again: WorkspaceKnowledge.ts), the best chunks are found (by full text, and
	 * by meaning too when an embedding model is chosen: KnowledgeEmbedding.svelte.ts), and the
	 * answer's system message and numbered sources are made from them. Not the member's private
	 * channels: every member reads an AI chat, and the answer would carry them there. Nor the
	 * unverified channels an admin's list shows (nobody else is shown them).
	 */
	private async knowledgeFor(question: string): Promise<{ message: ChatMessage; sources: SourceRef[] }> {
		const { knowledgeMessages } = await import('../knowledge/groundedPrompt.js');
		const knowledge = await this.openKnowledge();
		const channels = this.channels.filter((c) => !c.private && c.unverified !== true);
		const notes = this.notes;
		const readable = new Set([...channels.map((c) => c.id), ...notes.map((n) => n.id)]);
		await knowledge.refresh([...channels.map((c) => ({ id: c.id, kind: 'channel' as const })), ...notes.map((n) => ({ id: n.id, kind: 'note' as const }))]);
		const { shownHits } = await import('../knowledge/shownHits.js');
		// More than are quoted: messages nobody is shown are left out after (shownHits.ts).
		const found = await this.knowledgeEmbedding.query(knowledge.index, question, { mayRead: (docId) => readable.has(docId), limit: 3 * KNOWLEDGE_SOURCES });
		const hits = await shownHits(found, KNOWLEDGE_SOURCES, async (docId) => {
			const handle = this.services.docs.open(docId);
			try {
				await handle.ready;
				return await this.unseen(docId, handle.doc);
			} finally {
				this.services.docs.release(handle);
			}
		});
		const names = new Map(channels.map((c) => [c.id, `#${c.name}`]));
		const [message] = knowledgeMessages(question, hits, { label: (hit) => (hit.kind === 'message' ? (names.get(hit.docId) ?? 'message') : hit.title) });
		const sources: SourceRef[] = hits.map((hit, i) => ({
			n: i + 1,
			kind: hit.kind === 'message' ? 'message' : 'note',
			docId: hit.docId,
			...(hit.itemId !== undefined ? { itemId: hit.itemId } : {}),
			offset: hit.offset,
			title: (hit.kind === 'message' ? (names.get(hit.docId) ?? '') : hit.title).slice(0, 200)
		}));
		return { message: message!, sources };
	}

	/** The workspace's knowledge (opened on first use, kept for the session). */
	private openKnowledge(): Promise<WorkspaceKnowledge> {
		this.knowledge ??= Promise.all([
			import('../knowledge/KnowledgeIndex.js'),
			import('../knowledge/IdbVectorStore.js'),
			import('../knowledge/WorkspaceKnowledge.js')
		]).then(
			async ([{ KnowledgeIndex }, { IdbVectorStore }, { WorkspaceKnowledge }]) =>
				new WorkspaceKnowledge(
					await KnowledgeIndex.open({ store: new IdbVectorStore(this.services.db, this.id), ...this.knowledgeEmbedding.indexHooks }),
					this.services.docs,
					// Which edits count, as for search; they change with the team and the root's settings marks.
					{ rules: (docId) => this.postingRules(docId), watchRules: (changed) => this.watchRules(changed) }
				)
		);
		this.knowledge.catch(() => (this.knowledge = undefined));
		return this.knowledge;
	}

	/** Calls `changed` when the channels' posting rules may have changed (the team, the root); returns a stop function. */
	private watchRules(changed: () => void): () => void {
		const offTeam = this.team.authority.on('change', changed);
		const offRoot = this.services.docs.onUpdate((id) => {
			if (id === this.id) changed();
		});
		return () => {
			offTeam();
			offRoot();
		};
	}

	/** Closes the knowledge index, then frees its embedding model. */
	private async closeKnowledge(): Promise<void> {
		await this.knowledge?.then((knowledge) => knowledge.close()).catch(() => undefined);
		await this.knowledgeEmbedding.close();
	}

	/** Opens an AI chat in place of the channel. */
	async openAiThread(id: string): Promise<void> {
		if (this.note) await this.closeNote();
		if (this.chat?.id === id) return;
		const ticket = ++this.opening;
		const previous = this.chat;
		this.chat = undefined;
		await previous?.close();
		const next = await AiChatState.open(this.services, id, this.id);
		if (ticket !== this.opening || this.closed) {
			await next.close();
			return;
		}
		next.makeTools = () => this.chatTools(id); // every member reads the chat: what all of them may read
		next.makeKnowledge = (question) => this.knowledgeFor(question);
		this.chat = next;
	}

	/**
	 * Opens a channel, closing the previous one (and any open AI chat). Meanwhile
	 * {@link openingChannel} names it; when it cannot be opened, {@link openFailed} does (and
	 * the error is thrown).
	 */
	async openChannel(id: string): Promise<void> {
		if (this.note) await this.closeNote();
		if (this.chat) {
			const chat = this.chat;
			this.chat = undefined;
			await chat.close();
		}
		if (this.channel?.id === id) return;
		const ticket = ++this.opening;
		this.openingChannel = id;
		this.openFailed = undefined;
		const previous = this.channel;
		this.channel = undefined;
		try {
			await previous?.close();
			const next = await ChannelState.open(this.services, this.id, id);
			if (ticket !== this.opening || this.closed) {
				await next.close();
				return;
			}
			next.makeTools = () => this.chatTools(id);
			this.channel = next;
		} catch (error) {
			if (ticket === this.opening) this.openFailed = id;
			throw error;
		} finally {
			if (ticket === this.opening) this.openingChannel = undefined;
		}
		this.unread = { ...this.unread, [id]: 0 };
		await this.services.db.workspaces.update(this.id, { lastChannelId: id });
	}

	/** Adds `count` messages that just arrived in channel `id` (not on screen) to its unread tally. */
	countArrivals(id: string, count: number): void {
		if (this.closed || id === this.channel?.id) return;
		this.unread = { ...this.unread, [id]: (this.unread[id] ?? 0) + count };
	}

	/**
	 * Recounts unread messages of the channels not on screen whose stored data changed since
	 * they were last counted, loading one document at a time and releasing it again.
	 */
	async refreshUnread(): Promise<void> {
		const { db, docs, identity } = this.services;
		const ids = [...this.root.listChannels(this.channelRules), ...this.spaces.channels, ...this.spaces.directs];
		for (const info of ids.map((c) => ({ id: c.id, archived: 'archived' in c && c.archived }))) {
			if (this.closed) return;
			if (info.id === this.channel?.id || info.archived) continue;
			const [row, storedKey] = await Promise.all([db.channelState.get([this.id, info.id]), docs.lastStoredKey(info.id)]);
			if (storedKey === undefined || (row && row.storedKey === storedKey)) continue;
			if (this.closed || info.id === this.channel?.id) continue;
			const handle = docs.open(info.id);
			try {
				await handle.ready;
				if (this.closed) return;
				// Posts nobody is shown (withheld, or hidden by an admin) count for nothing.
				const unseen = await this.unseen(info.id, handle.doc);
				if (this.closed) return;
				const count = await countUnread(new ChannelDoc(handle.doc), row?.lastReadHlc ?? '', identity.peerId, (m) => !unseen.has(m.id));
				if (this.closed) return;
				this.unread = { ...this.unread, [info.id]: count };
				await db.channelState.put({
					workspaceId: this.id,
					channelId: info.id,
					lastReadHlc: row?.lastReadHlc ?? '',
					maxHlc: row?.maxHlc ?? '',
					knownSv: row?.knownSv,
					unread: count,
					storedKey
				});
			} finally {
				docs.release(handle);
			}
			await new Promise((r) => setTimeout(r, 0));
		}
	}

	/** Keeps the local workspace list (used by the switcher) in step with the root document. */
	private async mirrorRow(): Promise<void> {
		// The switcher shows the row's name: kept as shown (shownNames.ts).
		const name = this.root.name && shownWorkspaceName(this.root.name, this.id);
		const color = this.root.color;
		if (name && (name !== this.row.name || color !== this.row.color)) {
			this.row.name = name;
			this.row.color = color;
			await this.services.db.workspaces.update(this.id, { name, color });
		}
	}

	/** Closes the open channel and releases the documents. */
	async close(): Promise<void> {
		this.closed = true;
		this.notify.stop();
		const searchClosed = this.search.close();
		void this.closeKnowledge();
		await this.closeNote();
		await this.chat?.close();
		this.chat = undefined;
		await this.channel?.close();
		this.channel = undefined;
		this.rootHandle.doc.off('update', this.onChange);
		this.stopTeam();
		this.spaces.close();
		this.services.docs.release(this.rootHandle);
		await Promise.all([searchClosed, this.services.core.release(this.row.id)]);
	}
}

/** `info` with `name` as shown (the list's, look-alikes marked), or shown alone when the list has none for it. */
function withName(info: ChannelInfo, name: string | undefined): ChannelInfo {
	if (name === undefined) return shownChannel(info);
	return name === info.name ? info : { ...info, name };
}
