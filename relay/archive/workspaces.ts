/**
 * The workspaces this relay archives (id, secret, name), kept in `<data>/workspaces.json`.
 * The file holds secrets, so it is written with mode 0600, and atomically: a temp file is
 * written and fsynced, then renamed over the old one, so a crash leaves one or the other.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isId } from '../../src/lib/doc/ids.ts';
import type { Invite } from '../../src/lib/mesh/invite.ts';
import { decodeSecret, encodeSecret } from '../../src/lib/mesh/secret.ts';
import { syncDir } from './updateLog.ts';

/** A workspace the relay archives. */
export interface ArchivedWorkspace {
	id: string;
	secret: Uint8Array;
	name: string;
	/** Relays the invite named (dialled to catch up). */
	relays: string[];
}

/** `<data>/workspaces.json` exists but cannot be read as a list of workspaces. */
export class WorkspaceListError extends Error {
	override name = 'WorkspaceListError';
}

/** The path of the list under `dataDir`. */
export function workspacesPath(dataDir: string): string {
	return join(dataDir, 'workspaces.json');
}

interface StoredWorkspace {
	id: string;
	secret: string;
	name: string;
	relays: string[];
}

/**
 * The archived workspaces; none when the file does not exist.
 * @throws {WorkspaceListError} when the file is not a valid list.
 */
export async function readWorkspaces(dataDir: string): Promise<ArchivedWorkspace[]> {
	const path = workspacesPath(dataDir);
	let text: string;
	try {
		text = await readFile(path, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
		throw error;
	}
	try {
		const parsed = JSON.parse(text) as { workspaces?: unknown };
		if (!Array.isArray(parsed.workspaces)) throw new Error('no "workspaces" array');
		return parsed.workspaces.map((entry: StoredWorkspace) => {
			const secret = decodeSecret(String(entry.secret));
			if (!isId(entry.id)) throw new Error(`bad entry ${JSON.stringify(entry.id)}`);
			return {
				id: entry.id,
				secret,
				name: typeof entry.name === 'string' ? entry.name : '',
				relays: Array.isArray(entry.relays) ? entry.relays.filter((r) => typeof r === 'string') : []
			};
		});
	} catch (error) {
		throw new WorkspaceListError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
	}
}

/** Writes `text` to `path` atomically (temp file, fsync, rename, fsync of the directory) with mode 0600. */
export async function writeFileAtomic(path: string, text: string, dir: string): Promise<void> {
	const temp = `${path}.tmp`;
	const file = await open(temp, 'w', 0o600);
	try {
		await file.chmod(0o600); // the mode of open() applies only to a new file
		await file.writeFile(text);
		await file.sync();
	} finally {
		await file.close();
	}
	await rename(temp, path);
	await syncDir(dir);
}

/** Replaces the list with `workspaces` (creating `dataDir` when missing). */
export async function writeWorkspaces(dataDir: string, workspaces: readonly ArchivedWorkspace[]): Promise<void> {
	await mkdir(dataDir, { recursive: true });
	const stored: StoredWorkspace[] = workspaces.map((w) => ({ id: w.id, secret: encodeSecret(w.secret), name: w.name, relays: w.relays }));
	await writeFileAtomic(workspacesPath(dataDir), `${JSON.stringify({ version: 1, workspaces: stored }, null, '\t')}\n`, dataDir);
}

/**
 * Adds the workspace of `invite` to the list (or refreshes its name, secret and relays when
 * it is there already). Returns the entry and whether it is new.
 */
export async function addArchivedWorkspace(
	dataDir: string,
	invite: Invite
): Promise<{ workspace: ArchivedWorkspace; added: boolean }> {
	const workspaces = await readWorkspaces(dataDir);
	const workspace: ArchivedWorkspace = { id: invite.workspaceId, secret: invite.secret, name: invite.name, relays: invite.relays };
	const at = workspaces.findIndex((w) => w.id === workspace.id);
	if (at >= 0) workspaces[at] = workspace;
	else workspaces.push(workspace);
	await writeWorkspaces(dataDir, workspaces);
	return { workspace, added: at < 0 };
}
