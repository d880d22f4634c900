/**
 * `npm run relay -- join <invite link> [--data DIR]`: makes the relay an archive peer of the
 * invite's workspace by adding it to `<data>/workspaces.json`. A relay running on that data
 * directory watches the file and starts syncing the workspace at once (archivePeer.ts); one
 * that is not running syncs it from its next start.
 */
import { parseArgs } from 'node:util';
import { parseInvite } from '../../src/lib/mesh/invite.ts';
import { DEFAULT_DATA_DIR } from '../cli.ts';
import { UsageError } from '../errors.ts';
import { addArchivedWorkspace, workspacesPath } from './workspaces.ts';
import type { Invite } from '../../src/lib/mesh/invite.ts';

/** Usage of the `join` command. */
export const JOIN_USAGE = `Usage: npm run relay -- join '<invite link>' [--data DIR]

  Makes this relay an archive peer of the workspace the invite link names
  (quote the link: it contains & and #).`;

/** What `join` was asked to do. */
export interface JoinArgs {
	invite: Invite;
	dataDir: string;
}

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
	const dataDir = values.data ?? DEFAULT_DATA_DIR;
	if (dataDir.trim() === '') throw new UsageError('--data needs a value');
	return { invite, dataDir };
}

/** Runs `join`: adds the workspace and returns the line to print. */
export async function runJoin({ invite, dataDir }: JoinArgs): Promise<string> {
	const { workspace, added } = await addArchivedWorkspace(dataDir, invite);
	const label = workspace.name ? `"${workspace.name}" (${workspace.id})` : workspace.id;
	return `${added ? 'Archiving workspace' : 'Already archiving workspace (secret and relays updated)'} ${label} in ${workspacesPath(dataDir)}; a relay running on this data directory syncs it now, or else from its next start.`;
}
