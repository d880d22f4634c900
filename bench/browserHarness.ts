/**
 * The page side of the mesh-inference bench's browser paths (bench/browserPaths.ts): a
 * browser mesh node in a workspace, wllama with a model from the page's origin, a model
 * host (llmHost over wllama) and mesh askers; every generation is timed in the page
 * (timing.ts), so the figures exclude the bench's remote control.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { GenerateRequest } from '../src/lib/ai/engine.ts';
import { llmHost, type LlmHost } from '../src/lib/ai/llmHost.ts';
import { MeshEngine } from '../src/lib/ai/meshEngine.ts';
import { WllamaEngine } from '../src/lib/ai/wllamaEngine.ts';
import { dialWithRetry } from '../src/lib/mesh/dial.ts';
import { meshService, type MeshService } from '../src/lib/mesh/MeshService.ts';
import { linkKind, type MeshNode } from '../src/lib/mesh/node.ts';
import { createMeshNode } from '../src/lib/mesh/node.browser.ts';
import { MemoryDocs } from '../tests/unit/mesh/memoryDocs.ts';
import { timedGeneration, type Run } from './timing.ts';

let node: MeshNode | undefined;
let mesh: MeshService | undefined;
let workspaceId = '';
let wllama: WllamaEngine | undefined;
let host: LlmHost | undefined;

/** Starts the node against the relay and joins the workspace; returns its id and its WebRTC address. */
export async function start(relay: string, workspace: { id: string; secret: number[] }): Promise<{ peerId: string; webrtc: string }> {
	node = await createMeshNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [relay] });
	mesh = meshService({ antiEntropyIntervalMs: 0 })({ node });
	await mesh.start();
	workspaceId = workspace.id;
	await mesh.addWorkspace({ id: workspace.id, secret: Uint8Array.from(workspace.secret), docs: new MemoryDocs() });
	const deadline = Date.now() + 15_000;
	let webrtc: string | undefined;
	while (webrtc === undefined && Date.now() < deadline) {
		webrtc = node.getMultiaddrs().map(String).find((a) => a.includes('/p2p-circuit/webrtc/p2p/'));
		if (webrtc === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
	}
	if (webrtc === undefined) throw new Error('no relay reservation within 15 s');
	return { peerId: node.peerId.toString(), webrtc };
}

/** Loads a model into wllama (CPU, one thread, no cache); returns its id. */
export async function loadModel(url: string): Promise<string> {
	wllama = new WllamaEngine({ gpu: false, threads: 1, cache: false, contextSize: 512 });
	return (await wllama.load(url)).id;
}

/** Serves the loaded model to the workspace's members. */
export async function serve(): Promise<void> {
	host = llmHost({ engines: [wllama!] })({ node: node!, keys: (id) => mesh!.workspaceKeys(id) });
	await host.start();
}

/** Dials a peer's WebRTC address directly; returns the kind of link it got. */
export async function dial(address: string): Promise<string> {
	const connection = await dialWithRetry(node!, multiaddr(address), { firstTimeoutMs: 3000 });
	return linkKind(connection.remoteAddr);
}

/** The kinds of link this node has to a peer (the mesh engine uses one of them). */
export function links(peerId: string): string[] {
	return node!.getConnections(peerIdFromString(peerId)).map((c) => `${linkKind(c.remoteAddr)}${c.limits ? ' (limited)' : ''}`);
}

/** One generation in this page's wllama. */
export function runDirect(request: GenerateRequest): Promise<Run> {
	return timedGeneration(wllama!, request);
}

/** One generation on a host in the mesh. */
export function runMesh(hostPeerId: string, request: GenerateRequest): Promise<Run> {
	const keys = mesh!.workspaceKeys(workspaceId);
	if (keys === undefined) throw new Error('not in the workspace');
	return timedGeneration(new MeshEngine({ node: node!, host: peerIdFromString(hostPeerId), keys }), request);
}

/** Stops everything. */
export async function stop(): Promise<void> {
	await host?.stop();
	await mesh?.stop();
	await node?.stop();
}
