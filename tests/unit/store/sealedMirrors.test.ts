/** The browser's kept mirrors of relays' sealed logs (store/sealedMirrors.ts) over real IndexedDB code (fake-indexeddb in Node). */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/lib/doc/ids.js';
import { OutpostDb } from '../../../src/lib/store/db.js';
import { MIRROR_KEY_PREFIX, settingsMirrors } from '../../../src/lib/store/sealedMirrors.js';

describe('settingsMirrors', () => {
	it('keeps a mirror per workspace across a reopen of the database, and treats a damaged row as none', async () => {
		const name = `mirrors-${newId()}`;
		const db = new OutpostDb(name);
		const mirror = { read: 3, state: Uint8Array.of(0, 0), last: new Uint8Array(32).fill(7), waiting: { g2: 1 } };
		await settingsMirrors(db, 'ws-a').save('relay\ndoc', mirror);
		expect(await settingsMirrors(db, 'ws-b').load('relay\ndoc')).toBeUndefined();
		db.close();
		const reopened = new OutpostDb(name);
		expect(await settingsMirrors(reopened, 'ws-a').load('relay\ndoc')).toEqual(mirror);
		const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`g${i}`, 0]));
		for (const damaged of [
			{ read: -1, state: Uint8Array.of(0, 0) },
			{ read: 1, state: 'text' },
			{ read: 1, state: Uint8Array.of(0, 0), last: Uint8Array.of(1) },
			// Generations waited for: a position not yet read, not a number, a list, or more than 64 of them.
			{ read: 1, state: Uint8Array.of(0, 0), waiting: { g: 1 } },
			{ read: 1, state: Uint8Array.of(0, 0), waiting: { g: '0' } },
			{ read: 1, state: Uint8Array.of(0, 0), waiting: [0] },
			{ read: 1, state: Uint8Array.of(0, 0), waiting: tooMany },
			null
		]) {
			await reopened.settings.put({ key: `${MIRROR_KEY_PREFIX}ws-a\nrelay\ndoc`, value: damaged });
			expect(await settingsMirrors(reopened, 'ws-a').load('relay\ndoc')).toBeUndefined();
		}
		reopened.close();
	});
});
