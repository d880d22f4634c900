/**
 * Whether a blob is the one a reference names. A reference (signed by its sender) claims the
 * file's size, and every rule a replica applies reads that claim: the file policy, the size
 * up to which images are fetched at once, the relay's quota. The blob's id proves its
 * manifest, not the claim: a modified client can name a 3 MB blob in a reference that says
 * 1,000 bytes. So a fetch takes a manifest only when its size is the one the reference says
 * (blobService.ts `FetchOptions.admit`, before anything of it is stored), and a replica does
 * not serve a blob under a reference whose size it contradicts (core/blobMesh.ts).
 */
import type { AttachmentRef } from '../doc/schema.js';
import type { BlobManifest } from './blobManifest.js';
import { sealedSize } from './blobSeal.js';

/** Why a manifest is refused for a reference whose size it contradicts. */
export const NOT_THE_REFERENCED_SIZE = 'the file is not the size its reference says';

/**
 * Bytes of the blob a reference names: the file's size, or for a private space's file (it
 * has a key) the size of its sealed blob (a 16-byte tag per sealed chunk: blobSeal.ts).
 */
export function referencedBlobSize(ref: Pick<AttachmentRef, 'size' | 'key'>): number {
	return ref.key === undefined ? ref.size : sealedSize(ref.size);
}

/**
 * A fetch's check that the manifest is the size `ref` says: true, or why not (for
 * `FetchOptions.admit`).
 */
export function admitReferenced(ref: Pick<AttachmentRef, 'size' | 'key'>): (manifest: BlobManifest) => true | string {
	const expected = referencedBlobSize(ref);
	return (manifest) => manifest.size === expected || `${NOT_THE_REFERENCED_SIZE} (${expected} bytes; the blob has ${manifest.size})`;
}
