/**
 * The relay's archive API end to end, against a relay started in-process on 127.0.0.1 and
 * team peers on real libp2p nodes: an admin's signed request (after adding the relay to the
 * team) makes the running relay a member device that archives and syncs the workspace (and
 * still after a restart); strangers, members, forged teams, replays and bad requests change
 * nothing; the status endpoint tells only member devices; `join` from another process makes
 * the running relay join with an invitation.
 */
import '../src/lib/mesh/polyfills.node.ts'; // before anything that loads libp2p
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId } from '../src/lib/doc/ids.ts';
import { signTeamOp } from '../src/lib/doc/team/sign.ts';
import type { TeamRole } from '../src/lib/doc/team/ops.ts';
import { teamRosterId } from '../src/lib/doc/team/teamId.ts';
import { inviteLink } from '../src/lib/mesh/invite.ts';
import { isArchivedOnRelay } from '../src/lib/mesh/relayApi.ts';
import { newSecret } from '../src/lib/mesh/secret.ts';
import { docDigest } from '../src/lib/mesh/syncDocs.ts';
import { stopPeers } from '../tests/mesh/peers.ts';
import { createTeamWorkspace, has, invite, listedDoc, newKey, post, startJoiner, stopTeamPeers, type TeamPeer, type TeamWorkspace } from '../tests/mesh/teamPeers.ts';
import { ARCHIVE_PATH, MAX_BODY_BYTES } from './api.ts';
import { storedDocs } from './archive/dbFixture.ts';
import { DiskBound } from './archive/diskBound.ts';
import { useRelayDb } from './archive/relayDb.ts';
import { NOT_ADMIN_MESSAGE } from './archive/teamCheck.ts';
import { readWorkspaces, workspacesPath } from './archive/workspaces.ts';
import type { RelayQuotas } from './cli.ts';
import { runRelay } from './run.ts';
import type { RunningRelay } from './run.ts';
import { addRelay, archiveAs, archiveBody, dialRelay, opsOf, signedFetch, signerOf, startTestRelay, waitUntil } from './teamFixture.ts';

const START = fileURLToPath(new URL('./start.ts', import.meta.url));
let tmp: string;
let dataDir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
	tmp = await mkdtemp(join(tmpdir(), 'outpost-api-'));
	dataDir = join(tmp, 'data');
	await mkdir(join(tmp, 'build'), { recursive: true });
	await writeFile(join(tmp, 'build', 'index.html'), '<!doctype html><title>home</title>');
});

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	await rm(tmp, { recursive: true, force: true });
}, 15_000);

async function startRelay(log: (line: string) => void = () => {}, quotas: RelayQuotas = {}): Promise<RunningRelay> {
	const relay = await runRelay({ root: join(tmp, 'build'), dataDir, host: '127.0.0.1', port: 0, mdns: false, lanIps: [], log, quotas });
	let closed = false;
	cleanups.push(async () => {
		if (!closed) await relay.close();
		closed = true;
	});
	return relay;
}

/** The list file's bytes, or undefined when there is none. */
const listFile = () => readFile(workspacesPath(dataDir), 'utf8').catch(() => undefined);
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

/** An archive request signed by `who`, with `ops` (default: everything `admin` holds). */
async function postArchive(relay: RunningRelay, who: Pick<TeamPeer, 'peerId' | 'key'>, ws: TeamWorkspace, ops: Uint8Array[], extra: Record<string, unknown> = {}) {
	return signedFetch(relay.server.url, signerOf(who), 'POST', ARCHIVE_PATH, archiveBody(ws, ops, extra));
}

const relayId = (relay: RunningRelay) => relay.node.peerId.toString();

