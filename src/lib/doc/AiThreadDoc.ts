/**
 * Typed accessors over an AI thread document: a conversation with a model.
 *
 * - `records` (signed, only ever appended: aiThreadPolicy.ts) say what was asked and answered:
 *   each question signed by its asker, each finished answer by the peer that ran the model
 *   (with the model, who asked, the question it answers, how it ended and its stats; who asked
 *   shows only when that member signed that question, naming the model and the answer's
 *   signer), and each cut (an edit and resend, a regenerate) by whoever made it; a cut counts
 *   only when its signer asked the question of the turn it rewinds, so nobody drops others' turns.
 * - `messages` holds live entries: a Y.Map per answer whose `text` is a Y.Text, so an answer
 *   is written token by token while it streams and every peer sees it arrive. Anyone can change
 *   them; once the answer's signed record exists, the view shows the record instead. Chats from
 *   before records are live entries only, shown as unsigned.
 */
import * as Y from 'yjs';
import { readPosition, readStats, readStatus } from './answerFields.js';
import { compareHlc } from './hlc.js';
import { equivocatedChoice } from './answerEnds.js';
import { replacesHeld } from './recordChoice.js';
import { aiRecordSigningBytes, verifyAiRecordNow } from './signature.js';
import { AiRecordKind, AiStatus, type AiRecord, type AttachmentRef, type GenerationStats, type SourceRef, type ToolStep } from './schema.js';
import { readSources, readSteps } from './aiSteps.js';
import { isAskTarget, isAttachmentRef, MAX_FILES } from './validate.js';

/** Who wrote an AI-thread message. */
export const AiRole = { system: 'system', user: 'user', assistant: 'assistant' } as const;
export type AiRole = (typeof AiRole)[keyof typeof AiRole];

/** Fields of a new AI-thread message. */
export interface AiMessageInit {
	id: string;
	role: AiRole;
	hlc: string;
	/** Peer id of the asker (user messages) or of the serving peer (assistant messages). */
	author: string;
	text: string;
	model?: string;
	status?: AiStatus;
	/** Assistant messages: the peer id of the member who asked. */
	askedBy?: string;
	/** Assistant messages: the id of the signed question answered (schema.ts `AskTarget`). */
	question?: string;
}

/** A read-only snapshot of an AI-thread message. */
export interface AiMessage extends AiMessageInit {
	status: AiStatus;
	stats?: GenerationStats;
	/** Why a failed answer failed (an interrupted one keeps its partial text). */
	error?: string;
	/** While queued at a busy host: how many requests are ahead of it. */
	queuePosition?: number;
	/** The signed record it shows (absent: a live entry still streaming, or an unsigned one). */
	record?: AiRecord;
	/** A question's attached files (signed with it). */
	files?: AttachmentRef[];
	/** An answer's tool calls, with their results. */
	steps?: ToolStep[];
	/** A knowledge answer's sources, cited as [n]. */
	sources?: SourceRef[];
	/** Its host signed more than one ending of it (answerEnds.ts): the earliest shows. */
	equivocated?: true;
}

/** Accessors over an AI thread document. */
export class AiThreadDoc {
	readonly meta: Y.Map<unknown>;
	readonly messages: Y.Array<Y.Map<unknown>>;
	/** Signed questions, answers and cuts (only appended). */
	readonly records: Y.Array<AiRecord>;

	/**
	 * The document's id, which records signed in it name (signature.ts `boundTo`): its Yjs guid,
	 * which every store and working copy sets to the id (DocStore, ArchiveDocs, targetDoc.ts).
	 */
	get id(): string {
		return this.doc.guid;
	}

	constructor(readonly doc: Y.Doc) {
		this.meta = doc.getMap('meta');
		this.messages = doc.getArray('messages');
		this.records = doc.getArray('records');
	}

	/** Appends a signed record. */
	addRecord(record: AiRecord): void {
		this.records.push([record]);
	}

