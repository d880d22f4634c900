/**
 * Runes state for one open channel: wraps the channel document's {@link ChannelView},
 * signs and writes the user's actions, verifies signatures lazily (only messages that are
 * shown), and keeps the per-device bookkeeping (read position, "arrived later") in Dexie.
 */
import * as Y from 'yjs';
import { ChannelDoc, recordsSince, type LiveAnswer } from '../doc/ChannelDoc.js';
import { ChannelView, type ReactionTally } from '../doc/ChannelView.js';
import { compareHlc, formatHlc, hlcWall, MAX_DRIFT_MS } from '../doc/hlc.js';
import { newIdFor } from '../doc/ids.js';
import { answerIdFor } from '../doc/recordChoice.js';
import type { AttachmentRef, EditRecord, MessageRecord, ModerationMark, ReactionMark } from '../doc/schema.js';
import {
	signDeletionMark,
	signEdit,
	signMessage,
	signModerationMark,
	signReactionMark,
	verifyDeletion,
	verifyDeletionMark,
	verifyEdit,
	verifyMessage,
	verifyModerationMark,
	verifyReactionMark
} from '../doc/signature.js';
import { countsAsUnread, datedAhead } from '../doc/unread.js';
import { channelQuestions, editShows, hiddenBy, isModerator, postShows, provenAsker, shownText, withdrawnBy, withQuestions, type PostingRules } from '../doc/channelRights.js';
import { isMessageRecord, MAX_TEXT_LENGTH } from '../doc/validate.js';
import type { Services } from '../app.js';
import type { DocHandle } from '../store/DocStore.js';
import { lateAmong } from './lateArrivals.js';
import { parseModelMention } from '../ai/mentions.js';
import type { ModelChoice } from './AiChatState.svelte.js';
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import { ToolApprovals, type ToolMode } from './ToolApprovals.svelte.js';
import { RevealTarget } from './RevealTarget.svelte.js';
import { ChannelBlobs } from './ChannelBlobs.svelte.js';
import { DEFAULT_FILE_POLICY, filePolicy } from '../doc/team/filePolicy.js';

/** Transaction origin of this device's own edits. */
export const LOCAL_ORIGIN = 'outpost:local';

/** Thrown when a message is longer than {@link MAX_TEXT_LENGTH}. */
export class MessageTooLongError extends Error {
	name = 'MessageTooLongError';
	constructor(readonly length: number) {
		super(`message of ${length} characters exceeds ${MAX_TEXT_LENGTH}`);
	}
}

const SAVE_DELAY_MS = 400;

/** User Timing marks around opening a channel (read by bench/channel-open.ts). */
export const MARK_OPEN_START = 'outpost:channel-open:start';
export const MARK_OPEN_READY = 'outpost:channel-open:ready';
export const MARK_OPEN_PAINTED = 'outpost:channel-open:painted';

/** State of one open channel. */
export class ChannelState {
	/** Bumps on every document change; read it to re-render. */
	version = $state(0);
	/** Bumps when signature checks finish. */
	verifyVersion = $state(0);
	/** Bumps when the workspace's team changes (who may moderate). */
	teamVersion = $state(0);
	/** Which posts show (guests', and members' in read-only spans, do not); set by the workspace. */
	postingRules = $state.raw<PostingRules | undefined>();
	loading = $state(true);
	/** Number of damaged stored entries set aside while loading, if any. */
	damaged = $state(0);
	/** The message whose thread is open in the side panel. */
	threadParentId = $state<string | undefined>();
	/** First message that was unread when the channel was opened. */
	firstUnreadId = $state<string | undefined>();
	/** The unsent message typed in this channel (kept across reloads and closed tabs). */
	draft = $state('');
	/** Model answers this device asked for that are still running (message id → stopper). */
	answering = $state.raw<ReadonlyMap<string, { stop: AbortController; local: boolean }>>(new Map());
	/** Why the last `@model` question got no answer (the model is gone, its host refused). */
	askError = $state('');
	/** Tools for the next `@model` answers asked from here (off until the user turns them on). */
	toolMode = $state<ToolMode>('off');
	/** Tool calls of those answers that wait for this user's Approve or Deny. */
	readonly approvals = new ToolApprovals();
	/**
	 * Builds the tools a model answering here may use (WorkspaceState: the workspace's tools,
	 * reading only what everyone who reads this channel may read, and the relay's shared ones).
	 */
	makeTools: (() => Promise<RunnableTool[]>) | undefined;
	/** A message to scroll to, focus and highlight (an opened search result). */
	readonly reveal = new RevealTarget();
	/** The attachments of this channel's messages. */
	readonly blobs: ChannelBlobs;

