/**
 * Typed accessors over an AI thread document: a conversation with a model. Each message is
 * a Y.Map whose `text` is a Y.Text, so an assistant answer can be written token by token
 * while it streams and every peer sees it arrive. Schema only for now; the models issue
 * adds the UI and the engines.
 */
import * as Y from 'yjs';
import { readPosition, readStats, readStatus } from './answerFields.js';
import { AiStatus, type GenerationStats } from './schema.js';

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
}

/** A read-only snapshot of an AI-thread message. */
export interface AiMessage extends AiMessageInit {
	status: AiStatus;
	stats?: GenerationStats;
	/** Why a failed answer failed (an interrupted one keeps its partial text). */
	error?: string;
	/** While queued at a busy host: how many requests are ahead of it. */
	queuePosition?: number;
}

/** Accessors over an AI thread document. */
export class AiThreadDoc {
	readonly meta: Y.Map<unknown>;
	readonly messages: Y.Array<Y.Map<unknown>>;

	constructor(readonly doc: Y.Doc) {
		this.meta = doc.getMap('meta');
		this.messages = doc.getArray('messages');
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

	/** Every message as a plain snapshot; entries that are not well-formed maps are skipped. */
	list(): AiMessage[] {
		return this.messages.toArray().flatMap((m: unknown) => {
			if (!(m instanceof Y.Map)) return [];
			const text = m.get('text');
			const id = m.get('id');
			const role = m.get('role');
			if (typeof id !== 'string' || typeof role !== 'string') return [];
			return [
				{
					id,
					role: role as AiRole,
					hlc: String(m.get('hlc') ?? ''),
					author: String(m.get('author') ?? ''),
					text: text instanceof Y.Text ? text.toString() : '',
					model: typeof m.get('model') === 'string' ? (m.get('model') as string) : undefined,
					status: readStatus(m.get('status')),
					stats: readStats(m.get('stats')),
					...(typeof m.get('askedBy') === 'string' ? { askedBy: m.get('askedBy') as string } : {}),
					...(typeof m.get('error') === 'string' ? { error: m.get('error') as string } : {}),
					...(readPosition(m.get('queuePosition')) !== undefined ? { queuePosition: readPosition(m.get('queuePosition')) } : {})
				}
			];
		});
	}
}
