/**
 * The relay as an archive peer: a {@link MeshService} on the relay's libp2p node syncing
 * every workspace in `<data>/workspaces.json` (added by `join`), each stored by an
 * {@link ArchiveDocs}. Workspaces joined while the relay runs are picked up at its next start.
 */
import { meshService, type MeshService, type MeshServiceComponents } from '../../src/lib/mesh/MeshService.ts';
import { ArchiveDocs } from './ArchiveDocs.ts';
import { readWorkspaces } from './workspaces.ts';

/** A running archive peer. */
export interface ArchivePeer {
	mesh: MeshService;
	/** The open archives, by workspace id. */
	archives: Map<string, ArchiveDocs>;
	/** Stops syncing and closes every archive (after its pending writes). */
	close(): Promise<void>;
}

/** Opens every archived workspace and starts syncing them over `node`. */
export async function startArchivePeer(
	node: MeshServiceComponents['node'],
	dataDir: string,
	log: (line: string) => void
): Promise<ArchivePeer> {
	const mesh = meshService()({ node });
	const archives = new Map<string, ArchiveDocs>();
	const close = async (): Promise<void> => {
		await mesh.stop();
		for (const archive of archives.values()) await archive.close();
	};
	try {
		await mesh.start();
		for (const { id, secret, name } of await readWorkspaces(dataDir)) {
			const docs = await ArchiveDocs.open(dataDir, id);
			archives.set(id, docs);
			for (const { docId, droppedBytes } of docs.recovered) {
				log(`Archive ${id}: document ${docId} had a torn tail of ${droppedBytes} bytes (dropped; earlier updates kept)`);
			}
			await mesh.addWorkspace({ id, secret, docs });
			log(`Archiving workspace ${name ? `"${name}" ` : ''}${id} (${docs.list().length} documents)`);
		}
	} catch (error) {
		await close();
		throw error;
	}
	return { mesh, archives, close };
}
