/**
 * The relay as an archive peer, in-process on 127.0.0.1: a device's edit reaches the joined
 * relay's disk, and after the device has left and the relay restarted, another device gets it.
 */
import '../../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { newId } from '../../src/lib/doc/ids.ts';
import { newSecret } from '../../src/lib/mesh/secret.ts';
import { meshService } from '../../src/lib/mesh/MeshService.ts';
import { createMeshNode } from '../../src/lib/mesh/node.node.ts';
import { docDigest } from '../../src/lib/mesh/syncDocs.ts';
import { MemoryDocs } from '../../tests/unit/mesh/memoryDocs.ts';
import { runRelay } from '../run.ts';
import type { RunningRelay } from '../run.ts';
import { ArchiveDocs } from './ArchiveDocs.ts';
import { addArchivedWorkspace } from './workspaces.ts';

let tmp: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-archive-peer-'));
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function startRelay(p2pPort = 0): Promise<RunningRelay> {
	const relay = await runRelay({
		root: join(tmp, 'build'),
		dataDir: join(tmp, 'data'),
		host: '127.0.0.1',
		port: 0,
		p2pPort,
		mdns: false,
		lanIps: [],
		log: () => {}
	});
	cleanups.push(() => relay.close());
	return relay;
}

/** A device: a mesh node with its own in-memory documents of the workspace, dialling the relay. */
async function device(relay: RunningRelay, id: string, secret: Uint8Array): Promise<MemoryDocs> {
	const node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), listen: [] });
	const mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	const docs = new MemoryDocs();
	await mesh.start();
	await mesh.addWorkspace({ id, secret, docs });
	cleanups.push(async () => {
		await mesh.stop();
		await node.stop();
	});
	await node.dial(relay.node.getMultiaddrs().find((ma) => !ma.toString().includes('/ws'))!);
	return docs;
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
	const until = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

it('archives a device edit on disk and serves it to a device that comes later', async () => {
	const [workspaceId, secret, docId] = [newId(), newSecret(), newId()];
	await addArchivedWorkspace(join(tmp, 'data'), { workspaceId, secret, name: 'Deck', relays: [] });
	const relay = await startRelay();
	expect([...relay.archive.archives.keys()]).toEqual([workspaceId]);

	const author = await device(relay, workspaceId, secret);
	author.get(docId).getText('t').insert(0, 'left before you came');
	const expected = await docDigest(author.get(docId));
	const archived = relay.archive.archives.get(workspaceId)!;
	await waitFor(async () => (await archived.digest(docId)) === expected, 'the relay to archive the edit');

	for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); // the author leaves, the relay stops
	const onDisk = await ArchiveDocs.open(join(tmp, 'data'), workspaceId);
	expect(await onDisk.digest(docId)).toBe(expected);
	await onDisk.close();

	const restarted = await startRelay();
	const late = await device(restarted, workspaceId, secret);
	await waitFor(() => late.docs.get(docId)?.getText('t').toString() === 'left before you came', 'the late device to catch up');
}, 40_000);
