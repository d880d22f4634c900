/**
 * What the mesh asks of a workspace's authority (the team, folded from signed operations:
 * src/lib/core/TeamAuthority.ts). Sessions are admitted by identity: Noise authenticates the
 * remote peer id, and a session runs only when that peer id is a current member device.
 */

/** The answer to an admission: admitted, or why not. */
export type AdmitVerdict = 'ok' | 'used' | 'expired' | 'revoked' | 'refused';

/** The team's answers the mesh needs; see the module comment. */
export interface MeshAuthority {
	/** True when this device is a current member device (false while joining, and after removal). */
	readonly joined: boolean;
	/** True when the team removed this device (or its member): it opens and serves no session. */
	readonly excluded: boolean;
	/** True when `peerId` is a current member device. */
	isMember(peerId: string): boolean;
	/** The member device `peerId` is, or speaks for (a tab it delegated to); undefined for anyone else. */
	deviceOf?(peerId: string): string | undefined;
	/** The member `peerId` speaks for (as a device of its, or a tab one delegated to); undefined for anyone else. */
	personOf?(peerId: string): string | undefined;
	/**
	 * Whether this device passes on note content (a guest's does not: a peer would refuse it,
	 * notePolicy.ts); without it, every device does.
	 */
	readonly carrier?: boolean;
	/** The encoded team operation that made this device a member, sent in HELLO; undefined when none. */
	admission(): Uint8Array | undefined;
	/**
	 * Whether `admission`, presented by `peerId`, makes it a current member device: 'ok', or
	 * why not. The invitation's state is told only to a peer whose admission proves it holds
	 * the invitation's seed. A team operation that admits is added to the roster before the
	 * answer (the gate refuses one answered 'ok' that the team does not count); a tab's
	 * delegation writes nothing.
	 */
	admits(peerId: string, admission: Uint8Array): Promise<AdmitVerdict>;
	/** Calls `handler` after every change of the team; returns a function that removes it. */
	onChange(handler: () => void): () => void;
	/**
	 * Who may hold document `docId` when it is a private space's (a private channel or a
	 * direct conversation: doc/team/spaces.ts); undefined when it is not one. Without this
	 * method no document is private.
	 */
	spaceAccess?(docId: string): SpaceAccess | undefined;
	/** Resolves once every change of the team received so far is folded. */
	settled?(): Promise<void>;
}

/** Who may hold one private space's document. */
export interface SpaceAccess {
	/** Whether this device is in the space. */
	readonly local: boolean;
	/** Whether `peerId` (a member device, or a tab one delegated to) is in the space. */
	reads(peerId: string): boolean;
}
