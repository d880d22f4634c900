/**
 * Where a model host may write an answer for the member who asked (llmHost.ts, a REQUEST with
 * a target; PROTOCOL.md "Answers written by the host"): only where that member's device could
 * write it itself, by the same rules every view folds. A host signs what it writes with its own
 * key (the relay's posts even show in read-only channels), so without these checks it would lend
 * its key to anyone's prompt, into any document it holds.
 *
 * - **The document** ({@link documentRefusal}): the asker's device must read it (a private
 *   space's only its members' devices: doc/team/spaces.ts, the rule sync applies) and post there:
 *   a channel the root lists (channelRights.ts `channelRules`) or a space's, not as a guest, not
 *   archived, and while it is read-only only as an admin or the owner (WorkspaceState.canPost);
 *   or an AI chat the root lists (AI chats are shared: every member reads them, and their write
 *   policy lets any member write).
 * - **The entry** ({@link entryRefusal}): an AI-chat answer must be one appended for the asker,
 *   after a question the asker wrote (as AiThreadDoc.list trusts who asked); a channel answer
 *   that already exists must be this host's model message asked by the asker (a retry), so
 *   nobody appends to, or signs a second edit of, someone else's answer; and not ended yet
 *   (a host signs one end per answer: doc/answerEnds.ts).
 * - **Not known yet** ({@link settledRefusal}): a document neither the root lists nor the team
 *   names (a chat created a moment ago) is asked about again as the root and roster change, for
 *   as long as the host waits for a target entry.
 */
import type * as Y from 'yjs';
import { AiRole, AiThreadDoc } from '../doc/AiThreadDoc.js';
import { ChannelDoc } from '../doc/ChannelDoc.js';
import { channelRules } from '../doc/channelRights.js';
import type { TeamRole } from '../doc/team/ops.js';
import { deviceMayRead } from '../doc/team/spaces.js';
import { teamRosterId } from '../doc/team/teamId.js';
import type { Team } from '../doc/team/teamTypes.js';
import { isMessageRecord } from '../doc/validate.js';
import { AiRecordKind } from '../doc/schema.js';
import { verifyAiRecordNow, verifyMessageNow } from '../doc/signature.js';
import type { WorkspaceDoc } from '../doc/WorkspaceDoc.js';
import type { SyncDocs } from '../mesh/syncDocs.js';
import type { AnswerTarget } from './engine.js';
import { endSignedBy } from '../doc/answerEnds.js';

/** The team's answers the rule needs (a TeamAuthority gives them). */
export interface TargetTeam {
	readonly team: Team;
	roleOf(peerId: string): TeamRole | undefined;
	/** The role a device's member has, or had when removed (who created a channel). */
	roleEver(peerId: string): TeamRole | undefined;
}

/** Why a target is refused. */
export interface TargetRefusal {
	/** Shown to the asker. */
	message: string;
	/**
	 * True when this replica does not know the document yet (neither the root lists it nor the
	 * team names it a space): the change that does may still be on its way.
	 */
	unknown: boolean;
}

const refused = (message: string): TargetRefusal => ({ message, unknown: false });

/**
 * Why `device` (the member device the asker speaks for; undefined: none) may not have an
 * answer written into `target`'s document, by the team and the workspace root `root` as this
 * replica holds them; undefined when it may. Pure.
 */
export function documentRefusal(root: WorkspaceDoc, team: TargetTeam, device: string | undefined, target: AnswerTarget): TargetRefusal | undefined {
	const role = device === undefined ? undefined : team.roleOf(device);
	if (device === undefined || role === undefined) return refused('This device is not a member of the workspace.');
	const { docId } = target;
	const space = team.team.spaces.get(docId);
	if (space === undefined && team.team.claimedSpaces.has(docId)) return refused('You are not in this conversation, so the model may not answer there for you.');
	if (target.kind === 'ai-thread') {
		if (space !== undefined) return refused('This is a conversation, not an AI chat.');
		if (root.aiThreads.has(docId)) return undefined;
		return { message: 'The model host does not know this AI chat yet: try again in a moment.', unknown: true };
	}
	const isAdmin = role === 'owner' || role === 'admin';
	let archived = false;
	let readOnly: boolean;
	if (space !== undefined) {
		if (!deviceMayRead(team.team, device, docId)) return refused('You are not in this conversation, so the model may not answer there for you.');
		readOnly = false; // a space takes no flags from the root (channelRights.ts FlagOptions)
	} else {
		const info = root.channel(docId, channelRules((p) => team.roleOf(p), (p) => team.roleEver(p), isAdmin));
		if (info === undefined) {
			if (root.channels.has(docId)) return refused('This channel is not one the team lists.');
			return { message: 'The model host does not know this channel yet: try again in a moment.', unknown: true };
		}
		({ archived, readOnly } = info);
	}
	if (role === 'guest') return refused('Guests do not post in channels, so the model may not answer there for you.');
	// A relay never posts (channelRights.ts `postShows` shows no answer a relay asked for); a
	// member's host answering one would post the relay's words under the member's name (found in review).
	if (role === 'relay') return refused('A relay does not post in channels, so the model may not answer there for it.');
	if (archived) return refused('This channel is archived: nothing more is posted there.');
	if (readOnly && !isAdmin) return refused('Only admins post in this channel, so the model may not answer there for you.');
	return undefined;
}

