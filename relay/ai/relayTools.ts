/**
 * The relay's MCP servers' tools on the mesh: a {@link ToolHost} (`/outpost/tools/1.0.0`) on
 * the relay's node for the members of the workspaces it archives, each call checked against
 * the team's `tool-access` rule for the asker's role as this relay folds the team
 * (hostAccess.ts `teamToolAccess`), as `/api/tools` checks it over HTTP. The relay's model
 * adverts say how many tools it shares (relayModels.ts), so members' apps know to ask.
 */
import { teamToolAccess } from '../../src/lib/ai/hostAccess.ts';
import { ToolHost, type ToolCallSlots } from '../../src/lib/ai/toolHost.ts';
import type { McpHub } from '../mcp/McpHub.ts';
import type { ArchivePeer } from '../archive/archivePeer.ts';
import type { NodeMeshNode } from '../../src/lib/mesh/node.node.ts';

/** Options of {@link startRelayTools}. */
export interface RelayToolsInit {
	node: NodeMeshNode;
	archive: Pick<ArchivePeer, 'authority' | 'mesh'>;
	/** The team of each workspace whose members may use the tools (run.ts `serveWorkspaces`); default: the archive's. */
	teams?: (workspaceId: string) => ReturnType<ArchivePeer['authority']>;
	hub: Pick<McpHub, 'tools' | 'call'>;
	/** Where members' running calls are counted: the same as `/api/tools`' (toolsApi.ts), so both ways count together. */
	slots?: ToolCallSlots;
	log: (line: string) => void;
}

/** Starts serving the hub's tools on the mesh; resolves with the host (stop it on close). */
export async function startRelayTools(init: RelayToolsInit): Promise<ToolHost> {
	const { node, archive, hub, log } = init;
	const host = new ToolHost(
		{ node, keys: (id) => archive.mesh.workspaceKeys(id), unproven: archive.mesh.unproven },
		{
			...teamToolAccess(init.teams ?? ((workspaceId) => archive.authority(workspaceId))),
			tools: () => hub.tools(),
			call: (tool, args, signal) => hub.call(tool, args, signal),
			...(init.slots !== undefined ? { slots: init.slots } : {}),
			onError: (error, peerId) => log(`Tool request from ${peerId} failed: ${error.message}`)
		}
	);
	await host.start();
	return host;
}
