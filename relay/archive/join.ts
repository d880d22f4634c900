/**
 * `npm run relay -- join <invite link> [--data DIR]`: the relay joins the invite's workspace
 * as a device does. It signs its admission with the invitation (with its own libp2p key, from
 * `<data>/peer-key`; its role is the invitation's) and adds the workspace, with that
 * admission, to `<data>/workspaces.json`. A relay running on that data directory watches the
 * file and starts syncing the workspace at once (archivePeer.ts), presenting the admission to
 * the first member device that connects; one that is not running does so from its next start.
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { parseArgs } from 'node:util';
import { admitProof, signTeamOp } from '../../src/lib/doc/team/sign.ts';
import { parseInvite } from '../../src/lib/mesh/invite.ts';
import { DEFAULT_DATA_DIR } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { loadOrCreatePeerKey } from '../peerKey.ts';
import { addArchivedWorkspace, workspacesPath } from './workspaces.ts';
import type { Invite, InviteToken } from '../../src/lib/mesh/invite.ts';

/** Usage of the `join` command. */
export const JOIN_USAGE = `Usage: npm run relay -- join '<invite link>' [--data DIR]

  This relay joins the team of the workspace the invite link names, with the
  invitation's role, and archives it (quote the link: it contains & and #).
  Make the link in the app's Invite dialog with the role Relay: a relay joined
  with a person's role keeps no sealed copies of private channels.`;

/** What `join` was asked to do. */
export interface JoinArgs {
	invite: Invite & { invitation: InviteToken };
	dataDir: string;
}

/** The name the relay gives itself in the team. */
export const RELAY_MEMBER_NAME = 'Relay';

/**
 * Parses the arguments after `join`.
 * @throws {UsageError} when the invite is missing or broken, or on an unknown flag.
 */
export function parseJoinArgs(argv: readonly string[]): JoinArgs {
	let parsed;
	try {
		parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: { data: { type: 'string' } } });
	} catch (error) {
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}
	const { values, positionals } = parsed;
	if (positionals.length !== 1) throw new UsageError(`join needs exactly one invite link, got ${positionals.length}`);
	let invite: Invite;
	try {
		invite = parseInvite(positionals[0]!);
	} catch (error) {
		const reason = error instanceof Error && 'reason' in error ? String(error.reason) : String(error);
		throw new UsageError(`join: that is not a valid invite link (${reason}); copy the whole link from the app's Invite dialog`);
	}
	const { invitation } = invite;
	if (invitation === undefined) {
		throw new UsageError('join: that invite link was made before signed teams and admits nobody; make a new invite link in the app and use that');
	}
	const dataDir = values.data ?? DEFAULT_DATA_DIR;
	if (dataDir.trim() === '') throw new UsageError('--data needs a value');
	return { invite: { ...invite, invitation }, dataDir };
}

/** Runs `join`: signs the relay's admission, lists the workspace with it, and returns the line to print. */
export async function runJoin({ invite, dataDir }: JoinArgs): Promise<string> {
	const { key } = await loadOrCreatePeerKey(dataDir);
	const peerId = peerIdFromPrivateKey(key).toString();
	const { id, opId, seed } = invite.invitation;
	const admission = await signTeamOp(key, peerId, { ws: invite.workspaceId, prev: [opId], at: Date.now() }, {
		t: 'admit',
		invite: id,
		proof: admitProof(seed, invite.workspaceId, id, peerId),
		name: RELAY_MEMBER_NAME
	});
	const { workspace, added } = await addArchivedWorkspace(dataDir, { ...invite, ops: [admission.bytes] });
	const label = workspace.name ? `"${workspace.name}" (${workspace.id})` : workspace.id;
	return [
		`${added ? 'Archiving workspace' : 'Already archiving workspace (secret and relays updated)'} ${label} in ${workspacesPath(dataDir)}`,
		`as relay peer ${peerId}; a relay running on this data directory syncs it now, or else from its next start.`,
		'It joins the team (with the invitation\'s role: make it Relay in the Invite dialog) once a member\'s device connects to it while the invitation is still valid.'
	].join('\n');
}
