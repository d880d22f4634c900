/**
 * Runes state of one open AI chat: its document (an {@link AiThreadDoc}, synced like every
 * other document), the answer being generated on this device, and the user's actions: send,
 * stop, regenerate, edit and resend, the chat's system prompt.
 */
import type { ChatMessage, Engine } from '../ai/engine.js';
import type { SourceRef } from '../doc/schema.js';
import type { RunnableTool } from '../ai/tools/toolLoop.js';
import { ToolApprovals, type ToolMode } from './ToolApprovals.svelte.js';
import { AiRole, AiThreadDoc, type AiMessage } from '../doc/AiThreadDoc.js';
import { newIdFor } from '../doc/ids.js';
import { answerIdFor } from '../doc/recordChoice.js';
import { AiRecordKind, AiStatus } from '../doc/schema.js';
import { hlcWall } from '../doc/hlc.js';
import { signAiRecord, verifyAiRecord } from '../doc/signature.js';
import type { AskTarget, AttachmentRef } from '../doc/schema.js';
import { DEFAULT_FILE_POLICY, filePolicy } from '../doc/team/filePolicy.js';
import { ChannelBlobs } from './ChannelBlobs.svelte.js';
import type { Services } from '../app.js';
import type { DocHandle } from '../store/DocStore.js';
import { LOCAL_ORIGIN } from './ChannelState.svelte.js';
import { RevealTarget } from './RevealTarget.svelte.js';

/** A model the chat can use, with the engine that runs it. */
export interface ModelChoice {
	/** Unique among the choices: `<where>/<model id>`. */
	key: string;
	model: string;
	engine: Engine;
	/** Peer id of the peer that runs it (this device's for a local engine). */
	servedBy: string;
}

/** How long an unsigned answer entry may say it is still being written before it shows as unsigned. */
export const STREAMING_TRUST_MS = 15 * 60 * 1000;

/** Longest user message kept. */
export const MAX_PROMPT_LENGTH = 20_000;

/** State of one open AI chat. */
export class AiChatState {
	/** Bumps on every document change. */
	version = $state(0);
	/** Whether this device is generating an answer now. */
	generating = $state(false);
	loading = $state(true);
	/** A message to scroll to, focus and highlight (an opened search result). */
	readonly reveal = new RevealTarget();
	/** Tools for the next answers (off until the user turns them on). */
	toolMode = $state<ToolMode>('off');
	/** Answer from the workspace's notes and messages the user may read, with citations. */
	useKnowledge = $state(false);
	/** While the workspace's knowledge is searched for a question. */
	searchingKnowledge = $state(false);
	/** Calls that wait for the user's Approve or Deny (`approvals.pending`; "always" holds for the rest of this chat). */
	readonly approvals = new ToolApprovals();

	readonly thread: AiThreadDoc;
	private stop: AbortController | undefined;
	/** Whether the answer running now is written by its host (it outlives this view). */
	private hostWrites = false;
	private readonly onChange = () => this.version++;
	/** Signature checks of records, by signature; {@link checked} bumps as they finish. */
	private readonly checks = new Map<string, boolean>();
	private readonly checking = new Set<string>();
	private checked = $state(0);

	/** The files attached to questions (absent when the chat was opened outside a workspace). */
	readonly blobs: ChannelBlobs | undefined;

	private constructor(
		private readonly services: Services,
		readonly id: string,
		private readonly handle: DocHandle,
		workspaceId: string | undefined
	) {
		this.thread = new AiThreadDoc(handle.doc);
		this.blobs =
			workspaceId === undefined
				? undefined
				: new ChannelBlobs(services.blobs.access(workspaceId), id, () => {
						const team = services.core.get(workspaceId)?.authority.team;
						return team === undefined ? DEFAULT_FILE_POLICY : filePolicy(team);
					});
	}

	/** Opens (and loads) an AI chat document of workspace `workspaceId`. */
	static async open(services: Services, id: string, workspaceId?: string): Promise<AiChatState> {
		const handle = services.docs.open(id);
		await handle.ready;
		const chat = new AiChatState(services, id, handle, workspaceId);
		handle.doc.on('update', chat.onChange);
		chat.loading = false;
		return chat;
	}