/**
 * `check`'s answer; one that is `unknown` is asked again after each change of workspace
 * `workspaceId`'s root or roster in `docs` (the change that lists the document, or makes it a
 * space, may be on its way), until it is not or `timeoutMs` passed.
 */
export async function settledRefusal(
	check: () => Promise<TargetRefusal | undefined>,
	docs: Pick<SyncDocs, 'onLocalUpdate'>,
	workspaceId: string,
	timeoutMs: number
): Promise<TargetRefusal | undefined> {
	let refusal = await check();
	if (refusal?.unknown !== true) return refusal;
	const watched = new Set([workspaceId, teamRosterId(workspaceId)]);
	const deadline = Date.now() + timeoutMs;
	let changed = false;
	let wake = () => {};
	const stop = docs.onLocalUpdate((docId) => {
		if (!watched.has(docId)) return;
		changed = true;
		wake();
	});
	try {
		while (refusal?.unknown === true && Date.now() < deadline) {
			if (!changed) {
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
					wake = () => {
						clearTimeout(timer);
						resolve();
					};
				});
				wake = () => {};
			}
			if (!changed) break; // timed out
			changed = false;
			refusal = await check();
		}
	} finally {
		stop();
	}
	return refusal;
}

/** The question an answer written for an asker answers: its id, and its author (the asker's device, or the asker itself). */
export interface AskedQuestion {
	id: string;
	author: string;
}

/**
 * The signed question of `doc` (the host's working copy of `target`'s document) that the answer
 * `target` names answers, asked by one of `askers`; undefined when there is none (yet). In an AI
 * chat, the question the asker's entry names; in a channel, the asker's message at the clock
 * `after` (in thread `parent`). The host names it in what it signs, and its author as who asked:
 * the answer shows as asked only when that question asks this model of this host
 * (channelRights.ts `provenAsker`, AiThreadDoc.list).
 */
export function askedQuestion(doc: Y.Doc, target: AnswerTarget, askers: ReadonlySet<string>): AskedQuestion | undefined {
	if (target.kind === 'ai-thread') {
		const thread = new AiThreadDoc(doc);
		const named = thread.entry(target.entryId)?.get('question');
		if (typeof named !== 'string') return undefined;
		const q = thread.readRecords().find((r) => r.kind === AiRecordKind.user && r.id === named && askers.has(r.author) && verifyAiRecordNow(r, thread.id));
		return q === undefined ? undefined : { id: q.id, author: q.author };
	}
	if (target.after === undefined) return undefined;
	const channel = new ChannelDoc(doc);
	for (const m of channel.messages.toArray()) {
		if (!isMessageRecord(m) || m.hlc !== target.after || m.parent !== target.parent || m.model !== undefined || !askers.has(m.author)) continue;
		if (verifyMessageNow(m, channel.id)) return { id: m.id, author: m.author };
	}
	return undefined;
}

const ENDED = "This answer is already written: ask again, and the model's answer goes into a new message.";

const NOT_YOURS = "This answer was not started by you: ask again, and the model's answer goes into a new message.";

/**
 * Why the entry `target` names in `doc` (the host's working copy of the target document) may
 * not be written for an asker known by `askers` (its peer id, and the device it speaks for);
 * undefined when it may. `signer`: the peer id the host signs channel messages with.
 */
export function entryRefusal(doc: Y.Doc, target: AnswerTarget, askers: ReadonlySet<string>, signer: string | undefined): string | undefined {
	if (target.kind === 'ai-thread') {
		const thread = new AiThreadDoc(doc);
		const entry = thread.entry(target.entryId);
		if (entry === undefined) return 'The chat message to answer is gone.';
		const askedBy = entry.get('askedBy');
		if (entry.get('role') !== AiRole.assistant || typeof askedBy !== 'string' || !askers.has(askedBy)) return NOT_YOURS;
		// Live entries are anyone's to change: who asked counts only with the question the answer follows.
		const list = thread.list();
		const at = list.findIndex((m) => m.id === target.entryId);
		const question = at < 0 ? undefined : list.slice(0, at).findLast((m) => m.role === AiRole.user);
		return question !== undefined && askers.has(question.author) ? undefined : NOT_YOURS;
	}
	const channel = new ChannelDoc(doc);
	const same = channel.messages.toArray().filter((m) => isMessageRecord(m) && m.id === target.entryId);
	if (same.length === 0) return channel.answers.has(target.entryId) ? NOT_YOURS : undefined;
	const retry = same.every((m) => signer !== undefined && m.author === signer && typeof m.model === 'string' && m.askedBy !== undefined && askers.has(m.askedBy));
	if (!retry) return NOT_YOURS;
	// Its end is signed once (doc/answerEnds.ts): a retry of a finished answer writes nothing.
	return endSignedBy(channel, target.entryId, signer!) ? ENDED : undefined;
}