describe('POST /api/archive', () => {
	it('an admin archives the workspace once the relay is in its team; it syncs, gets the key, and stays after a restart', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bobInvite = await invite(owner, 'member');

		const answer = await archiveAs(owner, relay, ws);
		expect(answer).toEqual({ id: ws.id, name: 'Deck crew', created: true, secretReplaced: false });
		expect(await readWorkspaces(dataDir)).toEqual([{ id: ws.id, secret: ws.secret, name: 'Deck crew', relays: [], ops: [], requestedBy: '127.0.0.1' }]);
		const authority = relay.archive.authority(ws.id)!;
		expect(authority.joined).toBe(true);
		expect(authority.roleOf(relayId(relay))).toBe('relay');
		expect(authority.roleOf(owner.peerId)).toBe('owner');

		// The owner's device syncs with the relay: an edit reaches its disk, and the owner seals the workspace key to it.
		await dialRelay(owner, relay);
		const docId = listedDoc(owner, ws.id);
		post(owner, docId, 'written after archiving');
		const expected = await docDigest(owner.docs.get(docId));
		await waitUntil(async () => (await relay.archive.archives.get(ws.id)?.digest(docId)) === expected, 'the archive');
		expect(storedDocs(dataDir, ws.id)).toContain(docId);
		await waitUntil(() => {
			const team = authority.team;
			return team.currentKey !== undefined && team.keyGenerations.get(team.currentKey)!.boxes.has(relayId(relay));
		}, 'the workspace key sealed to the relay');

		await stopTeamPeers();
		await stopPeers(); // the owner leaves
		await cleanups.pop()!(); // the relay stops
		const restarted = await startRelay();
		expect(restarted.archive.authority(ws.id)?.joined).toBe(true);
		// A device invited before the relay restarted joins through the relay alone and gets the edit.
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', bobInvite);
		await dialRelay(bob, restarted);
		await waitUntil(() => has(bob, docId, 'written after archiving'), 'the late device', 15_000);
		expect(bob.errors).toEqual([]);
		expect(restarted.archive.authority(ws.id)?.roleOf(bob.peerId)).toBe('member');
	}, 60_000);

	it('refuses strangers, members, a relay left out of the team, and forged teams (403), and stores nothing', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const bobInvite = await invite(owner, 'member');
		const bob = await startJoiner(ws, (await newKey()).key, 'bob', bobInvite);
		// Without the relay in the team.
		const left = await postArchive(relay, owner, ws, [...(await opsOf(owner)), ...(await opsOf(bob))]);
		expect([left.res.status, await errorOf(left.res)]).toEqual([403, expect.stringMatching(/add this relay to the team first/)]);

		await addRelay(owner, relay);
		const ops = [...(await opsOf(owner)), ...(await opsOf(bob))];
		// A stranger with the real team's operations.
		const stranger = await newKey();
		const strangers = await postArchive(relay, stranger, ws, ops);
		expect([strangers.res.status, await errorOf(strangers.res)]).toEqual([403, NOT_ADMIN_MESSAGE]);
		// A member that is not an admin.
		const member = await postArchive(relay, bob, ws, ops);
		expect([member.res.status, await errorOf(member.res)]).toEqual([403, NOT_ADMIN_MESSAGE]);
		// Squatting: a made-up team for someone else's workspace id, its root signed by the squatter.
		const mallory = await newKey();
		const forgedRoot = await signTeamOp(mallory.key, mallory.peerId, { ws: ws.id, prev: [], at: Date.now() }, { t: 'create', nonce: 'x', name: 'mallory' });
		const forgedAdd = await signTeamOp(mallory.key, mallory.peerId, { ws: ws.id, prev: [forgedRoot.id], at: Date.now() }, {
			t: 'add',
			member: relayId(relay),
			role: 'relay',
			name: 'Relay'
		});
		const squat = await postArchive(relay, mallory, ws, [forgedRoot.bytes, forgedAdd.bytes], { secret: 'A'.repeat(43) });
		expect([squat.res.status, await errorOf(squat.res)]).toEqual([403, NOT_ADMIN_MESSAGE]);
		// The real team's operations plus the squatter's own root and admin entry change nothing either.
		const mixed = await postArchive(relay, mallory, ws, [...ops, forgedRoot.bytes, forgedAdd.bytes]);
		expect(mixed.res.status).toBe(403);

		expect(await listFile()).toBeUndefined();
		expect(relay.archive.archives.size).toBe(0);
		expect(storedDocs(dataDir, ws.id)).toEqual([]);
		// The owner may still, afterwards.
		expect((await postArchive(relay, owner, ws, ops)).res.status).toBe(201);
	}, 30_000);

	it('gives a stranger byte for byte the same answer whether or not the relay archives the workspace', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		await addRelay(owner, relay);
		const ops = await opsOf(owner);
		const stranger = await newKey();
		// Its own root for the id (all a stranger can sign), and the real team's operations (leaked).
		const probe = await signTeamOp(stranger.key, stranger.peerId, { ws: ws.id, prev: [], at: Date.now() }, { t: 'create', nonce: 'guess', name: 'x' });
		const bodies = [archiveBody(ws, [probe.bytes], { secret: 'A'.repeat(43) }), archiveBody(ws, ops, { secret: 'A'.repeat(43) })];
		const answers = async () =>
			Promise.all(
				bodies.map(async (body) => {
					const { res } = await signedFetch(relay.server.url, signerOf(stranger), 'POST', ARCHIVE_PATH, body);
					return `${res.status} ${await res.text()}`;
				})
			);
		const before = await answers();
		await archiveAs(owner, relay, ws);
		expect(relay.archive.has(ws.id)).toBe(true);
		expect(await answers()).toEqual(before);
		expect(before).toEqual(Array(2).fill(`403 ${JSON.stringify({ error: NOT_ADMIN_MESSAGE })}`));
	}, 30_000);

	it('refuses a replayed request (401), even one that was accepted', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		await addRelay(owner, relay);
		const body = archiveBody(ws, await opsOf(owner));
		const first = await signedFetch(relay.server.url, signerOf(owner), 'POST', ARCHIVE_PATH, body);
		expect(first.res.status).toBe(201);
		const replay = await fetch(`${relay.server.url}${ARCHIVE_PATH}`, { method: 'POST', headers: first.headers, body });
		expect([replay.status, await errorOf(replay)]).toEqual([401, 'the challenge is unknown, used or expired: ask for a new one']);
		// Signed by someone else while claiming to be the owner; over another body.
		const stranger = await newKey();
		const forged = await signedFetch(relay.server.url, signerOf(owner), 'POST', ARCHIVE_PATH, body, { signAs: signerOf(stranger) });
		expect(forged.res.status).toBe(401);
		const swapped = await signedFetch(relay.server.url, signerOf(owner), 'POST', ARCHIVE_PATH, archiveBody(ws, await opsOf(owner), { secret: 'B'.repeat(43) }), {
			signedBody: body
		});
		expect(swapped.res.status).toBe(401);
		expect((await readWorkspaces(dataDir))[0]?.secret).toEqual(ws.secret);
	}, 30_000);

	it('refuses a request signed for another relay (403), or for none (401), and archives nothing; each relay takes the requests made for it', async () => {
		const relay = await startRelay();
		const second = await startTestRelay('api-second');
		cleanups.push(second.stop);
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		// Both relays of the LAN are in the team; the owner means to use the first only.
		await addRelay(owner, relay);
		await addRelay(owner, second.relay);
		const body = archiveBody(ws, await opsOf(owner));
		const secondUrl = second.relay.server.url;
		// The owner's app signs for the first relay over a challenge of the second (slipped in by
		// whoever answered for the first), and the request is sent to the second.
		const misdirected = await signedFetch(secondUrl, signerOf(owner), 'POST', ARCHIVE_PATH, body, { relay: relayId(relay) });
		expect([misdirected.res.status, await errorOf(misdirected.res)]).toEqual([
			403,
			`the request is signed for relay ${relayId(relay)}, not this one (${relayId(second.relay)}): nothing was done`
		]);
		// Its header relabelled for the second relay, the signature still for the first: a bad signature.
		const relabelled = await signedFetch(secondUrl, signerOf(owner), 'POST', ARCHIVE_PATH, body, { relay: relayId(relay), relayHeader: relayId(second.relay) });
		expect(relabelled.res.status).toBe(401);
		// No relay named at all (an app from before requests named their relay).
		const { headers } = await signedFetch(secondUrl, signerOf(owner), 'GET', `${ARCHIVE_PATH}/${ws.id}`);
		const unnamed = await fetch(`${secondUrl}${ARCHIVE_PATH}`, {
			method: 'POST',
			headers: { ...Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'x-outpost-relay')), 'content-type': 'application/json' },
			body
		});
		expect([unnamed.status, await errorOf(unnamed)]).toEqual([401, expect.stringMatching(/x-outpost-relay/)]);
		expect(second.relay.archive.has(ws.id)).toBe(false);
		expect(await readWorkspaces(second.dataDir)).toEqual([]);
		// Asked for itself, each relay archives the workspace.
		expect((await archiveAs(owner, relay, ws)).created).toBe(true);
		expect((await archiveAs(owner, second.relay, ws)).created).toBe(true);
	}, 30_000);

	it('merges the operations of a second request; an admin may replace the secret; a removed admin may not', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const ann = await newKey();
		await owner.authority.write({ t: 'add', member: ann.peerId, role: 'admin', name: 'ann' });
		expect((await archiveAs(owner, relay, ws)).created).toBe(true);
		const authority = relay.archive.authority(ws.id)!;
		expect(authority.roleOf(ann.peerId)).toBe('admin');

		// Same request again: nothing changes.
		const before = await listFile();
		expect(await archiveAs(owner, relay, ws)).toEqual({ id: ws.id, name: 'Deck crew', created: false, secretReplaced: false });
		expect(await listFile()).toBe(before);

		// New operations arrive with a second request (the owner never connected to the relay).
		const carol = await invite(owner, 'member');
		await archiveAs(owner, relay, ws);
		await authority.settled();
		expect(authority.team.invites.has(carol.id)).toBe(true);

		// Another secret, from an admin: it replaces the listed one.
		const secret = newSecret();
		const replaced = await postArchive(relay, ann, ws, await opsOf(owner), { secret: Buffer.from(secret).toString('base64url') });
		expect([replaced.res.status, await replaced.res.json()]).toEqual([200, { id: ws.id, name: 'Deck crew', archived: true, created: false, secretReplaced: true }]);
		expect((await readWorkspaces(dataDir))[0]?.secret).toEqual(secret);

		// Ann is removed; the relay learns it (with the owner's secret back); her old view of the team no longer lets her change anything.
		const annView = await opsOf(owner);
		await owner.authority.write({ t: 'remove', member: ann.peerId });
		expect((await archiveAs(owner, relay, ws)).secretReplaced).toBe(true);
		await authority.settled();
		expect(authority.isMember(ann.peerId)).toBe(false);
		const removed = await postArchive(relay, ann, ws, annView, { secret: Buffer.from(newSecret()).toString('base64url') });
		expect([removed.res.status, await errorOf(removed.res)]).toEqual([403, NOT_ADMIN_MESSAGE]);
		expect((await readWorkspaces(dataDir))[0]?.secret).toEqual(ws.secret);
	}, 30_000);

	it("lets one address list only its share of workspaces: past it a stranger's new team is refused (403, logged once), still after a restart", async () => {
		const logged: string[] = [];
		const quotas = { archivesPerAddress: 2 };
		const relay = await startRelay((line) => logged.push(line), quotas);
		// A stranger on the LAN makes teams of its own with this relay in them, one after another.
		const teams = [];
		for (let i = 0; i < 3; i++) teams.push(await createTeamWorkspace((await newKey()).key));
		expect(await archiveAs(teams[0]!.owner, relay, teams[0]!.ws)).toMatchObject({ created: true });
		expect(await archiveAs(teams[1]!.owner, relay, teams[1]!.ws)).toMatchObject({ created: true });
		const refused = archiveAs(teams[2]!.owner, relay, teams[2]!.ws);
		await expect(refused).rejects.toMatchObject({ name: 'RelayApiError', status: 403 });
		await expect(refused).rejects.toThrow(/asked for from your address/);
		await expect(archiveAs(teams[2]!.owner, relay, teams[2]!.ws)).rejects.toMatchObject({ status: 403 });
		// A workspace of its share is still refreshed, and the list says who asked for each.
		expect(await archiveAs(teams[0]!.owner, relay, teams[0]!.ws)).toMatchObject({ created: false });
		const list = await readWorkspaces(dataDir);
		expect(list.map((w) => [w.id, w.requestedBy])).toEqual([
			[teams[0]!.ws.id, '127.0.0.1'],
			[teams[1]!.ws.id, '127.0.0.1']
		]);
		expect(relay.archive.authority(teams[2]!.ws.id)).toBeUndefined();
		expect(logged.filter((line) => line.startsWith('Archive requests from 127.0.0.1'))).toHaveLength(1);

		// The share is counted from the list, so a restart does not give the address a new one.
		await cleanups.pop()!();
		const restarted = await startRelay(() => {}, quotas);
		await expect(archiveAs(teams[2]!.owner, restarted, teams[2]!.ws)).rejects.toMatchObject({ status: 403 });
		expect(await readWorkspaces(dataDir)).toHaveLength(2);
	}, 60_000);

	it("holds an admin's request to the workspace's byte quota: new team operations past it are refused (507) and not stored", async () => {
		const quota = 16 * 1024;
		const relay = await startRelay(() => {}, { workspaceBytes: quota });
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		expect((await archiveAs(owner, relay, ws)).created).toBe(true);
		const archive = relay.archive.archives.get(ws.id)!;
		const before = archive.recountBytes();
		expect(before).toBeLessThan(quota / 2);
		// The owner writes more team operations than the quota holds (members who never join).
		for (let i = 0; i < 80; i++) await owner.authority.write({ t: 'add', member: (await newKey()).peerId, role: 'member', name: `member ${i}` });
		const refused = archiveAs(owner, relay, ws);
		await expect(refused).rejects.toMatchObject({ name: 'RelayApiError', status: 507 });
		await expect(refused).rejects.toThrow(`would pass its quota of ${quota} bytes`);
		expect(archive.recountBytes()).toBe(before);
		expect(relay.archive.authority(ws.id)!.team.members.size).toBe(2); // the owner and the relay
	}, 60_000);

	it("bounds what the relay stores in all: past it a new team's archive request is refused (507, logged once), nothing stored", async () => {
		const logged: string[] = [];
		const relay = await startRelay((line) => logged.push(line), { relayBytes: 1 });
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		for (let n = 0; n < 3; n++) {
			const refused = archiveAs(owner, relay, ws);
			await expect(refused).rejects.toMatchObject({ name: 'RelayApiError', status: 507 });
			await expect(refused).rejects.toThrow(/stores at most 1 bytes in all and has no room left/);
		}
		expect(logged.filter((line) => line.includes('--relay-bytes'))).toHaveLength(1);
		expect(relay.archive.has(ws.id)).toBe(false);
		expect(await listFile()).toBeUndefined();
		expect(storedDocs(dataDir, ws.id)).toEqual([]);
	}, 30_000);

	it("bounds what the relay stores in all, below any workspace's quota: a member's updates past it are refused, logged once", async () => {
		const logged: string[] = [];
		const bound = 1024 * 1024;
		const relay = await startRelay((line) => logged.push(line), { relayBytes: bound });
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		expect((await archiveAs(owner, relay, ws)).created).toBe(true);
		await dialRelay(owner, relay);
		const docId = listedDoc(owner, ws.id);
		const full = () => logged.some((line) => line.includes('--relay-bytes'));
		// Posts of 40,000 characters (the most one message holds) until the relay has no room.
		for (let i = 0; i < 40 && !full(); i++) {
			post(owner, docId, randomBytes(30_000).toString('base64'));
			const expected = await docDigest(owner.docs.get(docId));
			await waitUntil(async () => full() || (await relay.archive.archives.get(ws.id)?.digest(docId)) === expected, 'the relay to store or refuse the post');
		}
		expect(full()).toBe(true);
		const archive = relay.archive.archives.get(ws.id)!;
		expect(archive.recountBytes()).toBeLessThan(bound); // far within the workspace's own quota (1 GiB)
		const { relayDb, release } = useRelayDb(dataDir); // the relay's own connection, shared
		expect(new DiskBound(relayDb.db).used()).toBeLessThanOrEqual(bound);
		release();
		expect(logged.filter((line) => line.includes('--relay-bytes'))).toHaveLength(1);
	}, 60_000);

	it('answers bad requests with a clear error and stores nothing', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		await addRelay(owner, relay);
		const ops = await opsOf(owner);
		const url = relay.server.url;
		const signed = (body: string) => signedFetch(url, signerOf(owner), 'POST', ARCHIVE_PATH, body).then((r) => r.res);
		const badSignature = new Uint8Array(ops[0]!);
		badSignature[badSignature.length - 1]! ^= 1;
		const cases: [string, Promise<Response>, number, RegExp][] = [
			['garbage JSON', signed('{"workspaceId": '), 400, /not valid JSON/],
			['no workspace', signed(JSON.stringify({ secret: 'x' })), 400, /workspaceId/],
			['a cut-off workspace id', signed(archiveBody(ws, ops, { workspaceId: ws.id.slice(0, 20) })), 400, /workspaceId/],
			['a secret of the wrong length', signed(archiveBody(ws, ops, { secret: 'A'.repeat(40) })), 400, /secret/],
			['no operations', signed(archiveBody(ws, [])), 400, /"ops"/],
			['operations that are not base64', signed(archiveBody(ws, ops, { ops: ['%%%'] })), 400, /not base64/],
			['an operation that does not decode', signed(archiveBody(ws, [new Uint8Array([1, 2, 3])])), 400, /malformed/],
			['an operation with a bad signature', signed(archiveBody(ws, [badSignature, ...ops.slice(1)])), 400, /not signed by the device it names/],
			['bad relays', signed(archiveBody(ws, ops, { relays: ['not-a-multiaddr'] })), 400, /relays/],
			['no signature', fetch(`${url}${ARCHIVE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: archiveBody(ws, ops) }), 401, /sign the request/],
			['a body over the limit', signed(JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) })), 413, /over \d+ bytes/],
			['a form post', fetch(`${url}${ARCHIVE_PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }), 415, /JSON/]
		];
		for (const [what, answer, status, message] of cases) {
			const res = await answer;
			expect([what, res.status]).toEqual([what, status]);
			expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
			expect(res.headers.get('access-control-allow-origin')).toBeNull();
			expect(await errorOf(res), what).toMatch(message);
		}
		const put = await fetch(`${url}${ARCHIVE_PATH}`, { method: 'PUT', body: '{}' });
		expect([put.status, put.headers.get('allow')]).toEqual([405, 'POST']);
		expect((await fetch(`${url}${ARCHIVE_PATH}`)).status).toBe(405);
		expect((await fetch(`${url}${ARCHIVE_PATH}/${newId()}`, { method: 'DELETE' })).status).toBe(405);
		expect((await fetch(`${url}/api/nothing-here`)).status).toBe(404);

		expect(await listFile()).toBeUndefined();
		expect(relay.archive.archives.size).toBe(0);
		// The server still answers normally after all that.
		expect((await signed(archiveBody(ws, ops))).status).toBe(201);
	}, 30_000);
});