	/**
	 * Whether a message shows a signed record whose signature checks out: true; false (no
	 * record: an unsigned entry anyone could have written, or a signature that fails);
	 * undefined while it is checked, or while the answer is still being written.
	 */
	trust(message: AiMessage): boolean | undefined {
		void this.checked;
		const { record } = message;
		// An unsigned entry is trusted to be an answer on its way only for a while (found in
		// review: one that said "streaming" for months never showed as unsigned).
		// Nor one that answers no question its asker signed naming its writer (AiThreadDoc.list
		// keeps `askedBy` only then): anyone's entry of that kind shows as unsigned at once.
		if (record === undefined) return isStreaming(message) && message.askedBy !== undefined && Date.now() - hlcWall(message.hlc) < STREAMING_TRUST_MS ? undefined : false;
		// Keyed by the whole record, signature included: a forged record carrying a genuine one's
		// signature must not reuse its verdict (found in review: keyed by the signature alone, it did).
		const key = JSON.stringify(record);
		const known = this.checks.get(key);
		if (known !== undefined) return known;
		if (!this.checking.has(key)) {
			this.checking.add(key);
			void verifyAiRecord(record, this.id).then((ok) => {
				this.checks.set(key, ok);
				this.checking.delete(key);
				this.checked++;
			});
		}
		return undefined;
	}

	get messages(): AiMessage[] {
		void this.version;
		return this.thread.list();
	}

	get systemPrompt(): string {
		void this.version;
		return this.thread.systemPrompt;
	}

	setSystemPrompt(text: string): void {
		this.handle.doc.transact(() => (this.thread.systemPrompt = text.slice(0, MAX_PROMPT_LENGTH)), LOCAL_ORIGIN);
	}

	/** Sends a question (with `files`, added with {@link blobs}) and streams the answer of `choice`. */
	async send(text: string, choice: ModelChoice, files: readonly AttachmentRef[] = []): Promise<void> {
		const clean = text.trim().slice(0, MAX_PROMPT_LENGTH);
		if ((!clean && files.length === 0) || this.generating) return;
		await this.answer(choice, { text: clean, files });
	}

	/**
	 * Appends a question, signed by this device, naming what it asks: `ask`'s model, of the peer
	 * that writes the answer (only that peer's answer shows as asked by this member: AiThreadDoc.list).
	 * Returns its id.
	 */
	private async ask(text: string, files: readonly AttachmentRef[], ask: AskTarget): Promise<string> {
		const { identity } = this.services;
		const record = await signAiRecord(identity.privateKey, {
			kind: AiRecordKind.user,
			id: newIdFor(identity.peerId),
			author: identity.peerId,
			hlc: this.tick(),
			text,
			ask,
			...(files.length > 0 ? { files: [...files] } : {})
		}, this.id);
		this.handle.doc.transact(() => this.thread.addRecord(record), LOCAL_ORIGIN);
		return record.id;
	}

	/** Drops message `from` and everything after it from the conversation: a signed cut (nothing is deleted). */
	private async cut(from: string): Promise<void> {
		const { identity } = this.services;
		const record = await signAiRecord(identity.privateKey, { kind: AiRecordKind.cut, id: newIdFor(identity.peerId), author: identity.peerId, hlc: this.tick(), text: '', from }, this.id);
		this.handle.doc.transact(() => this.thread.addRecord(record), LOCAL_ORIGIN);
	}

	/** Stops the answer being generated here (what was written stays, marked stopped). */
	stopAnswer(): void {
		this.stop?.abort();
		this.approvals.denyWaiting();
	}

	/** The tools this chat can offer the model now: the workspace's own and the relay's shared ones (built anew each time: channels and rules change). */
	async tools(): Promise<RunnableTool[]> {
		return (await this.makeTools?.()) ?? [];
	}

	/** Builds this chat's tools; set by the app (ai/tools/workspaceTools.ts) when the chat belongs to a workspace. */
	makeTools: (() => Promise<RunnableTool[]>) | undefined;
	/** Finds workspace knowledge for a question (WorkspaceState); set when the chat belongs to a workspace. */
	makeKnowledge: ((question: string) => Promise<{ message: ChatMessage; sources: SourceRef[] }>) | undefined;

	/**
	 * Answers the last question again, with `choice`: the answers after it are dropped (a signed
	 * cut). A question names the model and the peer that writes its answer, so a question of this
	 * device's that named others is asked anew (the same text and files), its turn cut.
	 */
	async regenerate(choice: ModelChoice): Promise<void> {
		if (this.generating) return;
		const list = this.thread.list();
		const lastUser = list.map((m) => m.role).lastIndexOf(AiRole.user);
		const question = list[lastUser];
		if (question === undefined) return;
		await this.answer(choice, { again: question, firstAnswer: list[lastUser + 1]?.id });
	}

	/** Replaces a question (and everything after it) with `text`, keeping its attached files, then asks again. */
	async editAndResend(messageId: string, text: string, choice: ModelChoice): Promise<void> {
		const clean = text.trim().slice(0, MAX_PROMPT_LENGTH);
		if (this.generating) return;
		const question = this.thread.list().find((m) => m.id === messageId && m.role === AiRole.user);
		const files = question?.files ?? [];
		if (!question || (!clean && files.length === 0)) return;
		await this.answer(choice, { text: clean, files, replaces: messageId });
	}

