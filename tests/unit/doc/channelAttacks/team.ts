/** A real folded team (owner, admin, member, guest) and its roleOf, as TeamAuthority.roleOf reads it. */
import { foldTeam } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp } from '../../../../src/lib/doc/team/ops.js';
import { admission, createWorkspace, invitation, newDevice, write, type Device } from '../team/teamKit.js';
import { generateDeviceKey, peerIdOfKey, type DeviceKey } from '../../../../src/lib/doc/deviceKey.js';

export interface Signer { id: string; key: DeviceKey }

/** A team device as a document signer (the same Ed25519 key). */
function signer(d: Device): Signer {
	return { id: d.peerId, key: d.key as unknown as DeviceKey };
}

export async function team() {
	const [owner, admin, member, guest] = [await newDevice(), await newDevice(), await newDevice(), await newDevice()];
	const { ws, create } = await createWorkspace(owner);
	const ops: TeamOp[] = [create];
	for (const [device, role] of [[admin, 'admin'], [member, 'member'], [guest, 'guest']] as const) {
		const inv = invitation(role);
		ops.push(await write(owner, ws, ops, inv.body));
		ops.push(await admission(device, ws, ops, inv));
	}
	const folded = foldTeam(ws, ops);
	const roleOf = (peerId: string) => {
		const id = folded.devices.get(peerId);
		return id === undefined ? undefined : folded.members.get(id)?.role;
	};
	return { ws, ops, folded, roleOf, owner: signer(owner), admin: signer(admin), member: signer(member), guest: signer(guest) };
}

/** A throwaway key nobody admitted. */
export function throwaway(): Signer {
	const key = generateDeviceKey();
	return { key, id: peerIdOfKey(key) };
}
