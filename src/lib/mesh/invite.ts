/**
 * Invite links. An invite carries what a new device needs to join a workspace: its id, its
 * secret (which proves membership to other peers), its name, and the relay addresses to
 * try first. Everything sits in the URL fragment, which browsers never send to a server:
 *
 *     https://relay.lan:8443/#invite?w=<workspace id>&s=<secret>&n=<name>&r=<multiaddr>…&i=<invitation id>&o=<operation id>&k=<seed>&c=<channel id>
 *
 * Since signed teams, knowing the secret admits nobody (it names the gossip topic): the
 * invitation does. `i` is the invitation's id in the team, `o` the id (hex SHA-256) of the
 * `invite` operation that created it, which the new device's admission names as its parent,
 * and `k` the invitation's 32-byte Ed25519 seed (base64url), whose signature over the new
 * device's peer id is the proof of the admission. An invite without them (made before
 * signed teams) still parses, with `invitation` undefined; joining then says it is too old.
 *
 * `c`, optional, is the channel the invite was made from: the new member lands there (a
 * malformed one is dropped, since it only picks where to land).
 *
 * Parsing is defensive: links arrive pasted, scanned or mangled by chat apps.
 */
import { isId } from '../doc/ids.js';
import { decodeSecret, encodeSecret, fromBase64Url, toBase64Url } from './secret.js';

/** Fragment prefix that marks an invite. */
export const INVITE_PREFIX = '#invite?';
/** Most relay addresses an invite may carry. */
export const MAX_RELAYS = 8;
const MAX_ADDR_LENGTH = 300;
const MAX_NAME_LENGTH = 80;
const MAX_INVITE_LENGTH = 4000;

/** What an invite says. */
export interface Invite {
	workspaceId: string;
	secret: Uint8Array;
	name: string;
	/** Multiaddrs of relays to dial first. */
	relays: string[];
	/** The invitation in the team (absent in links made before signed teams). */
	invitation?: InviteToken;
	/** The channel the invite was made from, to open once joined. */
	channel?: string;
}

/** What admits a new device: the invitation's id, its operation's id and its seed. */
export interface InviteToken {
	id: string;
	opId: string;
	seed: Uint8Array;
}

/** Why an invite could not be read; `reason` selects the message shown to the user. */
export const InviteProblem = {
	notAnInvite: 'not-an-invite',
	tooLong: 'too-long',
	badWorkspace: 'bad-workspace',
	badSecret: 'bad-secret',
	badRelay: 'bad-relay',
	badInvitation: 'bad-invitation',
	/** A link made before signed teams: it carries no invitation. */
	tooOld: 'too-old'
} as const;
export type InviteProblem = (typeof InviteProblem)[keyof typeof InviteProblem];

/** Thrown by {@link parseInvite}. */
export class InviteFormatError extends Error {
	override name = 'InviteFormatError';
	constructor(readonly reason: InviteProblem) {
		super(`invalid invite: ${reason}`);
	}
}

/** The invite link for `invite`, on the app served at `origin` (e.g. "https://10.0.0.2:8443"). */
export function inviteLink(origin: string, invite: Invite): string {
	const params = new URLSearchParams();
	params.set('w', invite.workspaceId);
	params.set('s', encodeSecret(invite.secret));
	if (invite.name) params.set('n', invite.name.slice(0, MAX_NAME_LENGTH));
	for (const r of invite.relays.slice(0, MAX_RELAYS)) params.append('r', r);
	if (invite.invitation) {
		params.set('i', invite.invitation.id);
		params.set('o', invite.invitation.opId);
		params.set('k', toBase64Url(invite.invitation.seed));
	}
	if (invite.channel !== undefined && isId(invite.channel)) params.set('c', invite.channel);
	return `${origin.replace(/\/+$/, '')}/${INVITE_PREFIX}${params.toString()}`;
}

/**
 * Reads an invite from a full link, a bare fragment (`#invite?…`) or the part after it.
 * @throws {InviteFormatError} saying what is wrong.
 */
export function parseInvite(text: string): Invite {
	const trimmed = text.trim();
	if (trimmed.length > MAX_INVITE_LENGTH) throw new InviteFormatError(InviteProblem.tooLong);
	const at = trimmed.indexOf(INVITE_PREFIX);
	const query = at >= 0 ? trimmed.slice(at + INVITE_PREFIX.length) : trimmed.startsWith('w=') ? trimmed : undefined;
	if (query === undefined) throw new InviteFormatError(InviteProblem.notAnInvite);
	const params = new URLSearchParams(query.split(/\s/, 1)[0]);
	const workspaceId = params.get('w') ?? '';
	if (!isId(workspaceId)) throw new InviteFormatError(InviteProblem.badWorkspace);
	let secret: Uint8Array;
	try {
		secret = decodeSecret(params.get('s') ?? '');
	} catch {
		throw new InviteFormatError(InviteProblem.badSecret);
	}
	const relays = params.getAll('r');
	if (relays.length > MAX_RELAYS || relays.some((r) => !r.startsWith('/') || r.length > MAX_ADDR_LENGTH || /\s/.test(r))) {
		throw new InviteFormatError(InviteProblem.badRelay);
	}
	const name = (params.get('n') ?? '').trim().slice(0, MAX_NAME_LENGTH);
	const invite: Invite = { workspaceId, secret, name, relays };
	const [id, opId, seed] = [params.get('i'), params.get('o'), params.get('k')];
	if (id !== null || opId !== null || seed !== null) invite.invitation = parseToken(id, opId, seed);
	const channel = params.get('c');
	if (isId(channel)) invite.channel = channel;
	return invite;
}

function parseToken(id: string | null, opId: string | null, seedText: string | null): InviteToken {
	if (!isId(id) || opId === null || !/^[0-9a-f]{64}$/.test(opId) || seedText === null) {
		throw new InviteFormatError(InviteProblem.badInvitation);
	}
	let seed: Uint8Array;
	try {
		seed = fromBase64Url(seedText);
	} catch {
		throw new InviteFormatError(InviteProblem.badInvitation);
	}
	if (seed.length !== 32 || toBase64Url(seed) !== seedText) throw new InviteFormatError(InviteProblem.badInvitation);
	return { id, opId, seed };
}
