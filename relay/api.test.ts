/**
 * The relay's HTTP API end to end, against a relay started in-process on 127.0.0.1: posting an
 * invite makes the running relay archive and sync that workspace (and still after a restart),
 * `join` from another process reaches the running relay, and bad requests change nothing.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/doc/ids.ts';
import { inviteLink, type Invite } from '../src/lib/mesh/invite.ts';
import { meshService } from '../src/lib/mesh/MeshService.ts';
import { createMeshNode } from '../src/lib/mesh/node.node.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import { docDigest } from '../src/lib/mesh/syncDocs.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { ARCHIVE_PATH, MAX_BODY_BYTES } from './api.ts';
import { ArchiveDocs, workspaceDir } from './archive/ArchiveDocs.ts';
import { readWorkspaces, workspacesPath } from './archive/workspaces.ts';
import { runRelay } from './run.ts';
import type { RunningRelay } from './run.ts';

const START = fileURLToPath(new URL('./start.ts', import.meta.url));
let tmp: string;
let dataDir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-api-'));
	dataDir = join(tmp, 'data');
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function startRelay(): Promise<RunningRelay> {
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir, host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log: () => {} });
	cleanups.push(() => relay.close());
	return relay;
}

const newInvite = (name = 'Deck crew'): Invite => ({ workspaceId: newId(), secret: newSecret(), name, relays: [] });
const link = (invite: Invite) => inviteLink('http://127.0.0.1:1', invite);

function post(relay: RunningRelay, body: string, type = 'application/json'): Promise<Response> {
	return fetch(`${relay.server.url}${ARCHIVE_PATH}`, { method: 'POST', headers: { 'content-type': type }, body });
}
const postInvite = (relay: RunningRelay, invite: Invite | string) =>
	post(relay, JSON.stringify({ invite: typeof invite === 'string' ? invite : link(invite) }));

/** A device: a mesh node with in-memory documents of the workspace, dialling the relay over WebSockets. */
async function device(relay: RunningRelay, invite: Invite): Promise<MemoryDocs> {
	const node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	const docs = new MemoryDocs();
	await mesh.start();
	await mesh.addWorkspace({ id: invite.workspaceId, secret: invite.secret, docs });
	cleanups.push(async () => {
		await mesh.stop();
		await node.stop();
	});
	await node.dial(multiaddr(relay.info().multiaddrs[0]!));
	return docs;
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/** The list file's bytes, or undefined when there is none. */
const listFile = () => readFile(workspacesPath(dataDir), 'utf8').catch(() => undefined);

describe('POST /api/archive', () => {
	it('archives the workspace at once, syncs it, and keeps it across a restart', async () => {
		const relay = await startRelay();
		const invite = newInvite();
		expect((await fetch(`${relay.server.url}${ARCHIVE_PATH}/${invite.workspaceId}`)).status).toBe(404);

		const res = await postInvite(relay, invite);
		expect(res.status).toBe(201);
		expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
		expect(res.headers.get('access-control-allow-origin')).toBeNull();
		expect(await res.json()).toEqual({ id: invite.workspaceId, name: 'Deck crew', archived: true, created: true });
		expect(await readWorkspaces(dataDir)).toEqual([{ id: invite.workspaceId, secret: invite.secret, name: 'Deck crew', relays: [] }]);
		const status = await fetch(`${relay.server.url}${ARCHIVE_PATH}/${invite.workspaceId}`);
		expect([status.status, await status.json()]).toEqual([200, { archived: true }]);

		// A device writes; the running relay (never restarted) archives it on disk.
		const docId = newId();
		const author = await device(relay, invite);
		author.get(docId).getText('t').insert(0, 'written after the invite was posted');
		const expected = await docDigest(author.get(docId));
		await waitFor(async () => (await relay.archive.archives.get(invite.workspaceId)?.digest(docId)) === expected, 'the archive');
		expect(await readdir(workspaceDir(dataDir, invite.workspaceId))).toContain(`${docId}.ylog`);

		for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); // the author leaves, the relay stops
		const onDisk = await ArchiveDocs.open(dataDir, invite.workspaceId);
		expect(await onDisk.digest(docId)).toBe(expected);
		await onDisk.close();

		const restarted = await startRelay();
		expect(restarted.archive.has(invite.workspaceId)).toBe(true);
		const late = await device(restarted, invite);
		await waitFor(() => late.docs.get(docId)?.getText('t').toString() === 'written after the invite was posted', 'the late device');
	}, 40_000);

	it('is idempotent, also when the same invite is posted many times at once', async () => {
		const relay = await startRelay();
		const [invite, other] = [newInvite(), newInvite('Engine room')];
		const answers = await Promise.all([...Array(5)].map(() => postInvite(relay, invite)).concat(postInvite(relay, other)));
		const statuses = answers.map((res) => res.status);
		expect(statuses.slice(0, 5).sort()).toEqual([200, 200, 200, 200, 201]);
		expect(statuses[5]).toBe(201);
		const bodies = (await Promise.all(answers.map((res) => res.json()))) as { created: boolean }[];
		expect(bodies.filter((body) => body.created)).toHaveLength(2);
		expect((await readWorkspaces(dataDir)).map((w) => w.id).sort()).toEqual([invite.workspaceId, other.workspaceId].sort());
		expect([...relay.archive.archives.keys()].sort()).toEqual([invite.workspaceId, other.workspaceId].sort());

		// Again later, as a bare fragment, under another name: nothing changes.
		const before = await listFile();
		const again = await postInvite(relay, link({ ...invite, name: 'Renamed' }).slice(link(invite).indexOf('#')));
		expect([again.status, await again.json()]).toEqual([200, { id: invite.workspaceId, name: 'Deck crew', archived: true, created: false }]);
		expect(await listFile()).toBe(before);
	});

	it('refuses an archived workspace with another secret (409) and changes nothing', async () => {
		const relay = await startRelay();
		const invite = newInvite();
		expect((await postInvite(relay, invite)).status).toBe(201);
		const before = await listFile();
		const res = await postInvite(relay, { ...invite, secret: newSecret() });
		expect(res.status).toBe(409);
		expect(((await res.json()) as { error: string }).error).toMatch(/different secret/);
		expect(await listFile()).toBe(before);
	});

	it('answers bad requests with a clear error and stores nothing', async () => {
		const relay = await startRelay();
		const good = link(newInvite());
		const cases: [string, Promise<Response>, number, RegExp][] = [
			['garbage JSON', post(relay, '{"invite": '), 400, /not valid JSON/],
			['no invite field', post(relay, '{"link": "x"}'), 400, /"invite"/],
			['not an invite', postInvite(relay, 'https://example.org/'), 400, /not an invite link/],
			['a truncated invite', postInvite(relay, good.slice(0, good.indexOf('&s=') + 10)), 400, /secret/],
			['a cut-off workspace id', postInvite(relay, good.replace(/w=([a-z2-7]{26})/, (_m, id: string) => `w=${id.slice(0, 20)}`)), 400, /workspace id/],
			['a secret of the wrong length', postInvite(relay, good.replace(/s=[^&]+/, `s=${'A'.repeat(40)}`)), 400, /secret/],
			['a body over 8 KiB', post(relay, JSON.stringify({ invite: good, pad: 'x'.repeat(MAX_BODY_BYTES) })), 413, /over 8192 bytes/],
			['a form post', post(relay, `invite=${encodeURIComponent(good)}`, 'application/x-www-form-urlencoded'), 415, /JSON/],
			['a text/plain post', post(relay, JSON.stringify({ invite: good }), 'text/plain'), 415, /JSON/]
		];
		for (const [what, answer, status, message] of cases) {
			const res = await answer;
			expect([what, res.status]).toEqual([what, status]);
			expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
			expect(((await res.json()) as { error: string }).error, what).toMatch(message);
		}
		const put = await fetch(`${relay.server.url}${ARCHIVE_PATH}`, { method: 'PUT', body: '{}' });
		expect([put.status, put.headers.get('allow')]).toEqual([405, 'POST']);
		const get = await fetch(`${relay.server.url}${ARCHIVE_PATH}`);
		expect(get.status).toBe(405);
		expect((await fetch(`${relay.server.url}${ARCHIVE_PATH}/not-an-id`)).status).toBe(400);
		expect((await fetch(`${relay.server.url}${ARCHIVE_PATH}/${newId()}`, { method: 'DELETE' })).status).toBe(405);
		expect((await fetch(`${relay.server.url}/api/nothing-here`)).status).toBe(404);

		expect(await listFile()).toBeUndefined();
		expect(relay.archive.archives.size).toBe(0);
		// The server still answers normally after all that.
		expect((await postInvite(relay, good)).status).toBe(201);
	});
});

describe('join while the relay runs', () => {
	it('makes the running relay archive the workspace without a restart', async () => {
		const relay = await startRelay();
		const invite = newInvite();
		const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', START, 'join', link(invite), '--data', dataDir]);
		expect(stdout).toContain(invite.workspaceId);
		await waitFor(() => relay.archive.has(invite.workspaceId), 'the running relay to pick up the joined workspace');
		const status = await fetch(`${relay.server.url}${ARCHIVE_PATH}/${invite.workspaceId}`);
		expect(status.status).toBe(200);

		// And it syncs: a device's edit reaches the archive.
		const docId = newId();
		const author = await device(relay, invite);
		author.get(docId).getMap('m').set('k', 'v');
		const expected = await docDigest(author.get(docId));
		await waitFor(async () => (await relay.archive.archives.get(invite.workspaceId)?.digest(docId)) === expected, 'the archive');
	}, 30_000);
});