	view: ChannelView | undefined;
	private readonly channel: ChannelDoc;
	private readonly verified = new Map<string, boolean>();
	private readonly pending = new Set<string>();
	private late = new Set<string>();
	private lastReadHlc = '';
	private maxHlc = '';
	private saveTimer: ReturnType<typeof setTimeout> | undefined;
	private draftTimer: ReturnType<typeof setTimeout> | undefined;
	private unsubscribe: (() => void) | undefined;
	private stopTeam: (() => void) | undefined;
	private closed = false;

	constructor(
		private readonly services: Services,
		readonly workspaceId: string,
		readonly id: string,
		private readonly handle: DocHandle
	) {
		this.channel = new ChannelDoc(handle.doc);
		const authority = () => services.core.get(workspaceId)?.authority;
		this.blobs = new ChannelBlobs(
			services.blobs.access(workspaceId),
			id,
			() => {
				const team = authority()?.team;
				return team === undefined ? DEFAULT_FILE_POLICY : filePolicy(team);
			},
			() => authority()?.spaceAccess(id) !== undefined
		);
	}

	/** Opens a channel document and builds its view. */
	static async open(services: Services, workspaceId: string, channelId: string): Promise<ChannelState> {
		performance.mark(MARK_OPEN_START, { detail: channelId });
		const state = new ChannelState(services, workspaceId, channelId, services.docs.open(channelId));
		await state.load();
		performance.mark(MARK_OPEN_READY, { detail: channelId });
		return state;
	}

	private async load(): Promise<void> {
		const [row, draft] = await Promise.all([
			this.services.db.channelState.get([this.workspaceId, this.id]),
			this.services.db.settings.get(this.draftKey),
			this.handle.ready
		]);
		if (this.closed) return;
		if (typeof draft?.value === 'string') this.draft = draft.value;
		this.damaged = this.handle.error?.quarantined ?? 0;
		const view = new ChannelView(this.channel);
		this.view = view;
		this.lastReadHlc = row?.lastReadHlc ?? '';
		this.maxHlc = row?.maxHlc ?? '';
		const lateRows = await this.services.db.lateArrivals.where('channelId').equals(this.id).toArray();
		this.late = new Set(lateRows.map((r) => r.msgId));
		if (row?.knownSv && this.maxHlc) {
			try {
				const arrived = recordsSince(this.channel.messages, Y.decodeStateVector(row.knownSv));
				await this.recordLate(lateAmong(arrived.filter(isMessageRecord), this.maxHlc));
			} catch {
				// A damaged bookkeeping row only costs the "arrived later" marks.
			}
		}
		const latest = view.latestHlc();
		if (latest) this.services.clock.receive(latest);
		if (compareHlc(latest, this.maxHlc) > 0) this.maxHlc = latest;
		const first = this.lastReadHlc ? view.firstAfter(this.lastReadHlc) : -1;
		const opened = Date.now();
		const firstUnread = first >= 0 ? view.top.slice(first).find((m) => m.author !== this.me && !datedAhead(m.hlc, opened)) : undefined;
		this.firstUnreadId = firstUnread?.id;
		this.channel.messages.observe(this.onInsert);
		this.stopTeam = this.services.core.get(this.workspaceId)?.authority.on('change', () => this.teamVersion++);
		this.unsubscribe = view.subscribe(() => {
			this.version++;
			this.scheduleSave();
		});
		this.loading = false;
		this.version++;
		this.scheduleSave();
	}

