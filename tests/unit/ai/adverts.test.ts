/**
 * Model adverts (adverts.ts) without a network: the advert codec round-trips and refuses
 * hostile bytes with its named error only; sealed adverts open only as kind 3 with the
 * workspace's key; ModelAdverts over a fake pubsub accepts an advert only from the peer it
 * names, lists it with where it runs, renews, withdraws and expires it, and re-publishes
 * on change at a bounded rate.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import { AdvertLimits, ModelAdverts, decodeAdvert, encodeAdvert, type Advert, type AdvertModel } from '../../../src/lib/ai/adverts.js';
import { newId } from '../../../src/lib/doc/ids.js';
import type { GossipPubSub } from '../../../src/lib/mesh/gossip.js';
import {
	openAdvertEnvelope,
	openAwarenessEnvelope,
	sealAdvertEnvelope,
	sealAwarenessEnvelope
} from '../../../src/lib/mesh/gossipEnvelope.js';
import { newSecret } from '../../../src/lib/mesh/secret.js';
import { deriveWorkspaceKeys, type WorkspaceKeys } from '../../../src/lib/mesh/workspaceKeys.js';
import { mulberry32 } from '../../fixtures/random.js';

const model: AdvertModel = { id: 'tiny', engine: 'node-llama-cpp', contextLength: 256, tokensPerSecond: 2875.33, queueDepth: 1, freeSlots: 7 };

async function newPeer(): Promise<PeerId> {
	return peerIdFromPrivateKey(await generateKeyPair('Ed25519'));
}

describe('advert codec', () => {
	it('round-trips, with and without a measured speed', () => {
		const advert: Advert = { peer: '12D3KooWexample', models: [model, { ...model, id: 'other', engine: 'wllama', tokensPerSecond: undefined }] };
		const { tokensPerSecond: _t, ...noSpeed } = advert.models[1]!;
		expect(decodeAdvert(encodeAdvert(advert))).toEqual({ ...advert, models: [model, noSpeed] });
		expect(decodeAdvert(encodeAdvert({ peer: 'p', models: [] }))).toEqual({ peer: 'p', models: [] });
	});

	it('refuses random and mutated bytes with MalformedMessageError only', () => {
		const random = mulberry32(3);
		const honest = encodeAdvert({ peer: '12D3KooWexample', models: [model, { ...model, id: 'b' }] });
		for (let i = 0; i < 5000; i++) {
			let bytes: Uint8Array;
			if (i % 2 === 0) {
				bytes = new Uint8Array(Math.floor(random() * 48));
				for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
			} else {
				bytes = honest.slice(0, random() < 0.3 ? Math.floor(random() * honest.length) : honest.length);
				if (bytes.length > 0) bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
			}
			try {
				const advert = decodeAdvert(bytes);
				expect(advert.models.length).toBeLessThanOrEqual(AdvertLimits.maxModels);
			} catch (error) {
				expect((error as Error).name).toBe('MalformedMessageError');
			}
		}
		// Repeated ids and unknown engines are refused.
		const twice = encodeAdvert({ peer: 'p', models: [model, model] });
		expect(() => decodeAdvert(twice)).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }));
		const engine = encodeAdvert({ peer: 'p', models: [model] });
		engine[engine.indexOf(2, 3 + model.id.length)] = 9; // the engine code byte
		expect(() => decodeAdvert(engine)).toThrow(expect.objectContaining({ name: 'MalformedMessageError' }));
	});

	it('seals as envelope kind 3, which opens with nothing else', async () => {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const bytes = encodeAdvert({ peer: 'p', models: [model] });
		const sealed = await sealAdvertEnvelope(keys, bytes);
		expect(sealed[0]).toBe(3);
		expect(await openAdvertEnvelope(keys, sealed)).toEqual(bytes);
		await expect(openAwarenessEnvelope(keys, sealed)).rejects.toMatchObject({ name: 'EnvelopeError' });
		const other = await deriveWorkspaceKeys(keys.workspaceId, newSecret());
		await expect(openAdvertEnvelope(other, sealed)).rejects.toMatchObject({ name: 'EnvelopeError' });
		// An awareness envelope relabelled as kind 3 does not open either (associated data differs).
		const awareness = await sealAwarenessEnvelope(keys, bytes);
		awareness[0] = 3;
		await expect(openAdvertEnvelope(keys, awareness)).rejects.toMatchObject({ name: 'EnvelopeError' });
	});
});

/** A pubsub that records publishes and lets the test deliver messages. */
class FakePubSub extends EventTarget {
	readonly published: Uint8Array[] = [];
	subscribe(): void {}
	unsubscribe(): void {}
	async publish(_topic: string, data: Uint8Array) {
		this.published.push(data);
		return { recipients: [] };
	}
	deliver(topic: string, from: PeerId, data: Uint8Array): void {
		this.dispatchEvent(new CustomEvent('message', { detail: { type: 'signed', from, topic, data, sequenceNumber: 0n, signature: new Uint8Array(), key: from.publicKey } }));
	}
	leave(topic: string, peerId: PeerId): void {
		this.dispatchEvent(new CustomEvent('subscription-change', { detail: { peerId, subscriptions: [{ topic, subscribe: false }] } }));
	}
}

