/**
 * Found in review: the archive request check (relay/archive/teamCheck.ts) folds the request's
 * operations together with the ones the relay holds, with no guard against a second `create`
 * (root). foldTeam picks the root with the smallest id, so the workspace's creator — even after
 * being removed — can sign another `create` of the same workspace (same nonce, other name) whose
 * id happens to be smaller, add the relay under it, and pass as "owner". Every replica (and the
 * relay's own roster: addTeamOp / checkTeamUpdate) refuses a second root; the check does not.
 * The request then replaces the relay's secret for the workspace: a removed member changes
 * what the relay archives under.
 */
import '../../src/lib/mesh/polyfills.node.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamOp } from '../../src/lib/doc/team/ops.ts';
import { signTeamOp } from '../../src/lib/doc/team/sign.ts';
import { encodeSecret, newSecret } from '../../src/lib/mesh/secret.ts';
import { createWorkspace, newDevice, write, type Device } from '../../tests/unit/doc/team/teamKit.ts';
import { readWorkspaces } from './workspaces.ts';
import { signedFetch, startTestRelay, type TestRelay } from '../teamFixture.ts';

let t: TestRelay;
beforeAll(async () => {
	t = await startTestRelay('review-second-root');
});
afterAll(async () => {
	await t?.stop();
});

const body = (ws: string, secret: Uint8Array, ops: TeamOp[]) =>
	JSON.stringify({ workspaceId: ws, secret: encodeSecret(secret), name: 'Deck', relays: [], ops: ops.map((op) => Buffer.from(op.bytes).toString('base64')) });
const signer = (d: Device) => ({ peerId: d.peerId, privateKey: d.key });

describe('archive request after the creator is removed', () => {
	it('refuses a second root signed by the removed creator', async () => {
		const relayId = t.relay.node.peerId.toString();
		const creator = await newDevice();
		const heir = await newDevice();
		const made = await createWorkspace(creator);
		const ws = made.ws;
		const ops: TeamOp[] = [made.create];
		ops.push(await write(creator, ws, ops, { t: 'add', member: heir.peerId, role: 'owner', name: 'heir' }, 2_000));
		ops.push(await write(heir, ws, ops, { t: 'add', member: relayId, role: 'relay', name: 'Relay' }, 3_000));
		ops.push(await write(heir, ws, ops, { t: 'remove', member: creator.peerId }, 4_000));
		const secret = newSecret();
		const first = await signedFetch(t.relay.server.url, signer(heir), 'POST', '/api/archive', body(ws, secret, ops));
		expect(first.res.status).toBe(201);
		const authority = t.relay.archive.authority(ws)!;
		await authority.settled();
		expect(authority.isMember(creator.peerId)).toBe(false);
		expect(authority.isMember(heir.peerId)).toBe(true);

		// The removed creator signs another root of the same workspace, with an id below the real one.
		const nonce = made.create.payload.t === 'create' ? made.create.payload.nonce : '';
		let fake: TeamOp;
		for (let i = 0; ; i++) {
			fake = await signTeamOp(creator.key, creator.peerId, { ws, prev: [], at: 1_000 }, { t: 'create', nonce, name: `again ${i}` });
			if (fake.id < made.create.id) break;
		}
		const fakeAdd = await write(creator, ws, [fake], { t: 'add', member: relayId, role: 'relay', name: 'Relay' }, 5_000);
		const stolen = newSecret();
		const second = await signedFetch(t.relay.server.url, signer(creator), 'POST', '/api/archive', body(ws, stolen, [fake, fakeAdd]));
		const listed = (await readWorkspaces(t.dataDir)).find((w) => w.id === ws)!;
		// A removed member must be refused, and the listed secret must stay the team's.
		expect({ status: second.res.status, secretKept: Buffer.from(listed.secret).equals(Buffer.from(secret)) }).toEqual({ status: 403, secretKept: true });
	});
});