	private get me(): string {
		return this.services.identity.peerId;
	}

	private readonly onInsert = (event: Y.YArrayEvent<MessageRecord>, tr: Y.Transaction) => {
		const added: MessageRecord[] = [];
		for (const d of event.changes.delta) {
			if (Array.isArray(d.insert)) for (const v of d.insert) added.push(v as MessageRecord);
		}
		const fresh = added.filter((m) => this.view?.byId.get(m.id) === m);
		for (const m of fresh) this.services.clock.receive(m.hlc);
		if (tr.origin !== LOCAL_ORIGIN) void this.recordLate(lateAmong(fresh, this.maxHlc));
		for (const m of fresh) if (compareHlc(m.hlc, this.maxHlc) > 0) this.maxHlc = m.hlc;
	};

	private async recordLate(late: MessageRecord[]): Promise<void> {
		if (late.length === 0) return;
		const arrivedAt = Date.now();
		for (const m of late) this.late.add(m.id);
		await this.services.db.lateArrivals.bulkPut(late.map((m) => ({ channelId: this.id, msgId: m.id, arrivedAt })));
		this.version++;
	}

	/** Top-level messages in clock order (a new array whenever the channel changes). */
	get messages(): MessageRecord[] {
		void this.version;
		return this.view ? this.view.top.slice() : [];
	}

	/** Thread replies of a message. */
	replies(parentId: string): readonly MessageRecord[] {
		void this.version;
		return this.view?.repliesTo(parentId).slice() ?? [];
	}

	/** The message whose thread is open, if any. */
	get threadParent(): MessageRecord | undefined {
		void this.version;
		return this.threadParentId ? this.view?.byId.get(this.threadParentId) : undefined;
	}

	/** The posting rules with this channel's questions (a relay's answer to a proven question shows: channelRights.ts). */
	private get rules(): PostingRules | undefined {
		const rules = this.postingRules;
		return rules === undefined || this.view === undefined ? rules : withQuestions(rules, this.view);
	}

	/**
	 * Who asked a model's answer, when that is proven (it names a question of this channel its
	 * asker signed, asking this model of its author: channelRights.ts `provenAsker`); undefined
	 * otherwise, and the answer is then its author's own message.
	 */
	askedBy(m: MessageRecord): string | undefined {
		void this.version;
		void this.teamVersion;
		const view = this.view;
		if (view === undefined) return undefined;
		// A question its asker deleted or a moderator hid proves nothing (channelRights.ts `withdrawnBy`):
		// moderators as the posting rules have them, or the team before those are set.
		const team = this.services.core.get(this.workspaceId)?.authority;
		const questions = this.rules?.questions ?? channelQuestions(view.byId, this.id, (q) => view.answersTo(q), withdrawnBy(view, (peerId) => team?.roleOf(peerId)));
		return provenAsker(m, questions);
	}

	/**
	 * Current text of a message (its latest edit that shows: channelRights.ts `editShows`); a
	 * model's answer whose asker is not proven says only what its author signed, never the live
	 * text anyone may write.
	 */
	text(m: MessageRecord): string {
		void this.version;
		const view = this.view;
		if (view === undefined) return m.text;
		const live = m.model === undefined || this.askedBy(m) !== undefined;
		return shownText(live ? view : { text: (r) => view.text(r, false), edits: (id) => view.edits(id) }, m, this.rules);
	}

	/** The edit history (oldest first), without edits made where the author could not post then. */
	edits(m: MessageRecord): readonly EditRecord[] {
		void this.version;
		const all = this.view?.edits(m.id) ?? [];
		const rules = this.rules;
		return rules === undefined ? all.slice() : all.filter((e) => editShows(e, m, rules));
	}

