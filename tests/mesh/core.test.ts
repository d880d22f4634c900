/**
 * The workspace core (OutpostCore) on a real libp2p node and MeshService: workspaces are
 * opened once however many users they have, go on the mesh when synced (before or after the
 * sync service is attached), move to a new secret's topic, leave the mesh when unsynced while
 * staying open, and close (documents and team) with their last release.
 */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { OutpostCore } from '../../src/lib/core/OutpostCore.js';
import { meshService, type MeshService } from '../../src/lib/mesh/MeshService.js';
import { newSecret } from '../../src/lib/mesh/secret.js';
import { MemoryDocs } from '../unit/mesh/memoryDocs.js';
import { startNode, stopAll } from './helpers.js';
import { createTeamWorkspace, newKey, stopTeamPeers } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopAll();
}, 15_000);

/** MemoryDocs that count how often they were opened and closed. */
class CountedDocs extends MemoryDocs {
	closed = 0;
	override close(): void {
		this.closed++;
	}
}

async function setup() {
	const { key, peerId } = await newKey();
	const { ws } = await createTeamWorkspace(key);
	const opened: CountedDocs[] = [];
	const core = new OutpostCore<CountedDocs>({
		device: { peerId, privateKey: key },
		openDocs: ({ id }) => {
			const docs = new CountedDocs(id);
			opened.push(docs);
			return Promise.resolve(docs);
		}
	});
	const node = await startNode({ privateKey: key });
	const mesh: MeshService = meshService({ antiEntropyIntervalMs: 0 })({ node });
	await mesh.start();
	return { ws, core, opened, mesh };
}

describe('OutpostCore', () => {
	it('opens a workspace once for every user and closes it with the last release', async () => {
		const { ws, core, opened, mesh } = await setup();
		const [a, b] = await Promise.all([core.open({ id: ws.id }), core.open({ id: ws.id })]);
		expect(a).toBe(b);
		expect(opened).toHaveLength(1);
		expect(a.rosterId).toBe(ws.rosterId);
		await core.attach(mesh);
		await core.sync(ws.id, ws.secret);
		expect(mesh.status(ws.id)).toBeDefined();
		expect(a.keyring).toBeDefined();

		await core.release(ws.id);
		expect(core.get(ws.id)).toBe(a);
		expect(mesh.status(ws.id)).toBeDefined();
		await core.release(ws.id);
		expect(core.get(ws.id)).toBeUndefined();
		expect(mesh.status(ws.id)).toBeUndefined();
		expect(opened[0]!.closed).toBe(1);
		await mesh.stop();
	});

	it('puts workspaces synced before the mesh on it when it is attached, and moves one to a new secret', async () => {
		const { ws, core, mesh } = await setup();
		const workspace = await core.open({ id: ws.id });
		await core.sync(ws.id, ws.secret);
		expect(workspace.keyring).toBeUndefined(); // no mesh yet
		await core.attach(mesh);
		expect(mesh.status(ws.id)).toBeDefined();
		const topic = mesh.workspaceKeys(ws.id)?.topic;

		const secret = newSecret();
		await core.sync(ws.id, secret);
		expect(workspace.secret).toBe(secret);
		expect(mesh.workspaceKeys(ws.id)?.topic).not.toBe(topic);

		await core.unsync(ws.id);
		expect(mesh.status(ws.id)).toBeUndefined();
		expect(core.get(ws.id)).toBe(workspace); // still open for its other uses
		await expect(core.attach(mesh)).rejects.toThrow('attached already');
		await core.stop();
		expect(core.get(ws.id)).toBeUndefined();
		await mesh.stop();
	});

	it('refuses to sync a workspace that is not open', async () => {
		const { core } = await setup();
		await expect(core.sync('nope', newSecret())).rejects.toThrow('not open');
	});
});
