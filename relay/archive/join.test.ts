/** The archive list in `<data>/workspaces.json` and the `join <invite>` command. */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { newId } from '../../src/lib/doc/ids.ts';
import { decodeOp } from '../../src/lib/doc/team/ops.ts';
import { newInviteSeed } from '../../src/lib/doc/team/sign.ts';
import { inviteLink } from '../../src/lib/mesh/invite.ts';
import { newSecret } from '../../src/lib/mesh/secret.ts';
import { loadOrCreatePeerKey } from '../peerKey.ts';
import { parseJoinArgs } from './join.ts';
import { addArchivedWorkspace, readWorkspaces, workspacesPath } from './workspaces.ts';

const START = fileURLToPath(new URL('../start.ts', import.meta.url));
const dirs: string[] = [];
async function tempDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'outpost-join-'));
	dirs.push(dir);
	return dir;
}
afterAll(async () => {
	for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function relay(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
	return promisify(execFile)(process.execPath, ['--import', 'tsx', START, ...args]).then(
		({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
		(error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr })
	);
}

const invite = () => ({ workspaceId: newId(), secret: newSecret(), name: 'Deck crew', relays: ['/ip4/10.0.0.2/tcp/8445/ws'] });
const invitation = () => ({ id: newId(), opId: 'ab'.repeat(32), seed: newInviteSeed() });

describe('archived workspaces', () => {
	it('is empty without a file, and keeps one entry per workspace with mode 0600', async () => {
		const dataDir = await tempDir();
		expect(await readWorkspaces(dataDir)).toEqual([]);
		const first = invite();
		expect((await addArchivedWorkspace(dataDir, first)).added).toBe(true);
		expect((await addArchivedWorkspace(dataDir, { ...first, name: 'Renamed' })).added).toBe(false);
		const second = invite();
		await addArchivedWorkspace(dataDir, second);
		expect(await readWorkspaces(dataDir)).toEqual([
			{ id: first.workspaceId, secret: first.secret, name: 'Renamed', relays: first.relays, ops: [] },
			{ id: second.workspaceId, secret: second.secret, name: second.name, relays: second.relays, ops: [] }
		]);
		expect((await stat(workspacesPath(dataDir))).mode & 0o777).toBe(0o600);
	});

	it('loses no entry when many adds run at once (they take turns holding the lock file)', async () => {
		const dataDir = await tempDir();
		const invites = [...Array(8)].map(() => invite());
		const results = await Promise.all(invites.map((i) => addArchivedWorkspace(dataDir, i)));
		expect(results.every((r) => r.added)).toBe(true);
		expect((await readWorkspaces(dataDir)).map((w) => w.id).sort()).toEqual(invites.map((i) => i.workspaceId).sort());
		await expect(stat(`${workspacesPath(dataDir)}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
	});

	it('breaks a lock left by a process that died, and keeps an entry there with keepExisting', async () => {
		const dataDir = await tempDir();
		const first = invite();
		await addArchivedWorkspace(dataDir, first);
		const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
		await writeFile(`${workspacesPath(dataDir)}.lock`, String(dead));
		const again = await addArchivedWorkspace(dataDir, { ...first, secret: newSecret(), name: 'Other' }, { keepExisting: true });
		expect(again).toEqual({ workspace: { id: first.workspaceId, secret: first.secret, name: first.name, relays: first.relays, ops: [] }, added: false });
		await expect(addArchivedWorkspace(dataDir, invite(), { maxWorkspaces: 1 })).rejects.toMatchObject({ name: 'WorkspaceLimitError' });
		expect(await readWorkspaces(dataDir)).toHaveLength(1);
	});

	it('lets one address list only its share of workspaces, counted from the list, and keeps who asked first', async () => {
		const dataDir = await tempDir();
		const stranger = '192.0.2.7';
		const share = { maxPerAddress: 2 };
		const first = invite();
		await addArchivedWorkspace(dataDir, { ...first, requestedBy: stranger }, share);
		await addArchivedWorkspace(dataDir, { ...invite(), requestedBy: stranger }, share);
		await expect(addArchivedWorkspace(dataDir, { ...invite(), requestedBy: stranger }, share)).rejects.toMatchObject({ name: 'AddressArchiveLimitError', limit: 2 });
		// Another address, and the command line (no address), still list workspaces.
		await addArchivedWorkspace(dataDir, { ...invite(), requestedBy: '2001:db8:0:1::/64' }, share);
		await addArchivedWorkspace(dataDir, invite(), share);
		// A refresh from elsewhere keeps the entry on the first asker's share, and is no new entry.
		const refreshed = await addArchivedWorkspace(dataDir, { ...first, name: 'Renamed', requestedBy: '198.51.100.1' }, share);
		expect(refreshed).toMatchObject({ added: false, workspace: { name: 'Renamed', requestedBy: stranger } });
		const list = await readWorkspaces(dataDir);
		expect(list).toHaveLength(4);
		expect(list.filter((w) => w.requestedBy === stranger)).toHaveLength(2);
		expect(list.filter((w) => w.requestedBy === undefined)).toHaveLength(1);
		await expect(addArchivedWorkspace(dataDir, { ...invite(), requestedBy: stranger }, share)).rejects.toMatchObject({ name: 'AddressArchiveLimitError' });
	});

	it('refuses a damaged list with a WorkspaceListError rather than overwriting it', async () => {
		const dataDir = await tempDir();
		await writeFile(workspacesPath(dataDir), '{"workspaces": [{"id": "nope"');
		await expect(readWorkspaces(dataDir)).rejects.toMatchObject({ name: 'WorkspaceListError' });
		await expect(addArchivedWorkspace(dataDir, invite())).rejects.toMatchObject({ name: 'WorkspaceListError' });
		expect(await readFile(workspacesPath(dataDir), 'utf8')).toBe('{"workspaces": [{"id": "nope"');
	});
});

describe('join <invite>', () => {
	it.each([[[]], [['a', 'b']], [['https://x/#invite?w=bad&s=x']], [['hello']], [['--bogus', 'x']]])('%j is a UsageError', (argv) => {
		expect(() => parseJoinArgs(argv)).toThrow(expect.objectContaining({ name: 'UsageError' }));
	});

	it('persists the workspace of a good invite with the relay\'s signed admission, and prints it', async () => {
		const dataDir = await tempDir();
		const good = { ...invite(), invitation: invitation() };
		const result = await relay('join', inviteLink('https://10.0.0.2:8443', good), '--data', dataDir);
		expect(result.code).toBe(0);
		expect(result.stdout).toContain(good.workspaceId);
		expect(result.stdout).toContain('Deck crew');
		const relayId = peerIdFromPrivateKey((await loadOrCreatePeerKey(dataDir)).key).toString();
		expect(result.stdout).toContain(relayId);
		const [listed] = await readWorkspaces(dataDir);
		expect(listed).toMatchObject({ id: good.workspaceId, secret: good.secret, name: good.name, relays: good.relays });
		expect(listed?.ops).toHaveLength(1);
		const admission = decodeOp(listed!.ops[0]!).payload;
		expect(admission).toMatchObject({ t: 'admit', ws: good.workspaceId, by: relayId, invite: good.invitation.id, prev: [good.invitation.opId] });
	}, 30_000);

	it('refuses an invite link made before signed teams (exit 2), and stores nothing', async () => {
		const dataDir = await tempDir();
		const result = await relay('join', inviteLink('https://10.0.0.2:8443', invite()), '--data', dataDir);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('made before signed teams');
		expect(await readWorkspaces(dataDir)).toEqual([]);
	}, 30_000);

	it('exits 2 with the reason for a broken invite and stores nothing', async () => {
		const dataDir = await tempDir();
		const broken = inviteLink('https://10.0.0.2:8443', { ...invite(), invitation: invitation() }).replace(/s=[^&]+/, 's=short');
		const result = await relay('join', broken, '--data', dataDir);
		expect(result.code).toBe(2);
		expect(result.stderr).toContain('not a valid invite link (bad-secret)');
		expect(result.stderr).toContain('Usage: npm run relay -- join');
		expect(await readWorkspaces(dataDir)).toEqual([]);
	}, 30_000);
});
