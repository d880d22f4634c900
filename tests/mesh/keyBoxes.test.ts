/**
 * A key holder's useless box for a new device, on real libp2p nodes each running the workspace
 * core (team fold, keyring, key keeper): a member's modified client seals some other key to a
 * newcomer, for the current generation, before anyone else seals it the real one. The
 * newcomer finds the box out by the generation's check and uses no key from it; once the
 * owner (who made the generation) is online again, its key keeper seals the real key to the
 * newcomer, the fold puts that box in place of the member's, and the newcomer reads gossip.
 */
import '../../src/lib/mesh/polyfills.node.js'; // before anything that loads libp2p
import { afterEach, describe, expect, it } from 'vitest';
import { newWorkspaceKey, sealForDevices } from '../../src/lib/doc/team/keyBox.js';
import { BoxRank } from '../../src/lib/doc/team/teamTypes.js';
import { waitFor } from './helpers.js';
import { connect, heal, partition, stopPeers } from './peers.js';
import { createTeamWorkspace, invite, newKey, startJoiner, stopTeamPeers } from './teamPeers.js';

afterEach(async () => {
	await stopTeamPeers();
	await stopPeers();
});

describe('key boxes from a hostile key holder', () => {
	it('a member who boxes a newcomer another key first keeps it from the key only until the owner is online', async () => {
		const { ws, owner } = await createTeamWorkspace((await newKey()).key);
		// Mallory's modified client seals keys its own way: its keeper would wait up to ten minutes.
		const mallory = await startJoiner(ws, (await newKey()).key, 'mallory', await invite(owner, 'member'), { keyShareWaitMs: 600_000 });
		await connect(mallory, owner);
		await waitFor(() => owner.authority.team.currentKey !== undefined && mallory.keyring.has(owner.authority.team.currentKey), 'mallory holds the key');
		const gen = owner.authority.team.currentKey!;
		const forDana = await invite(owner, 'member');
		await waitFor(() => mallory.authority.team.invites.has(forDana.id), 'mallory folds the invitation');

		// The owner goes offline; Dana joins through Mallory, who boxes her some other key at once.
		await partition(owner, mallory);
		const dana = await startJoiner(ws, (await newKey()).key, 'dana', forDana);
		await connect(dana, mallory);
		await waitFor(() => mallory.authority.isMember(dana.peerId), 'mallory admits dana');
		await mallory.authority.write({ t: 'keys', gen, boxes: sealForDevices(newWorkspaceKey(), [dana.peerId], ws.id, gen) });
		await waitFor(() => dana.keyErrors.some((e) => /check does not match/.test(e.message)), 'dana finds the box out');
		expect(dana.keyring.has(gen)).toBe(false);
		expect(dana.authority.team.keyGenerations.get(gen)?.boxBy.get(dana.peerId)).toBe(BoxRank.holder);

		// The owner is back: its keeper seals the real key to Dana, in place of Mallory's box.
		await heal(owner, mallory);
		await waitFor(() => dana.keyring.has(gen), 'dana opens the box the owner sealed', 10_000);
		expect(dana.keyring.current().id).toBe(gen);
		expect(dana.authority.team.keyGenerations.get(gen)?.boxBy.get(dana.peerId)).toBe(BoxRank.maker);
		// Mallory's modified client tries again: its box no longer takes the place of the owner's.
		const owners = dana.authority.team.keyGenerations.get(gen)!.boxes.get(dana.peerId);
		const again = await mallory.authority.write({ t: 'keys', gen, boxes: sealForDevices(newWorkspaceKey(), [dana.peerId], ws.id, gen) });
		await waitFor(() => dana.authority.operations().some((op) => op.id === again.id), 'dana folds it');
		expect(dana.authority.team.keyGenerations.get(gen)?.boxes.get(dana.peerId)).toBe(owners);
		expect(dana.keyring.current().id).toBe(gen);
	}, 30_000);
});
