/**
 * Where a model's answer is written while it streams: an AI-thread message, or a model's
 * message in a channel (`@model question`). {@link pumpAnswer} drives a sink from an engine's
 * chunks and measures the usage stats; it is the same code whether the asker writes (its own
 * browser runs the model) or the host does (llmHost.ts, for a request with a target), so an
 * answer reads the same wherever it was written.
 *
 * Every write is one transaction with the sink's origin (so it syncs like any local edit);
 * text already written is kept whatever happens next (an interrupted answer stays readable).
 * The first text is written at once; after that, text is gathered and written at most every
 * {@link TEXT_FLUSH_MS}: each write is an update the store persists (an IndexedDB write in a
 * browser, an fsynced log append on the relay) and the mesh sends, and a model yields a token
 * every few milliseconds.
 *
 * The live entry is shared: any member's replica may write it while the answer streams (the
 * write policies let it). So what a sink signs at the end is what this device produced, kept
 * here: the text it appended, the tool steps its own loop reported ({@link AnswerSink.useSteps}),
 * and the model, clock and sources its caller gave or the entry held when the sink was made;
 * never what the entry holds by then (found in review: a member who watched a chat rewrote a
 * running answer's steps and text, and the asker's device signed them as its own).
 */
import * as Y from 'yjs';
import { AiRole, type AiThreadDoc } from '../doc/AiThreadDoc.js';
import type { ChannelDoc } from '../doc/ChannelDoc.js';
import type { HybridClock } from '../doc/hlc.js';
import { signAiRecord, signEdit, signMessage } from '../doc/signature.js';
import { AiRecordKind, AiStatus, type AnswerEnd, type GenerationStats, type SourceRef, type ToolStep } from '../doc/schema.js';
import { MAX_END_ERROR } from '../doc/answerFields.js';
import { EngineError, EngineProblem, failureText, type GenerateChunk } from './engine.js';
import { clockInWindow } from '../doc/answerWindow.js';
import type { DeviceKey } from '../doc/deviceKey.js';
import { readSources, readSteps } from '../doc/aiSteps.js';
import { endSignedBy } from '../doc/answerEnds.js';
import { signedPost } from '../doc/channelRights.js';
import { isMessageRecord } from '../doc/validate.js';

/** Longest answer text waits before it is written (merged with the text after it). */
export const TEXT_FLUSH_MS = 50;

/**
 * A second writer of an answer this signer has ended, or is writing: an honest host signs one
 * end per answer (doc/answerEnds.ts), so a retried request of a finished answer is refused and
 * the asker asks again, which makes a new answer.
 */
export class AnswerEndedError extends EngineError {
	override name = 'AnswerEndedError';
	constructor() {
		super(EngineProblem.notAllowed, 'This answer is already written: ask again, and the model\'s answer goes into a new message.');
	}
}

/** Answers this process writes or wrote, by document, answer and signer (the newest {@link MAX_CLAIMS}). */
const claims = new Set<string>();
const MAX_CLAIMS = 10_000;

const claimKey = (docId: string, answerId: string, signer: string) => `${docId}\n${answerId}\n${signer}`;

/**
 * Claims the one end of answer `answerId` in document `docId` for `signer`: false when this
 * process has claimed it already (a retried request while the first still runs, or after it
 * ended; found in review: each signed its own end). Checked and taken at once, with no wait
 * between, so two writers in one process never both hold it.
 */
function claimEnd(docId: string, answerId: string, signer: string): boolean {
	const key = claimKey(docId, answerId, signer);
	if (claims.has(key)) return false;
	if (claims.size >= MAX_CLAIMS) claims.delete(claims.values().next().value!);
	claims.add(key);
	return true;
}

/**
 * Whether `signer` signed, in `channel`, a model answer other than `init.id` to the same question
 * for the same asker and model. Found in review: an asker's modified client sent two requests
 * for one question with different answer ids, the honest host wrote both, and the answer that
 * shows was marked as its host's equivocation (answerEnds.ts `answeredTwice`).
 */
function answeredOtherwise(channel: ChannelDoc, init: ChannelAnswerInit, signer: string): boolean {
	if (init.question === undefined) return false;
	return channel.messages
		.toArray()
		.some((m) => isMessageRecord(m) && m.id !== init.id && m.author === signer && m.question === init.question && m.askedBy === init.askedBy && m.model === init.model && signedPost(m, channel.id));
}

/** How an answer ended. */
export interface AnswerResult {
	status: AiStatus;
	text: string;
	stats?: GenerationStats;
	error?: string;
}