	/** How many messages follow message `id` in the conversation (what editing it would cut). */
	laterThan(id: string): number {
		const list = this.messages;
		const index = list.findIndex((m) => m.id === id);
		return index < 0 ? 0 : list.length - index - 1;
	}

	async close(): Promise<void> {
		// An answer its host writes goes on without this view; one written here must stop (a call waiting for approval is denied).
		if (!this.hostWrites) this.stop?.abort();
		this.approvals.denyWaiting();
		this.handle.doc.off('update', this.onChange);
		this.blobs?.destroy();
		this.services.docs.release(this.handle);
	}

	/**
	 * Asks (a new question, or `again` an earlier one) and streams the answer of `choice`. The
	 * question is signed once it is known who writes the answer (the host, or this device when
	 * the model or its tools run here), since it names that writer.
	 */
	private async answer(choice: ModelChoice, asking: NewQuestion | AskAgain): Promise<void> {
		this.generating = true;
		this.stop = new AbortController();
		this.hostWrites = choice.engine.writesTargets === true;
		try {
			const mode = this.toolMode;
			const tools = mode === 'off' ? [] : await this.tools();
			const forced = typeof mode === 'object' && tools.some((t) => t.spec.name === mode.tool) ? mode.tool : undefined;
			// With tools the loop runs here, so this device writes the answer (it stops with this view).
			if (tools.length > 0) this.hostWrites = false;
			const me = this.services.identity.peerId;
			const writer = this.hostWrites ? choice.servedBy : me;
			const { id: questionId, text: question } = await this.question(asking, { model: choice.model, host: writer });
			// The answer's writer is fetched with the first question, not in the first load.
			const { runAnswer } = await import('../ai/chatRunner.js');
			let knowledge: { message: ChatMessage; sources: SourceRef[] } | undefined;
			if (this.useKnowledge && this.makeKnowledge && question.trim() !== '') {
				this.searchingKnowledge = true;
				try {
					knowledge = await this.makeKnowledge(question);
				} catch {
					knowledge = undefined; // the index could not be read: the model answers without sources
				} finally {
					this.searchingKnowledge = false;
				}
			}
			const id = answerIdFor(me, writer); // bound to who asks and who writes: recordChoice.ts
			await runAnswer({
				...(knowledge !== undefined ? { knowledge } : {}),
				...(tools.length > 0 ? { tools, approve: this.approvals.approverFor(id), ...(forced !== undefined ? { toolChoice: { name: forced } } : {}) } : {}),
				thread: this.thread,
				engine: choice.engine,
				model: choice.model,
				askedBy: me,
				question: questionId,
				servedBy: choice.servedBy,
				id,
				hlc: this.tick(),
				origin: LOCAL_ORIGIN,
				signal: this.stop.signal,
				docId: this.id,
				signer: { peerId: this.services.identity.peerId, key: this.services.identity.privateKey, clock: this.services.clock }
			});
		} finally {
			this.generating = false;
			this.stop = undefined;
			this.approvals.denyWaiting();
		}
	}

	/**
	 * The question an answer follows: a new one signed now naming `ask` (after cutting the one it
	 * replaces), or `again` an earlier one, kept when it is this device's and names `ask` already
	 * (its answers cut), else cut and asked anew with its text and files.
	 */
	private async question(asking: NewQuestion | AskAgain, ask: AskTarget): Promise<{ id: string; text: string }> {
		if ('again' in asking) {
			const { again, firstAnswer } = asking;
			const named = again.record?.ask;
			if (again.author === this.services.identity.peerId && named?.model === ask.model && named.host === ask.host) {
				if (firstAnswer !== undefined) await this.cut(firstAnswer);
				return { id: again.id, text: again.text };
			}
			await this.cut(again.id);
			return { id: await this.ask(again.text, again.files ?? [], ask), text: again.text };
		}
		if (asking.replaces !== undefined) await this.cut(asking.replaces);
		return { id: await this.ask(asking.text, asking.files, ask), text: asking.text };
	}

	private tick(): string {
		return this.services.clock.tick();
	}
}

/** A new question to ask (replacing question `replaces`, an edit and resend). */
interface NewQuestion {
	text: string;
	files: readonly AttachmentRef[];
	replaces?: string;
}

/** An earlier question to answer again (regenerate), with the first answer after it. */
interface AskAgain {
	again: AiMessage;
	firstAnswer: string | undefined;
}

/** Whether a message is an answer still being written (here or by the peer that serves it). */
export function isStreaming(message: AiMessage): boolean {
	return message.role === AiRole.assistant && (message.status === AiStatus.streaming || message.status === AiStatus.queued);
}