	/** The signed answer record of message `id`, if one exists. */
	answerRecord(id: string): AiRecord | undefined {
		return this.readRecords().find((r) => r.kind === AiRecordKind.answer && r.id === id);
	}

	/** Records that are well formed (anyone may append; these are read defensively). */
	readRecords(): AiRecord[] {
		return this.records.toArray().filter(isAiRecord);
	}

	/** The system prompt for this chat. */
	get systemPrompt(): string {
		const v = this.meta.get('systemPrompt');
		return typeof v === 'string' ? v : '';
	}
	set systemPrompt(value: string) {
		this.meta.set('systemPrompt', value);
	}

	/** Appends a message; returns its Y.Map so a streaming answer can be extended. */
	append(init: AiMessageInit): Y.Map<unknown> {
		const entry = new Y.Map<unknown>();
		this.doc.transact(() => {
			this.messages.push([entry]);
			const { text, ...rest } = init;
			for (const [k, v] of Object.entries(rest)) if (v !== undefined) entry.set(k, v);
			if (!entry.has('status')) entry.set('status', AiStatus.done);
			entry.set('text', new Y.Text(text));
		});
		return entry;
	}

	/** The entry of the message with this id (the first, should a peer have repeated it). */
	entry(id: string): Y.Map<unknown> | undefined {
		for (const m of this.messages) if (m instanceof Y.Map && m.get('id') === id) return m;
		return undefined;
	}

