/**
 * Notifications of the open workspace: watches every channel document change that came from
 * elsewhere (the document store's update events, as sync applies them), picks out the messages
 * it added, asks the rules (doc/notifyRules.ts) whether each notifies, and shows those as
 * system notifications while the app is hidden. It also keeps this device's per-channel
 * levels (Dexie `notifyLevels`), counts arrivals in channels not on screen as unread, and
 * mirrors the workspace's unread total on the app's icon.
 */
import { get } from 'svelte/store';
import { _ } from '../../i18n/index.js';
import { ChannelDoc, deletionIndex } from '../../doc/ChannelDoc.js';
import { addedMessages } from '../../doc/addedMessages.js';
import { deletedBySigned, hiddenAmong, moderationOf, postShows, questionsIn, signedPosts, type PostingRules } from '../../doc/channelRights.js';
import { ChannelKind, decideNotify, defaultLevel, isNotifyLevel, type NotifyLevel } from '../../doc/notifyRules.js';
import type { ChannelInfo, MessageRecord } from '../../doc/schema.js';
import { verifyMessage } from '../../doc/signature.js';
import { isMessageRecord } from '../../doc/validate.js';
import type { Services } from '../../app.js';
import { LOCAL_ORIGIN } from '../ChannelState.svelte.js';
import type { WorkspaceState } from '../WorkspaceState.svelte.js';
import { showBadge } from './badge.js';
import { browserNotifications, type NotificationSink } from './systemNotifications.js';
import { oneLineLabel, stripInvisible } from '../../markdown/invisible.js';

/** Longest notification body, in characters. */
export const MAX_BODY = 140;

/** Longest channel name in a notification's title, and author name in its body, in characters. */
export const MAX_LABEL = 60;

/** See the module comment. */
export class WorkspaceNotifier {
	/** Levels the user picked on this device, by channel id (others have their default). */
	levels = $state.raw<Record<string, NotifyLevel>>({});
	/** Messages count as new from here on (decideNotify's `since`). */
	private readonly since = Date.now();
	private stopWatching: (() => void) | undefined;
	private stopBadge: (() => void) | undefined;
	private closed = false;

	constructor(
		private readonly services: Services,
		private readonly ws: WorkspaceState,
		private readonly sink: NotificationSink = browserNotifications
	) {}

	/** Loads the levels and starts watching changes and unread counts. */
	async start(): Promise<void> {
		const rows = await this.services.db.notifyLevels.where('workspaceId').equals(this.ws.id).toArray();
		if (this.closed) return;
		this.levels = Object.fromEntries(rows.flatMap((r) => (isNotifyLevel(r.level) ? [[r.channelId, r.level]] : [])));
		this.stopWatching = this.services.docs.onUpdate((id, update, origin) => this.onUpdate(id, update, origin));
		this.stopBadge = $effect.root(() => {
			$effect(() => showBadge(Object.values(this.ws.unread).reduce((sum, n) => sum + n, 0)));
		});
	}

	/** The kind of channel `id` (a direct conversation, a private channel or an open one). */
	kindOf(id: string, info: ChannelInfo | undefined = this.ws.channelEntry(id)): ChannelKind {
		if (this.ws.spaces.isDirect(id)) return ChannelKind.direct;
		return info?.private === true ? ChannelKind.private : ChannelKind.channel;
	}

	/** Channel `id`'s level on this device: the one picked, or the default for its kind. */
	levelOf(id: string): NotifyLevel {
		return this.levels[id] ?? defaultLevel(this.kindOf(id));
	}

	/** Sets channel `id`'s level on this device. */
	async setLevel(id: string, level: NotifyLevel): Promise<void> {
		this.levels = { ...this.levels, [id]: level };
		await this.services.db.notifyLevels.put({ workspaceId: this.ws.id, channelId: id, level });
	}

	/** Stops watching; the badge keeps its last count until another workspace sets it. */
	stop(): void {
		this.closed = true;
		this.stopWatching?.();
		this.stopBadge?.();
	}

	private onUpdate(id: string, update: Uint8Array, origin: unknown): void {
		if (this.closed || origin === LOCAL_ORIGIN || id === this.ws.id) return;
		const { docs } = this.services;
		const info = this.ws.channelEntry(id);
		if (info === undefined || !docs.isOpen(id)) return;
		// Shares the loaded document for a moment; it is released before anything waits.
		const handle = docs.open(id);
		try {
			const added = addedMessages(handle.doc, update);
			if (added.length === 0) return;
			const channel = new ChannelDoc(handle.doc);
			// A model's answer shows as its proven asker's (channelRights.ts `provenAsker`): the
			// questions are read from the document, once, if an answer is judged.
			const posting = this.ws.postingRules(id);
			const rules = { ...posting, questions: questionsIn(channel, posting.roleOf) };
			this.countUnread(id, added, rules);
			const deletions = deletionIndex(channel);
			for (const m of added) {
				const pending = this.decide(id, info, m, channel, deletions, rules);
				if (pending) void pending.catch((error: unknown) => console.warn('notifications: could not notify', error));
			}
		} finally {
			docs.release(handle);
		}
	}

