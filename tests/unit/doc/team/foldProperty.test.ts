/**
 * Property test of the team fold: five replicas write random operations (adds, role
 * changes, removals — mutual ones included —, invitations, admissions, revocations, names,
 * key rotations), some of them beyond their rights, while partitions come and go and
 * operations are delivered in random orders. After healing, every replica must fold the
 * same team, whatever order it holds the operations in, and the team must be sound.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldTeam, type Team } from '../../../../src/lib/doc/team/fold.js';
import type { TeamOp, TeamOpBody, TeamRole } from '../../../../src/lib/doc/team/ops.js';
import { newId } from '../../../../src/lib/doc/ids.js';
import { admission, canonical, createWorkspace, invitation, newDevice, rng, write, type Device } from './teamKit.js';

const REPLICAS = 5;
const SEEDS = 40;
const STEPS = 60;
const ROLES: TeamRole[] = ['owner', 'admin', 'member', 'guest', 'relay'];

let devices: Device[];

beforeAll(async () => {
	devices = await Promise.all(Array.from({ length: 10 }, () => newDevice()));
});

function shuffled<T>(items: T[], random: () => number): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

function pick<T>(items: T[], random: () => number): T {
	return items[Math.floor(random() * items.length)];
}

function checkSound(team: Team): void {
	expect([...team.members.values()].some((m) => m.role === 'owner')).toBe(true);
	for (const [device, member] of team.devices) expect(team.members.get(member)?.devices).toContain(device);
	for (const id of team.removed.keys()) expect(team.members.has(id)).toBe(false);
	for (const invite of team.invites.values()) expect(invite.used).toBeLessThanOrEqual(invite.uses);
}

async function simulate(seed: number): Promise<{ teams: Team[]; shuffledTeam: Team; all: TeamOp[] }> {
	const random = rng(seed);
	const owner = devices[0];
	const { ws, create } = await createWorkspace(owner);
	const replicas: Map<string, TeamOp>[] = Array.from({ length: REPLICAS }, () => new Map([[create.id, create]]));
	const seeds = new Map<string, Uint8Array>();
	let groups: number[] = Array.from({ length: REPLICAS }, () => 0);
	let at = 1_000;
	for (let step = 0; step < STEPS; step++) {
		const roll = random();
		if (roll < 0.1) {
			// A new partition: each replica in group 0 or 1.
			groups = groups.map(() => (random() < 0.5 ? 0 : 1));
		} else if (roll < 0.35) {
			// Deliver a random subset of one replica's operations to another in the same group.
			const from = Math.floor(random() * REPLICAS);
			const to = Math.floor(random() * REPLICAS);
			if (groups[from] !== groups[to]) continue;
			for (const op of shuffled([...replicas[from].values()], random)) if (random() < 0.7) replicas[to].set(op.id, op);
		} else {
			const r = Math.floor(random() * REPLICAS);
			const ops = replicas[r];
			const team = foldTeam(ws, ops.values());
			// Replica r writes as a device of the team (often an admin), or as any device at all.
			const members = [...team.devices.keys()];
			const chosen = random() < 0.85 && members.length > 0 ? pick(members, random) : pick(devices, random).peerId;
			const author = devices.find((d) => d.peerId === chosen)!;
			const target = pick(devices, random).peerId;
			const seen = [...ops.values()];
			at += Math.floor(random() * 100);
			const kind = random();
			let body: TeamOpBody;
			if (kind < 0.15) body = { t: 'add', member: target, role: pick(ROLES, random), name: `n${step}` };
			else if (kind < 0.3) body = { t: 'role', member: target, role: pick(ROLES, random) };
			else if (kind < 0.45) body = { t: 'remove', member: target };
			else if (kind < 0.5) body = { t: 'remove-device', device: target };
			else if (kind < 0.62) {
				const inv = invitation(pick(ROLES, random), 1 + Math.floor(random() * 2), at + Math.floor(random() * 2_000));
				const op = await write(author, ws, seen, inv.body, at); // its id derives from its author
				seeds.set(inv.id, inv.seed);
				ops.set(op.id, op);
				continue;
			} else if (kind < 0.8) {
				const invites = [...team.invites.values()];
				if (invites.length === 0) continue;
				const invite = pick(invites, random);
				const joiner = pick(devices, random);
				const seedBytes = seeds.get(invite.id)!;
				const op = await admission(joiner, ws, seen, { id: invite.id, seed: seedBytes }, at);
				ops.set(op.id, op);
				continue;
			} else if (kind < 0.87) {
				const invites = [...team.invites.keys()];
				if (invites.length === 0) continue;
				body = { t: 'revoke-invite', invite: pick(invites, random) };
			} else if (kind < 0.94) body = { t: 'name', name: `name${step}` };
			else body = { t: 'keys', gen: newId(), boxes: Object.fromEntries(members.map((m) => [m, 'box'])) };
			const op = await write(author, ws, seen, body, at);
			ops.set(op.id, op);
		}
	}
	// Heal: everyone gets everything, each in its own order.
	const all = new Map<string, TeamOp>();
	for (const ops of replicas) for (const [id, op] of ops) all.set(id, op);
	const teams = replicas.map(() => foldTeam(ws, shuffled([...all.values()], random)));
	const shuffledTeam = foldTeam(ws, shuffled([...all.values()], random).reverse());
	return { teams, shuffledTeam, all: [...all.values()] };
}

describe('team fold convergence', () => {
	it(`every replica folds the same sound team (${SEEDS} seeds, ${STEPS} steps, ${REPLICAS} replicas, partitions)`, async () => {
		let conflicts = 0;
		let removals = 0;
		for (let seed = 1; seed <= SEEDS; seed++) {
			const { teams, shuffledTeam } = await simulate(seed);
			const first = canonical(teams[0]);
			for (const team of teams) expect(canonical(team), `seed ${seed}`).toBe(first);
			expect(canonical(shuffledTeam), `seed ${seed}`).toBe(first);
			checkSound(teams[0]);
			removals += teams[0].removed.size;
			conflicts += [...teams[0].rejected.values()].filter((r) => r.startsWith('dropped')).length;
		}
		// The runs must actually exercise removals and concurrent conflicts.
		expect(removals).toBeGreaterThan(0);
		expect(conflicts).toBeGreaterThan(0);
	});
});