	/**
	 * The conversation as a plain snapshot, in clock order: every signed question and answer,
	 * live answers still being written, and unsigned entries (from before records, or written
	 * by anyone into `messages`, marked by having no `record`); minus what cuts dropped. An
	 * answer says who asked only when that member wrote the question it answers.
	 */
	list(): AiMessage[] {
		const records = this.readRecords();
		const byId = new Map<string, AiMessage>();
		const answers = new Map<string, AiRecord[]>();
		for (const r of records) {
			if (r.kind === AiRecordKind.cut) continue;
			if (r.kind === AiRecordKind.answer) {
				const list = answers.get(r.id);
				if (list) list.push(r);
				else answers.set(r.id, [r]);
			}
			const held = byId.get(r.id);
			// Records of one id: see recordChoice.ts.
			if (held === undefined || (held.record !== undefined && replacesHeld(held.record, r, (x) => recordVerified(x, this.id)))) byId.set(r.id, fromRecord(r));
		}
		// Different signed answers of one id by its host: the earliest shows, marked (answerEnds.ts;
		// found in review: a host's further answer record, placed before its first, replaced its text).
		for (const [id, list] of answers) {
			const held = byId.get(id)?.record;
			if (list.length < 2 || held === undefined || !recordVerified(held, this.id)) continue;
			const chosen = equivocatedChoice(list.filter((r) => r.author === held.author && recordVerified(r, this.id)), answerContent);
			if (chosen !== undefined) byId.set(id, { ...fromRecord(chosen), equivocated: true });
		}
		let previous = '';
		for (const entry of this.messages.toArray()) {
			const live = fromEntry(entry);
			if (live === undefined) continue;
			// An entry without a clock (written by hand, or damaged) keeps its place after the one before it.
			if (live.hlc === '') live.hlc = previous;
			previous = live.hlc;
			if (!byId.has(live.id)) byId.set(live.id, live);
		}
		let out = [...byId.values()].sort((a, b) => compareHlc(a.hlc, b.hlc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
		for (const cut of records.filter((r) => r.kind === AiRecordKind.cut)) {
			const at = out.findIndex((m) => m.id === cut.from);
			if (at < 0) continue;
			// Only the asker of the turn may rewind it (edit its question, or regenerate its answer).
			const question = out.slice(0, at + 1).findLast((m) => m.role === AiRole.user);
			if (question === undefined || question.author !== cut.author || !recordVerified(cut, this.id)) continue;
			const from = out[at]!;
			// Only the cutter's own questions and the answers to them go (found in review: everyone's
			// turns between a backdated question and a far-future cut went, so a member emptied a chat).
			const own = (m: AiMessage) => m.author === cut.author || (m.role === AiRole.assistant && m.askedBy === cut.author);
			out = out.filter((m) => !own(m) || compareHlc(m.hlc, from.hlc) < 0 || compareHlc(m.hlc, cut.hlc) > 0);
		}
		// An answer says who asked only when that is proven (see provenAsker); an unproven one is its
		// author's own message (found in review: a member signed an answer "asked by" another member,
		// after her question, and it showed as that member's answer).
		// One question, one answer, as in a channel (channelRights.ts `channelQuestions`): of the
		// signed answers proven to a question, only the first in the conversation whose signature
		// checks out says who asked, and no live entry after it (found in review: the host a member
		// once asked signed further answers "asked by" her, days later, and each showed as hers; a
		// regenerate cuts the answer it replaces first). A live entry takes no answer's place: anyone
		// may write one.
		const questions = new Map<string, AiMessage>();
		for (const m of out) if (m.role === AiRole.user && m.record !== undefined) questions.set(m.id, m);
		// The host signed two or more answers proven to one question: the first shows as asked, marked.
		const signedAnswers = new Map<string, number>();
		for (const m of out) {
			if (m.role !== AiRole.assistant || m.record === undefined || this.provenAsker(m, questions) === undefined || !recordVerified(m.record, this.id)) continue;
			signedAnswers.set(m.question!, (signedAnswers.get(m.question!) ?? 0) + 1);
		}
		const answered = new Set<string>();
		return out.map((m) => {
			if (m.role !== AiRole.assistant || m.askedBy === undefined) return m;
			if (this.provenAsker(m, questions) !== undefined && !answered.has(m.question!)) {
				if (m.record === undefined) return m;
				if (recordVerified(m.record, this.id)) {
					answered.add(m.question!);
					return (signedAnswers.get(m.question!) ?? 0) > 1 ? { ...m, equivocated: true } : m;
				}
			}
			const { askedBy: _unproven, ...rest } = m;
			return rest;
		});
	}

	/**
	 * Who asked answer `m`, when proven: it names (`question`) a signed question of this chat
	 * (among `questions`, those still in the conversation) whose signature checks out here, whose
	 * author is `m.askedBy`, that asks `m`'s model of `m`'s author (schema.ts `AskTarget`), and
	 * that comes before it. A live entry (anyone may write one) is held to the same rule.
	 */
	private provenAsker(m: AiMessage, questions: ReadonlyMap<string, AiMessage>): string | undefined {
		const q = m.question === undefined ? undefined : questions.get(m.question);
		const ask = q?.record?.ask;
		if (q === undefined || ask === undefined || q.author !== m.askedBy || ask.model !== m.model || ask.host !== m.author) return undefined;
		if (compareHlc(q.hlc, m.hlc) >= 0 || !recordVerified(q.record!, this.id)) return undefined;
		return m.askedBy;
	}
}

const recordChecks = new Map<string, boolean>();

/** Whether a record's signature checks out in chat `docId` (remembered: a chat folds its cuts on every change). */
function recordVerified(record: AiRecord, docId: string): boolean {
	const key = JSON.stringify([docId, record]); // the whole record: a signature copied onto other fields is checked anew
	let ok = recordChecks.get(key);
	if (ok === undefined) {
		if (recordChecks.size > 10_000) recordChecks.clear();
		recordChecks.set(key, (ok = verifyAiRecordNow(record, docId)));
	}
	return ok;
}

/**
 * What an answer record says as its signature covers it, its clock left out (two that differ here
 * equivocate). Found in review: read as JSON, a member's copy of the host's genuine record with its
 * fields in another order (its signature still checks out) marked an honest answer.
 */
function answerContent(r: AiRecord): string {
	const { sig: _sig, ...said } = r;
	return contentDecoder.decode(aiRecordSigningBytes({ ...said, hlc: '' }));
}

const contentDecoder = new TextDecoder();

/** The message a signed question or answer shows. */
function fromRecord(r: AiRecord): AiMessage {
	return {
		id: r.id,
		role: r.kind === AiRecordKind.user ? AiRole.user : AiRole.assistant,
		hlc: r.hlc,
		author: r.author,
		text: r.text,
		status: r.kind === AiRecordKind.user ? AiStatus.done : readStatus(r.status),
		record: r,
		...(r.model !== undefined ? { model: r.model } : {}),
		...(r.askedBy !== undefined ? { askedBy: r.askedBy } : {}),
		...(r.question !== undefined ? { question: r.question } : {}),
		...(readStats(r.stats) !== undefined ? { stats: readStats(r.stats) } : {}),
		...(r.error !== undefined ? { error: r.error } : {}),
		...(r.files !== undefined ? { files: r.files } : {}),
		...(r.steps !== undefined ? { steps: r.steps } : {}),
		...(r.sources !== undefined ? { sources: r.sources } : {})
	};
}

/** The message a live entry shows, or undefined when it is not well formed. */
function fromEntry(m: unknown): AiMessage | undefined {
	if (!(m instanceof Y.Map)) return undefined;
	const text = m.get('text');
	const id = m.get('id');
	const role = m.get('role');
	if (typeof id !== 'string' || typeof role !== 'string') return undefined;
	return {
		id,
		role: role as AiRole,
		hlc: String(m.get('hlc') ?? ''),
		author: String(m.get('author') ?? ''),
		text: text instanceof Y.Text ? text.toString() : '',
		model: typeof m.get('model') === 'string' ? (m.get('model') as string) : undefined,
		status: readStatus(m.get('status')),
		stats: readStats(m.get('stats')),
		...(typeof m.get('askedBy') === 'string' ? { askedBy: m.get('askedBy') as string } : {}),
		...(typeof m.get('question') === 'string' ? { question: m.get('question') as string } : {}),
		...(typeof m.get('error') === 'string' ? { error: m.get('error') as string } : {}),
		...(readPosition(m.get('queuePosition')) !== undefined ? { queuePosition: readPosition(m.get('queuePosition')) } : {}),
		...(readSteps(m.get('steps')) !== undefined ? { steps: readSteps(m.get('steps'))! } : {}),
		...(readSources(m.get('sources')) !== undefined ? { sources: readSources(m.get('sources'))! } : {})
	};
}

const KINDS = new Set<unknown>(Object.values(AiRecordKind));
const optionalString = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max);

/** Whether a value read from `records` is a well-formed record (its signature is checked elsewhere). */
export function isAiRecord(v: unknown): v is AiRecord {
	if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
	const r = v as Record<string, unknown>;
	return (
		KINDS.has(r.kind) &&
		typeof r.id === 'string' &&
		r.id.length <= 64 &&
		typeof r.author === 'string' &&
		r.author.length <= 100 &&
		typeof r.hlc === 'string' &&
		r.hlc.length <= 100 &&
		typeof r.text === 'string' &&
		typeof r.sig === 'string' &&
		optionalString(r.model, 200) &&
		optionalString(r.askedBy, 100) &&
		optionalString(r.status, 20) &&
		optionalString(r.error, 1000) &&
		optionalString(r.from, 64) &&
		(r.question === undefined || (r.kind === AiRecordKind.answer && typeof r.question === 'string' && r.question.length > 0 && r.question.length <= 64)) &&
		(r.ask === undefined || (r.kind === AiRecordKind.user && isAskTarget(r.ask))) &&
		(r.files === undefined || (Array.isArray(r.files) && r.files.length > 0 && r.files.length <= MAX_FILES && r.files.every(isAttachmentRef))) &&
		(r.steps === undefined || (r.kind === AiRecordKind.answer && readSteps(r.steps) !== undefined)) &&
		(r.sources === undefined || (r.kind === AiRecordKind.answer && readSources(r.sources) !== undefined))
	);
}