	/**
	 * Whether the author's newest deletion mark hides the message. Marks whose signature fails
	 * are passed over (a mark still being checked counts meanwhile).
	 */
	isDeleted(m: MessageRecord): boolean {
		void this.version;
		void this.verifyVersion;
		for (const { mark, legacy } of this.view?.deletionMarks(m) ?? []) {
			const verify = legacy ? () => verifyDeletion(mark.msg, mark) : () => verifyDeletionMark(mark);
			if (this.check(checkKey('del', mark), verify) !== false) return mark.deleted;
		}
		return false;
	}

	/**
	 * Who hid the message, and when, when the newest moderation mark by a current admin or owner
	 * hides it (marks by anyone else, and marks whose signature fails, are passed over).
	 */
	hiddenBy(m: MessageRecord): { by: string; hlc: string } | undefined {
		void this.version;
		void this.verifyVersion;
		void this.teamVersion;
		const team = this.services.core.get(this.workspaceId)?.authority;
		const genuine = (mark: ModerationMark) => this.check(checkKey('mod', mark), () => verifyModerationMark(mark)) !== false;
		return hiddenBy(this.view?.moderationMarks(m.id) ?? [], (peerId) => team?.roleOf(peerId), genuine);
	}

	/** Whether a post is withheld: its author may not post here (a guest, or a member while the channel is read-only). */
	isWithheld(m: MessageRecord): boolean {
		const rules = this.rules;
		return rules !== undefined && !postShows(m, rules);
	}

	/** Whether this device may hide messages (its member is an admin or the owner). */
	get canModerate(): boolean {
		void this.teamVersion;
		return isModerator(this.services.core.get(this.workspaceId)?.authority.roleOf(this.me));
	}

	/** Hides a message for everyone (an admin's signed mark, shown with who and when), or shows it again. */
	async moderate(m: MessageRecord, hidden: boolean): Promise<void> {
		if (!this.canModerate) return;
		const unsigned = { msg: m.id, by: this.me, hlc: this.services.clock.tick(), hidden };
		const mark = await signModerationMark(this.services.identity.privateKey, unsigned);
		this.handle.doc.transact(() => this.channel.markModeration(mark), LOCAL_ORIGIN);
		// The relays outside a private space cannot read the mark: asked to drop the sealed files, or keep them again.
		if (m.files !== undefined) void (hidden ? this.blobs.withdrawn(m.files) : this.blobs.posted(m.files));
	}

	/**
	 * Reaction tallies: marks by devices the team has or had (found in review: one member's 25
	 * throwaway keys showed as 25 people reacting), whose signatures do not fail, counted once
	 * per person (a member's many devices are one: found in review of the fix).
	 */
	reactions(m: MessageRecord): ReactionTally[] {
		void this.version;
		void this.verifyVersion;
		const team = this.services.core.get(this.workspaceId)?.authority;
		const known = (peerId: string) => team?.roleEver(peerId) !== undefined;
		const tallies = this.view?.reactions(m.id, (mark) => known(mark.by) && this.check(checkKey('react', mark), () => verifyReactionMark(mark)) !== false) ?? [];
		return tallies.map((t) => ({ ...t, count: new Set(t.peers.map((peer) => team?.personOf(peer) ?? peer)).size }));
	}

	/** Whether this device received the message long after it was written. */
	arrivedLate(m: MessageRecord): boolean {
		void this.version;
		return this.late.has(m.id);
	}

	/** True when the message (and its latest edit) verify, false when forged, undefined while checking. */
	verify(m: MessageRecord): boolean | undefined {
		void this.verifyVersion;
		void this.version;
		const edits = this.view?.edits(m.id) ?? [];
		const last = edits[edits.length - 1];
		return this.check(checkKey('msg', m, last), async () => (await verifyMessage(m, this.id)) && (last ? await verifyEdit(last) : true));
	}

	/** A cached asynchronous signature check: the result, or undefined while it runs. */
	private check(key: string, run: () => Promise<boolean>): boolean | undefined {
		const known = this.verified.get(key);
		if (known !== undefined || this.pending.has(key)) return known;
		this.pending.add(key);
		void run().then((ok) => {
			this.pending.delete(key);
			this.verified.set(key, ok);
			this.verifyVersion++;
		});
		return undefined;
	}

