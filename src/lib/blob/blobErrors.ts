/**
 * Errors of blob fetches that the layers above the mesh match on without loading the blob
 * service's code (libp2p's): blobService.ts re-exports them.
 */

/**
 * The fetch's `admit` refused the blob's manifest (it is not the size its reference says, or
 * the replica has no room for it): nothing of it was stored, and no other peer is asked.
 */
export class BlobRefusedError extends Error {
	override name = 'BlobRefusedError';
	constructor(
		readonly blobId: string,
		/** Why (`FetchOptions.admit`'s answer). */
		reason: string
	) {
		super(reason);
	}
}

/**
 * A store refused chunks of blob `blobId`: it holds no manifest of it (never stored, or dropped
 * by the budget or the sweep while a fetch of it was under way). Nothing was stored: a chunk
 * that no manifest names would be counted by no budget and never dropped.
 */
export class NoManifestError extends Error {
	override name = 'NoManifestError';
	constructor(readonly blobId: string) {
		super(`blob ${blobId} has no manifest here (dropped while it was fetched?): its chunks are not stored`);
	}
}
