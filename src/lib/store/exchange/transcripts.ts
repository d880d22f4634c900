/**
 * Readable copies of documents for an export (and the channel menu's "Export as Markdown"):
 * a channel as structured data and as a Markdown transcript, an AI chat likewise (a note's
 * Markdown is doc/noteMarkdown.ts, shared with its own menu). Pure functions over the typed accessors;
 * authors are shown by their roster display names, edits as the final text, deleted messages
 * as a marker without their text. The file text is English whatever the UI language, so
 * that tools reading exports see one format.
 */
import type { AiThreadDoc } from '../../doc/AiThreadDoc.js';
import { shownText, type PostingRules } from '../../doc/channelRights.js';
import type { ChannelView } from '../../doc/ChannelView.js';
import { hlcWall } from '../../doc/hlc.js';
import type { AiThreadInfo, ChannelInfo, GenerationStats, MessageRecord } from '../../doc/schema.js';

/** A member's display name for a peer id. */
export type NameOf = (peerId: string) => string;

/** One message (or reply) of a channel as exported. */
export interface MessageExport {
	id: string;
	author: string;
	authorName: string;
	/** ISO 8601 time from the message's clock ('' when the clock is unreadable). */
	time: string;
	hlc: string;
	/** The final text (after edits); '' for a deleted message. */
	text: string;
	edited: boolean;
	deleted: boolean;
	/** Hidden by a moderator, or withheld by the channel's posting rules: its text is left out. */
	hidden?: boolean;
	reactions: { emoji: string; names: string[] }[];
	/** Thread replies, oldest first (top-level messages only). */
	replies?: MessageExport[];
}

/** A channel as exported (the `.json` file). */
export interface ChannelExport {
	channel: ChannelInfo;
	messages: MessageExport[];
}

/** One message of an AI chat as exported. */
export interface AiMessageExport {
	id: string;
	role: string;
	author: string;
	authorName: string;
	time: string;
	model?: string;
	status: string;
	text: string;
	stats?: GenerationStats;
	error?: string;
}

/** An AI chat as exported (the `.json` file). */
export interface AiChatExport {
	chat: AiThreadInfo;
	systemPrompt: string;
	messages: AiMessageExport[];
}

/** ISO time of a clock value, or '' when it has none. */
function isoTime(hlc: string): string {
	const wall = hlcWall(hlc);
	return wall > 0 ? new Date(wall).toISOString() : '';
}

/** A short readable UTC time: `2026-11-21 10:31 UTC`. */
function shortTime(iso: string): string {
	return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '';
}

function exportMessage(view: ChannelView, m: MessageRecord, nameOf: NameOf, unseen: ReadonlySet<string>, rules: PostingRules | undefined): MessageExport {
	const deleted = view.deletion(m) !== undefined;
	const hidden = unseen.has(m.id);
	return {
		id: m.id,
		author: m.author,
		authorName: nameOf(m.author),
		time: isoTime(m.hlc),
		hlc: m.hlc,
		text: deleted || hidden ? '' : shownText(view, m, rules),
		edited: !deleted && view.edits(m.id).length > 0,
		deleted,
		...(hidden ? { hidden } : {}),
		reactions: view.reactions(m.id).map((r) => ({ emoji: r.emoji, names: r.peers.map(nameOf) }))
	};
}

/**
 * A channel's messages and thread replies in clock order, as plain data. Messages in `unseen`
 * (hidden by a moderator, withheld by the posting rules: channelRights.unseenMessages) keep
 * their place without their text.
 */
export function channelData(view: ChannelView, info: ChannelInfo, nameOf: NameOf, unseen: ReadonlySet<string> = new Set(), rules?: PostingRules): ChannelExport {
	return {
		channel: { ...info },
		messages: view.top.map((m) => ({
			...exportMessage(view, m, nameOf, unseen, rules),
			replies: view.repliesTo(m.id).map((r) => exportMessage(view, r, nameOf, unseen, rules))
		}))
	};
}

/** Prefixes every line (for thread replies, quoted under their parent). */
function indent(text: string, prefix: string): string {
	return text
		.split('\n')
		.map((line) => (line ? prefix + line : prefix.trimEnd()))
		.join('\n');
}

function messageBlock(m: MessageExport): string {
	const head = [`**${m.authorName}**`, shortTime(m.time), m.edited ? '_(edited)_' : ''].filter(Boolean).join(' · ');
	const parts = [head, m.deleted ? '_(message deleted)_' : m.hidden === true ? '_(hidden)_' : m.text];
	if (m.reactions.length > 0) parts.push(`_Reactions: ${m.reactions.map((r) => `${r.emoji} ${r.names.join(', ')}`).join(' · ')}_`);
	return parts.join('\n\n');
}

/** A channel as a readable Markdown transcript; thread replies are quoted under their message. */
export function channelMarkdown(data: ChannelExport): string {
	const out = [`# #${data.channel.name}`];
	if (data.channel.topic) out.push(indent(data.channel.topic, '> '));
	if (data.messages.length === 0) out.push('_No messages._');
	for (const m of data.messages) {
		out.push(messageBlock(m));
		const replies = m.replies ?? [];
		if (replies.length > 0) {
			const thread = [`**Thread: ${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}**`, ...replies.map(messageBlock)];
			out.push(indent(thread.join('\n\n'), '> '));
		}
	}
	return out.join('\n\n') + '\n';
}

/** An AI chat as plain data. */
export function aiChatData(thread: AiThreadDoc, info: AiThreadInfo, nameOf: NameOf): AiChatExport {
	return {
		chat: { ...info },
		systemPrompt: thread.systemPrompt,
		messages: thread.list().map((m) => ({
			id: m.id,
			role: m.role,
			author: m.author,
			authorName: m.author ? nameOf(m.author) : '',
			time: isoTime(m.hlc),
			...(m.model ? { model: m.model } : {}),
			status: m.status,
			text: m.text,
			...(m.stats ? { stats: m.stats } : {}),
			...(m.error ? { error: m.error } : {})
		}))
	};
}

/** An AI chat as readable Markdown. */
export function aiChatMarkdown(data: AiChatExport): string {
	const out = [`# ${data.chat.title}`];
	if (data.systemPrompt) out.push(`_System prompt:_\n\n${indent(data.systemPrompt, '> ')}`);
	if (data.messages.length === 0) out.push('_No messages._');
	for (const m of data.messages) {
		const who = m.role === 'assistant' ? `Assistant${m.model ? ` (${m.model})` : ''}` : m.role === 'system' ? 'System' : m.authorName || 'User';
		const status = m.status !== 'done' ? `_(${m.status})_` : '';
		out.push([[`**${who}**`, shortTime(m.time), status].filter(Boolean).join(' · '), m.text || '_(empty)_'].join('\n\n'));
	}
	return out.join('\n\n') + '\n';
}
