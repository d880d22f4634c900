/**
 * The team as a tab without the device key presents it to the mesh: the same answers, but
 * its admission is a delegation signed by the device key (doc/team/delegation.ts).
 */
import type { MeshAuthority } from '../mesh/authority.js';

/** `authority`, presenting `delegation` as this node's admission. */
export function delegatedAuthority(authority: MeshAuthority, delegation: Uint8Array): MeshAuthority {
	return {
		get joined() {
			return authority.joined;
		},
		get excluded() {
			return authority.excluded;
		},
		get carrier() {
			return authority.carrier ?? true;
		},
		isMember: (peerId) => authority.isMember(peerId),
		...(authority.deviceOf !== undefined ? { deviceOf: (peerId: string) => authority.deviceOf!(peerId) } : {}),
		...(authority.personOf !== undefined ? { personOf: (peerId: string) => authority.personOf!(peerId) } : {}),
		admission: () => delegation,
		admits: (peerId, bytes) => authority.admits(peerId, bytes),
		onChange: (handler) => authority.onChange(handler),
		...(authority.spaceAccess !== undefined ? { spaceAccess: (docId: string) => authority.spaceAccess!(docId) } : {}),
		...(authority.settled !== undefined ? { settled: () => authority.settled!() } : {})
	};
}
