/**
 * When a new message deserves a system notification: a pure decision from the message, who
 * the reader is, the kind of channel, whether the reader took part in the message's thread
 * and the channel's notification level on this device. The notifier (state/notify/) gathers
 * the inputs and shows what this module allows; nothing here touches the DOM.
 */
import { hlcWall } from './hlc.js';
import type { MessageRecord } from './schema.js';

/** How much of a channel notifies on this device. */
export const NotifyLevel = { all: 'all', mentions: 'mentions', nothing: 'nothing' } as const;
export type NotifyLevel = (typeof NotifyLevel)[keyof typeof NotifyLevel];

/** The kinds of channel, as notifications tell them apart. */
export const ChannelKind = { channel: 'channel', private: 'private', direct: 'direct' } as const;
export type ChannelKind = (typeof ChannelKind)[keyof typeof ChannelKind];

/** Why a message notifies. */
export const NotifyReason = { mention: 'mention', reply: 'reply', direct: 'direct', all: 'all' } as const;
export type NotifyReason = (typeof NotifyReason)[keyof typeof NotifyReason];

/** Why a message does not notify. */
export const QuietReason = { own: 'own', unseen: 'unseen', history: 'history', muted: 'muted' } as const;
export type QuietReason = (typeof QuietReason)[keyof typeof QuietReason];

/** The outcome of {@link decideNotify}. */
export type NotifyDecision = { notify: true; reason: NotifyReason } | { notify: false; why: QuietReason };

/** What {@link decideNotify} needs to know. */
export interface NotifyInput {
	message: Pick<MessageRecord, 'author' | 'hlc' | 'text' | 'parent'>;
	/** This device's member: its peer id and display name. */
	me: { peerId: string; name: string };
	kind: ChannelKind;
	/** The channel's level on this device; undefined means the default ({@link defaultLevel}). */
	level: NotifyLevel | undefined;
	/** For a thread reply: whether the reader wrote the thread's parent or a reply in it. */
	tookPart: boolean;
	/** False for a message nobody is shown (withheld by the posting rules, hidden, a bad signature). */
	shown: boolean;
	/**
	 * Wall-clock milliseconds from which messages count as new: when the notifier started
	 * (see {@link decideNotify}).
	 */
	since: number;
}

/** The level a channel has until the user picks one: every message of a direct conversation, only mentions elsewhere. */
export function defaultLevel(kind: ChannelKind): NotifyLevel {
	return kind === ChannelKind.direct ? NotifyLevel.all : NotifyLevel.mentions;
}

/** Whether `value` is a {@link NotifyLevel} (a stored one may be anything). */
export function isNotifyLevel(value: unknown): value is NotifyLevel {
	return value === NotifyLevel.all || value === NotifyLevel.mentions || value === NotifyLevel.nothing;
}

/** Scripts written without spaces between words: a name in them may be followed by anything. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]$/u;
const WORD = /[\p{L}\p{N}_]/u;

/**
 * Whether `text` mentions `name` as `@name`: without regard to case, where the `@` does not
 * follow a letter or digit (`ada@ada.org` is no mention), and the name ends the word: the next
 * character is not a letter, digit or `_`, so `@Adam` does not mention Ada. A name that ends in
 * Chinese, Japanese or Korean script is written without a space after it (`@小明你好`), so
 * there any character may follow; `@小明明` then mentions 小明 too, a notification too many
 * rather than one missed.
 */
export function mentionsName(text: string, name: string): boolean {
	const wanted = name.trim().toLocaleLowerCase();
	if (wanted === '') return false;
	const lower = text.toLocaleLowerCase();
	const unspaced = UNSPACED.test(wanted);
	for (let at = lower.indexOf('@'); at !== -1; at = lower.indexOf('@', at + 1)) {
		if (at > 0 && WORD.test(lower.charAt(at - 1))) continue;
		if (!lower.startsWith(wanted, at + 1)) continue;
		const next = String.fromCodePoint(lower.codePointAt(at + 1 + wanted.length) ?? 32);
		if (unspaced || !WORD.test(next)) return true;
	}
	return false;
}

/**
 * Whether a message that just arrived notifies, and why:
 *
 * - never the reader's own messages (another device of the same member), nor a message nobody
 *   is shown;
 * - never history: only a message whose clock is at or after {@link NotifyInput.since}, the
 *   moment the notifier started. Older messages that arrive on a sync (a first sync after
 *   joining, a peer back from weeks offline) were written before the user opened the app and
 *   would be a burst of stale alerts; they still count as unread. A hybrid logical clock never
 *   runs behind the clocks it has heard from, so a new message from a peer whose wall clock
 *   lags is late only by that lag;
 * - level `nothing`: nothing; level `mentions` (the default outside direct conversations): a
 *   mention of the reader's display name, or a reply in a thread the reader took part in;
 *   level `all` (the default in direct conversations): every message.
 *
 * The reason given is the most specific one: mention, then reply, then direct, then all.
 */
export function decideNotify(input: NotifyInput): NotifyDecision {
	const { message, me, kind } = input;
	if (message.author === me.peerId) return { notify: false, why: QuietReason.own };
	if (!input.shown) return { notify: false, why: QuietReason.unseen };
	if (hlcWall(message.hlc) < input.since) return { notify: false, why: QuietReason.history };
	const level = input.level ?? defaultLevel(kind);
	if (level === NotifyLevel.nothing) return { notify: false, why: QuietReason.muted };
	if (mentionsName(message.text, me.name)) return { notify: true, reason: NotifyReason.mention };
	if (message.parent !== undefined && input.tookPart) return { notify: true, reason: NotifyReason.reply };
	if (level === NotifyLevel.mentions) return { notify: false, why: QuietReason.muted };
	return { notify: true, reason: kind === ChannelKind.direct ? NotifyReason.direct : NotifyReason.all };
}