	/**
	 * Posts a message, or a thread reply when `parent` is given. A message that starts with
	 * `@` and the id of one of `models` also asks that model: its answer streams into the
	 * channel (or the thread) as the model's message. `files` (references of blobs added with
	 * {@link blobs}) are attached and signed with it; a message may be files alone.
	 */
	async post(text: string, parent?: string, models: readonly ModelChoice[] = [], files: readonly AttachmentRef[] = []): Promise<void> {
		const clean = text.trim();
		if (!clean && files.length === 0) return;
		if (clean.length > MAX_TEXT_LENGTH) throw new MessageTooLongError(clean.length);
		const mention = parseModelMention(clean, models.map((m) => m.model));
		const choice = mention && models.find((m) => m.model === mention.model);
		// Who writes the answer: this device when the model or its tool loop runs here (closing the
		// channel stops it), else the host (it outlives the channel). The question names it.
		const mode = this.toolMode;
		const withTools = mode !== 'off' && this.makeTools !== undefined;
		const writer = choice && (withTools || choice.engine.writesTargets !== true ? this.me : choice.servedBy);
		const record = await signMessage(this.services.identity.privateKey, {
			id: newIdFor(this.me),
			author: this.me,
			hlc: this.services.clock.tick(),
			text: clean,
			...(parent ? { parent } : {}),
			...(files.length > 0 ? { files: [...files] } : {}),
			// The question names the model and who is to write its answer: only that answer shows as asked by this member.
			...(choice && writer !== undefined ? { ask: { model: choice.model, host: writer } } : {})
		}, this.id);
		this.handle.doc.transact(() => this.channel.post(record), LOCAL_ORIGIN);
		if (files.length > 0) void this.blobs.posted(files);
		this.markRead();
		if (mention && choice && writer !== undefined) void this.ask(choice, record, mention.question, writer, withTools);
	}

	/** Asks a model in this channel, its answer written by `writer`; see {@link post}. */
	private async ask(choice: ModelChoice, question: MessageRecord, prompt: string, writer: string, withTools: boolean): Promise<void> {
		const stop = new AbortController();
		this.askError = '';
		const mode = this.toolMode;
		const answerId = answerIdFor(this.me, writer); // bound to who asks and who writes: recordChoice.ts
		this.answering = new Map([...this.answering, [answerId, { stop, local: withTools || choice.engine.writesTargets !== true }]]);
		try {
			const { identity, clock } = this.services;
			// The answer's writer is fetched with the first question to a model, not in the first load.
			const { answerInChannel } = await import('../ai/channelAnswer.js');
			const tools = withTools ? await this.tools() : [];
			const forced = typeof mode === 'object' && tools.some((t) => t.spec.name === mode.tool) ? mode.tool : undefined;
			const result = await answerInChannel({
				...(tools.length > 0 ? { tools, approve: this.approvals.approverFor(answerId), ...(forced !== undefined ? { toolChoice: { name: forced } } : {}) } : {}),
				channel: this.channel,
				docId: this.id,
				engine: choice.engine,
				model: choice.model,
				question,
				prompt,
				answerId,
				signer: { peerId: identity.peerId, key: identity.privateKey, clock },
				origin: LOCAL_ORIGIN,
				signal: stop.signal
			});
			// A host that refused wrote nothing: say why here.
			if (result.status === 'failed' && !this.view?.byId.has(answerId) && !this.closed) this.askError = result.error ?? '';
		} catch (error) {
			// The tools could not be made (the workspace closed): nothing was written.
			if (!this.closed) this.askError = error instanceof Error ? error.message : String(error);
		} finally {
			this.approvals.denyWaiting(answerId);
			const rest = new Map(this.answering);
			rest.delete(answerId);
			this.answering = rest;
		}
	}

	/** Stops a model's answer this device asked for (a tool call waiting for approval is denied). */
	stopAnswer(msgId: string): void {
		this.answering.get(msgId)?.stop.abort();
		this.approvals.denyWaiting(msgId);
	}