describe('GET /api/archive/<id>', () => {
	it('tells a member device, and nobody else, that the relay archives a workspace', async () => {
		const relay = await startRelay();
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const stranger = await newKey();
		const url = relay.server.url;
		const ask = async (who: Pick<TeamPeer, 'peerId' | 'key'>, id: string) => {
			const { res } = await signedFetch(url, signerOf(who), 'GET', `${ARCHIVE_PATH}/${id}`);
			return [res.status, await res.json()];
		};
		expect(await ask(owner, ws.id)).toEqual([200, { archived: false }]);
		await archiveAs(owner, relay, ws);
		expect(await ask(owner, ws.id)).toEqual([200, { archived: true }]);
		expect(await isArchivedOnRelay(ws.id, signerOf(owner), url)).toBe(true);
		// A stranger gets the same answer for an archived workspace as for one that does not exist.
		expect(await ask(stranger, ws.id)).toEqual(await ask(stranger, newId()));
		expect(await ask(stranger, ws.id)).toEqual([200, { archived: false }]);
		expect(await isArchivedOnRelay(ws.id, signerOf(stranger), url)).toBe(false);
		// Unsigned: 401, whatever the id.
		expect((await fetch(`${url}${ARCHIVE_PATH}/${ws.id}`)).status).toBe(401);
		expect((await fetch(`${url}${ARCHIVE_PATH}/${newId()}`)).status).toBe(401);
		expect(await isArchivedOnRelay(ws.id, undefined, url)).toBeUndefined();
	}, 30_000);
});

