/** The relay's sealed logs: in order, all or none, within a quota, kept across a restart, per workspace. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRelayDb } from './relayDb.ts';
import { DiskBound, RelayFullError } from './diskBound.ts';
import { MAX_SEALED_BYTES, MAX_SEALED_READ, SealedLog, SealedQuotaError } from './SealedLog.ts';

const dirs: string[] = [];
afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'sealed-'));
	dirs.push(dir);
	return dir;
}

const envelope = (i: number, size = 32) => new Uint8Array(size).fill(i % 251);

describe('sealed logs on the relay', () => {
	it('keep envelopes in order, read in bounded batches, across a restart, apart per workspace and document', async () => {
		const dir = await dataDir();
		let relayDb = openRelayDb(dir);
		const log = new SealedLog(relayDb.db, 'ws-a');
		log.append('doc-1', [envelope(0), envelope(1)]);
		log.append('doc-1', Array.from({ length: 300 }, (_, i) => envelope(i + 2)));
		log.append('doc-2', [envelope(99)]);
		new SealedLog(relayDb.db, 'ws-b').append('doc-1', [envelope(7)]);
		relayDb.db.close();

		relayDb = openRelayDb(dir);
		const again = new SealedLog(relayDb.db, 'ws-a');
		const first = again.read('doc-1', 0, 1 << 20);
		expect(first.envelopes).toHaveLength(MAX_SEALED_READ);
		expect(first.more).toBe(true);
		const rest = again.read('doc-1', MAX_SEALED_READ, 1 << 20);
		expect(rest.envelopes).toHaveLength(302 - MAX_SEALED_READ);
		expect(rest.more).toBe(false);
		expect([...first.envelopes, ...rest.envelopes].map((e) => e[0])).toEqual(Array.from({ length: 302 }, (_, i) => i % 251));
		// A byte bound cuts a batch short, but never below one envelope.
		expect(again.read('doc-1', 0, 100).envelopes).toHaveLength(3);
		expect(again.read('doc-1', 0, 1).envelopes).toHaveLength(1);
		expect(again.read('doc-2', 0, 1 << 20).envelopes).toEqual([envelope(99)]);
		expect(again.read('doc-3', 0, 1 << 20)).toEqual({ envelopes: [], more: false });
		expect(new SealedLog(relayDb.db, 'ws-b').read('doc-1', 0, 1 << 20).envelopes).toEqual([envelope(7)]);
		relayDb.db.close();
	});

	it('refuse what would pass the quota, all of it, and tell the session’s owner without ending it', async () => {
		const relayDb = openRelayDb(await dataDir());
		const log = new SealedLog(relayDb.db, 'ws', 100);
		log.append('doc', [envelope(1, 60)]);
		expect(() => log.append('doc', [envelope(2, 20), envelope(3, 30)])).toThrow(SealedQuotaError);
		expect(log.read('doc', 0, 1 << 20).envelopes).toHaveLength(1);
		expect(log.bytes()).toBe(60);
		const refused: Error[] = [];
		const store = log.storeFor(() => true, (error) => refused.push(error));
		await store.put('doc', [envelope(4, 50)]);
		expect(refused).toHaveLength(1);
		expect(log.bytes()).toBe(60);
		relayDb.db.close();
	});

	it("refuse what would pass what the relay stores in all, every workspace's logs together, within each one's quota", async () => {
		const relayDb = openRelayDb(await dataDir());
		const bound = new DiskBound(relayDb.db, new DiskBound(relayDb.db).used() + 300_000);
		const first = new SealedLog(relayDb.db, 'ws-a', MAX_SEALED_BYTES, bound);
		const second = new SealedLog(relayDb.db, 'ws-b', MAX_SEALED_BYTES, bound);
		first.append('doc', [envelope(1, 200_000)]);
		expect(() => second.append('doc', [envelope(2, 200_000)])).toThrow(RelayFullError);
		const refused: Error[] = [];
		await second.storeFor(() => true, (error) => refused.push(error)).put('doc', [envelope(3, 200_000)]);
		expect(refused.map((error) => error.name)).toEqual(['RelayFullError']);
		expect(second.bytes()).toBe(0);
		second.append('doc', [envelope(4, 32)]); // what fits is kept
		expect(second.bytes()).toBe(32);
		relayDb.db.close();
	});
});