/** A place an answer is written to. */
export interface AnswerSink {
	/** The request waits at a busy host: `position` requests are ahead. */
	queued(position: number): void;
	/** Appends text (the first call marks the answer `streaming`). */
	append(text: string): void;
	/** The text written so far (by this sink: what the entry shows may differ). */
	text(): string;
	/** The answer's tool steps as its own tool loop has them now (toolAnswer.ts); what its end records. */
	useSteps(steps: readonly ToolStep[]): void;
	/** Records how it ended (status, stats, error). */
	finish(result: AnswerResult): Promise<void>;
}

/** Who writes a signed answer into a channel: a peer's key and clock. */
export interface AnswerSigner {
	peerId: string;
	key: DeviceKey;
	clock: HybridClock;
}

/** What this device produced for an answer, handed to the signing end. */
interface OwnAnswer {
	text: string;
	/** Its tool steps, undefined when no tool loop ran. */
	steps: readonly ToolStep[] | undefined;
	result: AnswerResult;
}

/** Writes into the Y.Map of an answer (an AI-thread message or a channel's live answer). */
class EntrySink implements AnswerSink {
	private started = false;
	private readonly body: Y.Text;
	/** The text this sink wrote (the entry's text may hold more: anyone may write it). */
	private written = '';
	private steps: readonly ToolStep[] | undefined;
	/** Text not written yet, and the timer that writes it. */
	private gathered = '';
	private timer: ReturnType<typeof setTimeout> | undefined;

	constructor(
		private readonly doc: Y.Doc,
		private readonly entry: Y.Map<unknown>,
		private readonly origin: unknown,
		private readonly onFinish?: (own: OwnAnswer) => Promise<void>
	) {
		let text = entry.get('text');
		if (!(text instanceof Y.Text)) {
			text = new Y.Text();
			doc.transact(() => entry.set('text', text), origin);
		}
		this.body = text as Y.Text;
	}

	queued(position: number): void {
		if (this.started) return;
		this.doc.transact(() => {
			this.entry.set('status', AiStatus.queued);
			this.entry.set('queuePosition', position);
		}, this.origin);
	}

	append(text: string): void {
		if (text === '') return;
		this.gathered += text;
		if (!this.started) this.write();
		else this.timer ??= setTimeout(() => this.write(), TEXT_FLUSH_MS);
	}

	text(): string {
		return this.written + this.gathered;
	}

	useSteps(steps: readonly ToolStep[]): void {
		this.steps = steps;
	}

	async finish(result: AnswerResult): Promise<void> {
		this.write();
		this.doc.transact(() => {
			this.entry.set('status', result.status);
			this.entry.delete('queuePosition');
			if (result.stats) this.entry.set('stats', result.stats);
			if (result.error) this.entry.set('error', result.error);
		}, this.origin);
		await this.onFinish?.({ text: this.written, steps: this.steps, result });
	}

	/** Writes the gathered text (the first write also marks the answer `streaming`). */
	private write(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		if (this.gathered === '') return;
		const text = this.gathered;
		this.gathered = '';
		this.doc.transact(() => {
			if (!this.started) {
				this.entry.set('status', AiStatus.streaming);
				this.entry.delete('queuePosition');
			}
			this.body.insert(this.body.length, text);
		}, this.origin);
		this.written += text;
		this.started = true;
	}
}

/** What an answer's signed record says about it besides its text and steps: given by the caller, or read from the entry when the sink is made. */
export interface AnswerFacts {
	/** The member who asked. */
	askedBy?: string;
	/** The id of the signed question it answers (see schema.ts `AskTarget`). */
	question?: string;
	model?: string;
	/** The answer's clock (its place in the chat). */
	hlc?: string;
	/** Workspace knowledge the answer cites. */
	sources?: SourceRef[];
}

/**
 * A sink writing into the AI-thread message with id `entryId`, or undefined when it is not
 * there. With `signer`, the end is also recorded as the signer's signed answer record (the
 * text, model, who asked, status and stats), which is what every view shows from then on.
 * `facts` the caller knows (the asker its model, clock and sources) are signed as given; the
 * rest as the entry says when the sink is made (a host answering an asker's entry).
 */