	/** The tools a model answering here may use now (built anew each time: channels and rules change). */
	async tools(): Promise<RunnableTool[]> {
		return (await this.makeTools?.()) ?? [];
	}

	/** The live state of a model's answer (status, stats), or undefined for other messages. */
	answer(m: MessageRecord): LiveAnswer | undefined {
		void this.version;
		const rules = this.rules;
		// Its end counts only where its edits do (an answer's edits are held to its window: channelRights.ts `editShows`).
		return this.view?.answer(m, this.askedBy(m) !== undefined, rules === undefined ? undefined : (e) => editShows(e, m, rules));
	}

	/** Replaces the text of one of the user's own messages (the old text stays in history). */
	async edit(m: MessageRecord, text: string): Promise<void> {
		const clean = text.trim();
		if (m.author !== this.me || !clean || clean === this.text(m)) return;
		if (clean.length > MAX_TEXT_LENGTH) throw new MessageTooLongError(clean.length);
		const record = await signEdit(this.services.identity.privateKey, {
			msg: m.id,
			author: this.me,
			hlc: this.services.clock.tick(),
			text: clean
		});
		this.handle.doc.transact(() => this.channel.edit(record), LOCAL_ORIGIN);
	}

	/** Soft-deletes one of the user's own messages: a signed mark that hides it. */
	remove(m: MessageRecord): Promise<void> {
		return this.markDeleted(m, true);
	}

	/** Undoes {@link remove}: a newer signed mark that shows it again (the first one stays in history). */
	restore(m: MessageRecord): Promise<void> {
		return this.markDeleted(m, false);
	}

	private async markDeleted(m: MessageRecord, deleted: boolean): Promise<void> {
		if (m.author !== this.me) return;
		const hlc = this.services.clock.tick();
		const mark = await signDeletionMark(this.services.identity.privateKey, { msg: m.id, by: this.me, hlc, deleted });
		this.handle.doc.transact(() => this.channel.markDeletion(mark), LOCAL_ORIGIN);
		if (m.files !== undefined) void (deleted ? this.blobs.withdrawn(m.files) : this.blobs.posted(m.files));
	}

	/** Toggles the user's reaction: a signed mark, on when it is off now and off when on. */
	async react(m: MessageRecord, emoji: string): Promise<void> {
		const on = !this.reactions(m).some((tally) => tally.emoji === emoji && tally.peers.includes(this.me));
		const unsigned: Omit<ReactionMark, 'sig'> = { msg: m.id, emoji, by: this.me, hlc: this.services.clock.tick(), on };
		const mark = await signReactionMark(this.services.identity.privateKey, unsigned);
		this.handle.doc.transact(() => this.channel.markReaction(mark), LOCAL_ORIGIN);
	}

	private get draftKey(): string {
		return `draft:${this.id}`;
	}

	/** Remembers the unsent text (debounced). */
	setDraft(text: string): void {
		this.draft = text;
		clearTimeout(this.draftTimer);
		this.draftTimer = setTimeout(() => void this.saveDraft(), 300);
	}

	private async saveDraft(): Promise<void> {
		clearTimeout(this.draftTimer);
		this.draftTimer = undefined;
		if (this.draft) await this.services.db.settings.put({ key: this.draftKey, value: this.draft });
		else await this.services.db.settings.delete(this.draftKey);
	}

	/** Marks everything in the channel as read. */
	markRead(): void {
		let latest = this.latestShownHlc();
		// Never past what an honest clock may say now (HybridClock ignores clocks further ahead):
		// found in review, a record dated in the year 5000 (or "~") became the read position, and
		// no message counted as unread in that channel again.
		const ceiling = formatHlc({ wall: Date.now() + MAX_DRIFT_MS, counter: 0, node: '' });
		if (latest !== '' && (hlcWall(latest) === 0 || compareHlc(latest, ceiling) > 0)) latest = ceiling;
		if (compareHlc(latest, this.lastReadHlc) > 0) {
			this.lastReadHlc = latest;
			this.scheduleSave();
		}
	}