describe('ModelAdverts', () => {
	const running: ModelAdverts[] = [];
	afterEach(async () => {
		for (const adverts of running.splice(0)) await adverts.stop();
	});

	async function setup(source?: ModelAdvertsSource, isMember?: (peerId: string) => boolean) {
		const keys = await deriveWorkspaceKeys(newId(), newSecret());
		const pubsub = new FakePubSub();
		const errors: Error[] = [];
		const local = await newPeer();
		const adverts = new ModelAdverts({
			pubsub: pubsub as unknown as GossipPubSub, // only the methods used here
			keys,
			localPeerId: local.toString(),
			...(source ? { source } : {}),
			intervalMs: 10_000,
			ttlMs: 300,
			minRepublishMs: 100,
			...(isMember ? { isMember } : {}),
			onError: (e) => errors.push(e)
		});
		running.push(adverts);
		adverts.start();
		return { keys, pubsub, errors, adverts, local };
	}

	async function sealed(keys: WorkspaceKeys, advert: Advert): Promise<Uint8Array> {
		return sealAdvertEnvelope(keys, encodeAdvert(advert));
	}

	const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

	it('lists a peer’s models with where they run, drops forged, withdrawn and expired ones', async () => {
		const { keys, pubsub, errors, adverts } = await setup();
		const host = await newPeer();
		const mallory = await newPeer();
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model] }));
		await settle();
		expect(adverts.models()).toEqual([{ ...model, peer: host.toString(), local: false }]);

		// Mallory (a member) withdraws the host's advert in its name, and advertises for it: refused.
		pubsub.deliver(keys.topic, mallory, await sealed(keys, { peer: host.toString(), models: [] }));
		pubsub.deliver(keys.topic, mallory, await sealed(keys, { peer: host.toString(), models: [{ ...model, id: 'fake' }] }));
		await settle();
		expect(errors.map((e) => e.name)).toEqual(['MalformedMessageError', 'MalformedMessageError']);
		expect(adverts.models().map((m) => m.id)).toEqual(['tiny']);
		// Garbage of the advert kind is reported and dropped.
		pubsub.deliver(keys.topic, host, Uint8Array.from([3, 12, 1]));
		await settle();
		expect(errors.at(-1)?.name).toBe('EnvelopeError');

		// The host withdraws.
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [] }));
		await settle();
		expect(adverts.models()).toEqual([]);

		// Back, then not renewed: gone after the TTL; back again, then it leaves the topic: gone at once.
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model] }));
		await settle();
		expect(adverts.models()).toHaveLength(1);
		await new Promise((resolve) => setTimeout(resolve, 400));
		expect(adverts.models()).toEqual([]);
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model] }));
		await settle();
		pubsub.leave(keys.topic, host);
		expect(adverts.models()).toEqual([]);
	});

	it('names the peers that share tools, a tools-only advert included, until they withdraw', async () => {
		const { keys, pubsub, adverts } = await setup();
		const relay = await newPeer();
		const other = await newPeer();
		pubsub.deliver(keys.topic, relay, await sealed(keys, { peer: relay.toString(), models: [], tools: 3 }));
		pubsub.deliver(keys.topic, other, await sealed(keys, { peer: other.toString(), models: [model] }));
		await settle();
		expect(adverts.toolHosts()).toEqual([relay.toString()]);
		expect(decodeAdvert(encodeAdvert({ peer: 'p', models: [], tools: 3 }))).toEqual({ peer: 'p', models: [], tools: 3 });
		// No models and no tools: a withdrawal.
		pubsub.deliver(keys.topic, relay, await sealed(keys, { peer: relay.toString(), models: [] }));
		await settle();
		expect(adverts.toolHosts()).toEqual([]);
	});

	it('drops adverts of peers the team does not count, and forgets a peer once it is removed', async () => {
		const members = new Set<string>();
		const { keys, pubsub, errors, adverts } = await setup(undefined, (peerId) => members.has(peerId));
		const host = await newPeer();
		const stranger = await newPeer();
		members.add(host.toString());
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model] }));
		pubsub.deliver(keys.topic, stranger, await sealed(keys, { peer: stranger.toString(), models: [{ ...model, id: 'theirs' }] }));
		await settle();
		expect(adverts.models().map((m) => m.peer)).toEqual([host.toString()]);
		expect(errors.map((e) => e.name)).toEqual(['MalformedMessageError']);
		// Removed from the team: its advert stops counting at once, before it expires (found in
		// review: it drew requests for up to its lifetime), and its next renewal drops it.
		members.delete(host.toString());
		expect(adverts.models()).toEqual([]);
		members.add(host.toString());
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model], tools: 2 }));
		await settle();
		expect(adverts.toolHosts()).toEqual([host.toString()]);
		members.delete(host.toString());
		expect(adverts.toolHosts()).toEqual([]);
		pubsub.deliver(keys.topic, host, await sealed(keys, { peer: host.toString(), models: [model] }));
		await settle();
		expect(adverts.models()).toEqual([]);
	});

	it('publishes its own models at start, on change at a bounded rate, and withdraws them on stop', async () => {
		let models = [model];
		const handlers = new Set<() => void>();
		const source: ModelAdvertsSource = {
			advertisedModels: () => models,
			on: (_event, handler) => {
				handlers.add(handler);
				return () => handlers.delete(handler);
			}
		};
		const { keys, pubsub, adverts, local } = await setup(source);
		const read = async (i: number) => decodeAdvert(await openAdvertEnvelope(keys, pubsub.published[i]!));
		await settle();
		expect(pubsub.published).toHaveLength(1);
		expect(await read(0)).toEqual({ peer: local.toString(), models: [model] });
		expect(adverts.models()).toEqual([{ ...model, peer: local.toString(), local: true }]);

		// Ten changes in a burst: one more publish, at the end of the 100 ms window, with the last state.
		for (let i = 0; i < 10; i++) {
			models = [{ ...model, queueDepth: i }];
			for (const handler of handlers) handler();
		}
		await settle();
		expect(pubsub.published).toHaveLength(1);
		await new Promise((resolve) => setTimeout(resolve, 150));
		expect(pubsub.published).toHaveLength(2);
		expect((await read(1)).models[0]?.queueDepth).toBe(9);

		await adverts.stop();
		expect(await read(2)).toEqual({ peer: local.toString(), models: [] });
	});
});

type ModelAdvertsSource = NonNullable<ConstructorParameters<typeof ModelAdverts>[0]['source']>;