export function threadSink(thread: AiThreadDoc, entryId: string, origin: unknown, signer?: AnswerSigner, facts: AnswerFacts = {}): AnswerSink | undefined {
	const entry = thread.entry(entryId);
	if (entry === undefined) return undefined;
	if (signer === undefined) return new EntrySink(thread.doc, entry, origin);
	const held = entry.get('model');
	const model = facts.model ?? (typeof held === 'string' ? held : undefined);
	const asker = facts.askedBy ?? entry.get('askedBy');
	// Which question it answers is the caller's to say, never the entry's (anyone may write that).
	const question = facts.question;
	const heldHlc = entry.get('hlc');
	const hlc = facts.hlc ?? (typeof heldHlc === 'string' ? heldHlc : undefined);
	const sources = facts.sources ?? readSources(entry.get('sources'));
	const signed = signer.peerId;
	// One signed answer per question too, unless the asker cut it (a regenerate): see threadAnswered.
	if (threadAnswered(thread, entryId, signed, question, asker)) throw new AnswerEndedError();
	return new EntrySink(thread.doc, entry, origin, async ({ text, steps, result }) => {
		// One signed answer per entry: a retried request's (or a second writer's in this process) signs none.
		if (thread.answerRecord(entryId) !== undefined || threadAnswered(thread, entryId, signed, question, asker) || !claimEnd(thread.id, entryId, signed)) return;
		const ended = endedSteps(steps);
		const record = await signAiRecord(signer.key, {
			kind: AiRecordKind.answer,
			id: entryId,
			author: signer.peerId,
			hlc: hlc ?? signer.clock.tick(),
			text,
			status: result.status,
			...(model !== undefined ? { model } : {}),
			...(typeof asker === 'string' ? { askedBy: asker } : {}),
			...(question !== undefined ? { question } : {}),
			...(result.error !== undefined ? { error: result.error.slice(0, 1000) } : {}),
			...(result.stats !== undefined ? { stats: result.stats } : {}),
			...(ended !== undefined ? { steps: ended } : {}),
			...(sources !== undefined && sources.length > 0 ? { sources } : {})
		}, thread.id);
		thread.doc.transact(() => thread.addRecord(record), origin);
	});
}

/**
 * Whether the chat shows an answer other than `entryId` that `signer` signed, proven to
 * `question` asked by `asker` (AiThreadDoc.list: not cut). Found in review: the views mark such a
 * question's answer as its host's equivocation, and an asker's modified client appended a second
 * entry naming one question: the honest host signed both, and its answer showed marked.
 */
function threadAnswered(thread: AiThreadDoc, entryId: string, signer: string, question: string | undefined, asker: unknown): boolean {
	if (question === undefined) return false;
	return thread.list().some((m) => m.role === AiRole.assistant && m.id !== entryId && m.record?.author === signer && m.question === question && m.askedBy === asker);
}

/** An answer's steps as its end records them: those still waiting (stopped during an approval) end as denied. */
function endedSteps(steps: readonly ToolStep[] | undefined): ToolStep[] | undefined {
	return readSteps(steps === undefined ? undefined : [...steps])?.map((s) => (s.status === 'running' || s.status === 'approval' ? { ...s, status: 'denied' as const } : s));
}

/** What a model's message in a channel says about itself. */
export interface ChannelAnswerInit {
	/** Id of the new message. */
	id: string;
	model: string;
	/** The member who asked. */
	askedBy: string;
	/** The id of the question it answers (signed by `askedBy`, naming the model and this signer: schema.ts `AskTarget`). */
	question?: string;
	/** The question's clock: the answer is ordered right after it. */
	after?: string;
	/** Set when the question was a thread reply: the answer goes to the same thread. */
	parent?: string;
}

/**
 * Posts a model's message into a channel (signed by `signer`, text empty: it streams into the
 * channel's `answers` map) and returns a sink for its text. When the answer ends, the final
 * text is recorded as the signer's signed edit, with how it ended (status, error, usage, tool
 * calls: schema.ts `AnswerEnd`), so what stays in the channel is signed. Both are dated within
 * the question's answer window (answerWindow.ts `clockInWindow`), where every view counts them.
 * A message with this id already there (a retried request) is not posted again; its end is
 * signed once (doc/answerEnds.ts): a retry of an answer this signer ended, or is writing in
 * this process, throws {@link AnswerEndedError} before anything is written.
 */