	/** The newest clock of a message that shows here (a withheld post's clock says nothing of what was read, nor does one dated ahead). */
	private latestShownHlc(): string {
		const view = this.view;
		if (view === undefined) return '';
		const rules = this.rules;
		const shows = (m: MessageRecord) => rules === undefined || postShows(m, rules);
		let latest = '';
		const now = Date.now();
		const newestIn = (list: readonly MessageRecord[]) => {
			for (let i = list.length - 1; i >= 0; i--) {
				const m = list[i]!;
				if (compareHlc(m.hlc, latest) <= 0) return;
				// A post dated past this clock's ceiling is not counted (doc/unread.ts), nor read up to:
				// it would put the read position a day ahead, past every post of that day.
				if (datedAhead(m.hlc, now)) continue;
				if (shows(m)) return void (latest = m.hlc);
			}
		};
		newestIn(view.top);
		for (const list of view.replies.values()) newestIn(list);
		return latest;
	}

	/** Index of the first unread message in {@link messages}, or -1. */
	firstUnreadIndex(): number {
		void this.version;
		if (!this.firstUnreadId || !this.view) return -1;
		const m = this.view.byId.get(this.firstUnreadId);
		if (!m) return -1;
		const i = this.view.firstAfter(m.hlc);
		return (i === -1 ? this.view.top.length : i) - 1;
	}

	/** Unread messages after the read position (counted from there, not from the start). */
	private unreadCount(): number {
		const view = this.view;
		if (!view) return 0;
		const from = this.lastReadHlc ? view.firstAfter(this.lastReadHlc) : 0;
		if (from < 0) return 0;
		let count = 0;
		const rules = this.rules;
		for (let i = from; i < view.top.length; i++) {
			const m = view.top[i];
			if (countsAsUnread(m, this.lastReadHlc, this.me, view.deletion(m) !== undefined) && (rules === undefined || postShows(m, rules)) && this.verify(m) !== false && this.hiddenBy(m) === undefined) count++;
		}
		return count;
	}

	private scheduleSave(): void {
		if (this.saveTimer !== undefined) return;
		this.saveTimer = setTimeout(() => {
			this.saveTimer = undefined;
			void this.save();
		}, SAVE_DELAY_MS);
	}

	/** Writes the bookkeeping row now. */
	async save(): Promise<void> {
		if (!this.view || this.handle.doc.isDestroyed) return;
		const row = {
			workspaceId: this.workspaceId,
			channelId: this.id,
			lastReadHlc: this.lastReadHlc,
			unread: this.unreadCount(),
			maxHlc: this.maxHlc,
			knownSv: Y.encodeStateVector(this.handle.doc)
		};
		// Read after this document's writes were queued, so the key covers them.
		const storedKey = await this.services.docs.lastStoredKey(this.id);
		await this.services.db.channelState.put({ ...row, storedKey });
	}

	/** Saves bookkeeping and releases the document. */
	async close(): Promise<void> {
		if (this.closed) return;
		for (const { stop, local } of this.answering.values()) if (local) stop.abort();
		this.approvals.denyWaiting();
		this.markRead();
		if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
		this.saveTimer = undefined;
		await this.save().catch(() => undefined);
		if (this.draftTimer !== undefined) await this.saveDraft().catch(() => undefined);
		this.closed = true;
		this.unsubscribe?.();
		this.stopTeam?.();
		this.channel.messages.unobserve(this.onInsert);
		this.view?.destroy();
		this.blobs.destroy();
		this.services.docs.release(this.handle);
	}
}

/**
 * The key a signature check is remembered under: every field of the record(s) it covers, the
 * signature included, so a forged record never reuses a genuine one's verdict (found in review:
 * an edit in another's name with the clock of their genuine edit showed as verified, keyed by
 * message id and clock alone).
 */
function checkKey(kind: string, ...records: unknown[]): string {
	return JSON.stringify([kind, ...records]);
}
