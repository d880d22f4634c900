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