export async function channelSink(channel: ChannelDoc, init: ChannelAnswerInit, signer: AnswerSigner, origin: unknown): Promise<AnswerSink> {
	const existing = channel.answers.get(init.id);
	if ((existing instanceof Y.Map && endSignedBy(channel, init.id, signer.peerId)) || answeredOtherwise(channel, init, signer.peerId)) throw new AnswerEndedError();
	// One answer per question too (views mark a question's answer whose host signed another: answerEnds.ts `answeredTwice`).
	const questionKey = init.question === undefined ? undefined : `question\n${init.question}\n${init.askedBy}\n${init.model}`;
	if (!claimEnd(channel.id, init.id, signer.peerId)) throw new AnswerEndedError();
	if (questionKey !== undefined && !claimEnd(channel.id, questionKey, signer.peerId)) {
		claims.delete(claimKey(channel.id, init.id, signer.peerId));
		throw new AnswerEndedError();
	}
	const asked = init.after;
	if (asked !== undefined) signer.clock.receive(asked);
	let entry: Y.Map<unknown>;
	/** The answer's clock, when posted here (a retried request's is already in the channel). */
	let posted: string | undefined;
	if (existing instanceof Y.Map) {
		entry = existing;
	} else {
		// Started past its question's window (a long queue, a clock ahead of the asker's), it is dated at the window's close, where it still counts (answerWindow.ts).
		const now = signer.clock.tick();
		posted = asked === undefined ? now : clockInWindow(asked, now, signer.peerId);
		const record = await signMessage(signer.key, {
			id: init.id,
			author: signer.peerId,
			hlc: posted,
			text: '',
			model: init.model,
			askedBy: init.askedBy,
			...(init.question !== undefined ? { question: init.question } : {}),
			...(init.parent !== undefined ? { parent: init.parent } : {})
		}, channel.id).catch((error: unknown) => {
			// Nothing was written: a retry may write this answer.
			claims.delete(claimKey(channel.id, init.id, signer.peerId));
			if (questionKey !== undefined) claims.delete(claimKey(channel.id, questionKey, signer.peerId));
			throw error;
		});
		let created!: Y.Map<unknown>;
		channel.doc.transact(() => {
			channel.post(record);
			created = channel.startAnswer(init.id);
		}, origin);
		entry = created;
	}
	return new EntrySink(channel.doc, entry, origin, async ({ text, steps: own, result }) => {
		const end: AnswerEnd = {
			status: result.status,
			...(result.error !== undefined ? { error: result.error.slice(0, MAX_END_ERROR) } : {}),
			...(result.stats !== undefined ? { stats: result.stats } : {})
		};
		const steps = endedSteps(own);
		if (steps !== undefined) end.steps = steps;
		// An end signed once the question's window closed is dated at its close, so a slow answer keeps its text (answerWindow.ts).
		const now = signer.clock.tick();
		const hlc = asked === undefined ? now : clockInWindow(asked, now, signer.peerId, posted ?? asked);
		const edit = await signEdit(signer.key, { msg: init.id, author: signer.peerId, hlc, text, end });
		channel.doc.transact(() => channel.edit(edit), origin);
	});
}

/** Options of {@link pumpAnswer}. */
export interface PumpOptions {
	/** Aborted when the asker stopped the answer: it ends `cancelled`. */
	signal?: AbortSignal;
	/** Clock for the stats; default `performance.now`. */
	now?: () => number;
	/** Called once when the first text arrives. */
	onFirstText?: () => void;
}

/**
 * Writes an engine's chunks into a sink and records the end: `done` with the usage stats,
 * `cancelled` when `signal` aborted, `failed` with the reason otherwise. Never throws.
 * `start` is when the request was made (time to first token counts from it).
 */
export async function pumpAnswer(
	chunks: (hooks: { onQueued: (position: number) => void }) => AsyncIterable<GenerateChunk>,
	sink: AnswerSink,
	options: PumpOptions = {}
): Promise<AnswerResult> {
	const now = options.now ?? (() => performance.now());
	const started = now();
	let firstAt: number | undefined;
	const end = async (result: Omit<AnswerResult, 'text'>): Promise<AnswerResult> => {
		const done = { ...result, text: sink.text() };
		await sink.finish(done);
		return done;
	};
	try {
		const onQueued = (position: number) => {
			if (firstAt === undefined) sink.queued(position);
		};
		for await (const chunk of chunks({ onQueued })) {
			if (chunk.type === 'text') {
				if (chunk.text === '') continue;
				sink.append(chunk.text);
				if (firstAt === undefined) {
					firstAt = now();
					options.onFirstText?.();
				}
				continue;
			}
			if (chunk.type !== 'done') continue; // a tool call: the tool loop (tools/toolLoop.ts) runs it
			const finished = now();
			const seconds = (finished - (firstAt ?? started)) / 1000;
			const stats: GenerationStats = {
				tokensIn: chunk.promptTokens,
				tokensOut: chunk.completionTokens,
				ttftMs: Math.round((firstAt ?? finished) - started),
				tokensPerSecond: seconds > 0 ? Math.round((chunk.completionTokens / seconds) * 10) / 10 : 0
			};
			return await end({ status: AiStatus.done, stats });
		}
		return await end({ status: AiStatus.failed, error: 'the model ended without finishing' });
	} catch (error) {
		if (options.signal?.aborted) return await end({ status: AiStatus.cancelled });
		return await end({ status: AiStatus.failed, error: failureText(error) });
	}
}