	/** Arrivals in a channel not on screen count as unread at once (refreshUnread recounts later). */
	private countUnread(id: string, added: MessageRecord[], rules: PostingRules): void {
		if (this.ws.channel?.id === id) return;
		const me = this.services.identity.peerId;
		const candidates = added.filter((m) => m.parent === undefined && m.author !== me && postShows(m, rules));
		if (candidates.length === 0) return;
		void signedPosts(candidates, id).then((signed) => {
			if (signed.length > 0 && !this.closed) this.ws.countArrivals(id, signed.length);
		});
	}

	/** Decides at once from what the document says; a message that notifies is shown once its signature checks out. */
	private decide(id: string, info: ChannelInfo, m: MessageRecord, channel: ChannelDoc, deletions: ReturnType<typeof deletionIndex>, rules: PostingRules): Promise<void> | undefined {
		if (!this.sink.wanted()) return undefined;
		const { identity } = this.services;
		const kind = this.kindOf(id, info);
		const decision = decideNotify({
			message: m,
			me: { peerId: identity.peerId, name: identity.displayName.trim() || this.ws.displayName(identity.peerId) },
			kind,
			level: this.levels[id],
			tookPart: m.parent !== undefined && tookPart(channel, m.parent, identity.peerId),
			shown: this.ws.isMember(m.author) && postShows(m, rules),
			since: this.since
		});
		if (!decision.notify) return undefined;
		const title = notificationTitle(kind, info.name);
		const body = truncate(notificationBody(this.ws.displayName(m.author), m, get(_)), MAX_BODY);
		// Read now: the document may be released before the checks end. A message an admin hid
		// (it came with its hide: a device back online) notifies nobody (found in review).
		// Nor one its author deleted: by a mark whose signature checks out (found in review: a
		// forged one in the author's name silenced the notification).
		const marks = moderationOf(channel, m.id);
		const roleOf = rules.roleOf;
		const ownMarks = deletions.get(m.id)?.get(m.author);
		return Promise.all([verifyMessage(m, id), hiddenAmong(marks, roleOf)]).then(([genuine, hidden]) => {
			if (!genuine || hidden || deletedBySigned(ownMarks) || this.closed) return;
			return this.sink.show({
				title,
				body,
				tag: id,
				target: { workspaceId: this.ws.id, channelId: id, messageId: m.id, ...(m.parent === undefined ? {} : { parent: m.parent }) }
			});
		});
	}
}

/** Translates a message key with values (svelte-i18n's formatter). */
type Translate = (key: string, options?: { values?: Record<string, string | number> }) => string;

/**
 * A notification's title: the channel's name after its kind's mark, on one line, without bidi
 * controls or invisible characters, and cut to {@link MAX_LABEL} characters (the name is any
 * member's to choose: found in review, an RLO in it reversed the rest of the title, and a
 * name of thousands of characters or several lines filled the notification).
 */
export function notificationTitle(kind: ChannelKind, name: string): string {
	const label = oneLineLabel(name, MAX_LABEL);
	return kind === ChannelKind.direct ? label : kind === ChannelKind.private ? `🔒 ${label}` : `# ${label}`;
}

/**
 * A notification's body in the chosen language: "Ada: the text", or "Ada sent a file" for files
 * alone. The name and text lose bidi controls and invisible characters, and the name is one
 * line of at most {@link MAX_LABEL} characters, so neither can turn the line around or pass
 * for the other (found in review).
 */
export function notificationBody(author: string, m: Pick<MessageRecord, 'text' | 'files'>, t: Translate): string {
	const name = oneLineLabel(author, MAX_LABEL);
	const text = stripInvisible(m.text).replace(/\s+/g, ' ').trim();
	if (!text && m.files && m.files.length > 0) return t('notify.bodyFiles', { values: { name, count: m.files.length } });
	return t('notify.body', { values: { name, text } });
}

/** Whether `me` wrote thread `parent`'s first message or a reply in it. */
function tookPart(channel: ChannelDoc, parent: string, me: string): boolean {
	for (const m of channel.messages) {
		if (isMessageRecord(m) && m.author === me && (m.id === parent || m.parent === parent)) return true;
	}
	return false;
}

function truncate(text: string, max: number): string {
	const chars = [...text];
	return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