describe('join while the relay runs', () => {
	/** A link with an invitation of `role` that `owner` made for `ws`. */
	async function joinLink(owner: TeamPeer, ws: TeamWorkspace, role: Exclude<TeamRole, 'owner'>): Promise<string> {
		const inv = await invite(owner, role);
		return inviteLink('http://127.0.0.1:1', {
			workspaceId: ws.id,
			secret: ws.secret,
			name: 'Deck crew',
			relays: [],
			invitation: { id: inv.id, opId: inv.op.id, seed: inv.seed }
		});
	}

	/** What a relay logs that says it joined with a role other than relay. */
	const NOT_AS_RELAY = /this relay is in its team as \w+, not as a relay/;

	it('makes the running relay join the team with the invitation, then archive what members write', async () => {
		const logged: string[] = [];
		const relay = await startRelay((line) => logged.push(line));
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const link = await joinLink(owner, ws, 'relay');
		// Members' devices are connected to the relay (they dial it); it opens sessions to them once it lists the workspace.
		await dialRelay(owner, relay);
		const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', START, 'join', link, '--data', dataDir]);
		expect(stdout).toContain(ws.id);
		expect(stdout).toContain(relayId(relay));
		await waitUntil(() => relay.archive.has(ws.id), 'the running relay to pick up the joined workspace');

		// The relay presents its admission to the connected member, and both count it.
		await waitUntil(() => owner.authority.isMember(relayId(relay)), 'the owner to admit the relay');
		await waitUntil(() => relay.archive.authority(ws.id)?.joined === true, 'the relay to see itself admitted');
		expect(owner.authority.roleOf(relayId(relay))).toBe('relay');
		const docId = listedDoc(owner, ws.id);
		post(owner, docId, 'v');
		const expected = await docDigest(owner.docs.get(docId));
		await waitUntil(async () => (await relay.archive.archives.get(ws.id)?.digest(docId)) === expected, 'the archive');
		// The roster on disk holds the admission.
		const onDisk = relay.archive.archives.get(ws.id)!;
		expect(await onDisk.digest(teamRosterId(ws.id))).toBeDefined();
		expect(logged.filter((line) => NOT_AS_RELAY.test(line))).toEqual([]);
	}, 40_000);

	it('says once when an invitation for a person made it a member; removed, it joins again with a Relay invitation', async () => {
		const logged: string[] = [];
		const relay = await startRelay((line) => logged.push(line));
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		const link = await joinLink(owner, ws, 'member');
		await dialRelay(owner, relay);
		await promisify(execFile)(process.execPath, ['--import', 'tsx', START, 'join', link, '--data', dataDir]);
		await waitUntil(() => relay.archive.authority(ws.id)?.joined === true, 'the relay to see itself admitted');
		expect(owner.authority.roleOf(relayId(relay))).toBe('member');
		await waitUntil(() => logged.some((line) => NOT_AS_RELAY.test(line)), 'the relay to say it is not in the team as a relay');
		expect(logged.find((line) => NOT_AS_RELAY.test(line))).toContain(`Workspace ${ws.id}: this relay is in its team as member`);

		// An admin removes it (the Members panel) and makes an invitation with the role Relay, which the relay joins with.
		await owner.authority.write({ t: 'remove', member: owner.authority.memberOf(relayId(relay))!.id });
		await waitUntil(() => relay.archive.authority(ws.id)?.joined === false, 'the relay to fold its removal');
		const again = await joinLink(owner, ws, 'relay');
		await dialRelay(owner, relay);
		await promisify(execFile)(process.execPath, ['--import', 'tsx', START, 'join', again, '--data', dataDir]);
		await waitUntil(() => owner.authority.roleOf(relayId(relay)) === 'relay', 'the owner to admit the relay again, as a relay', 20_000);
		await waitUntil(() => relay.archive.authority(ws.id)?.roleOf(relayId(relay)) === 'relay', 'the relay to see itself a relay', 20_000);
		const docId = listedDoc(owner, ws.id);
		post(owner, docId, 'after');
		const expected = await docDigest(owner.docs.get(docId));
		await waitUntil(async () => (await relay.archive.archives.get(ws.id)?.digest(docId)) === expected, 'the archive');
		expect(logged.filter((line) => NOT_AS_RELAY.test(line))).toHaveLength(1);
	}, 40_000);
});
