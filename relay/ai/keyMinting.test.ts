/**
 * Found in review: `/v1` bounds answers per key (openai.ts MAX_ANSWERS_PER_KEY = 4, "found in review"),
 * but the keys API (relay/ai/keysApi.ts POST /api/keys) lets one admin device mint keys without
 * any bound, so the per-key bound is multiplied at will (and anyone on the LAN is the owner of a
 * workspace of its own on the relay). The `api_keys` table also grows without bound.
 */
import '../../src/lib/mesh/polyfills.node.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TeamOp } from '../../src/lib/doc/team/ops.ts';
import { encodeSecret, newSecret } from '../../src/lib/mesh/secret.ts';
import { createWorkspace, newDevice, write } from '../../tests/unit/doc/team/teamKit.ts';
import { signedFetch, startTestRelay, type TestRelay } from '../teamFixture.ts';
import { MAX_KEYS_PER_WORKSPACE } from './keysApi.ts';

let t: TestRelay;
beforeAll(async () => {
	t = await startTestRelay('review-key-minting');
});
afterAll(async () => {
	await t?.stop();
});

describe('API keys per maker', () => {
	it('stops one admin device from minting keys without end (multiplying the per-key answer bound)', async () => {
		const relayId = t.relay.node.peerId.toString();
		const stranger = await newDevice();
		const made = await createWorkspace(stranger);
		const ops: TeamOp[] = [made.create];
		ops.push(await write(stranger, made.ws, ops, { t: 'add', member: relayId, role: 'relay', name: 'Relay' }, 2_000));
		const who = { peerId: stranger.peerId, privateKey: stranger.key };
		const archive = JSON.stringify({ workspaceId: made.ws, secret: encodeSecret(newSecret()), name: 'x', relays: [], ops: ops.map((op) => Buffer.from(op.bytes).toString('base64')) });
		expect((await signedFetch(t.relay.server.url, who, 'POST', '/api/archive', archive)).res.status).toBe(201);
		let minted = 0;
		let refused = 0;
		for (let i = 0; i < 40; i++) {
			const { res } = await signedFetch(t.relay.server.url, who, 'POST', '/api/keys', JSON.stringify({ workspace: made.ws, name: `k${i}` }));
			if (res.status === 201) minted++;
			else if (res.status === 409) refused++;
		}
		// 40 keys x 4 answers each was 160 answers at once from one device.
		expect({ minted, refused }).toEqual({ minted: MAX_KEYS_PER_WORKSPACE, refused: 40 - MAX_KEYS_PER_WORKSPACE });
	});
});
