/** Many peers of one workspace converge after a burst of writes (tests/mesh/scale.ts; `npm run bench:mesh-scale` runs 100). */
import '../../src/lib/mesh/polyfills.node.js';
import { afterEach, describe, expect, it } from 'vitest';
import { stopPeers } from './peers.js';
import { scaleRun } from './scale.js';

afterEach(stopPeers, 60_000);

describe('many peers', () => {
	it('24 peers, each linked to a hub and two others, all converge after every one writes at once', async () => {
		const figures = await scaleRun(24, 60_000);
		console.info(`scale: ${figures.peers} peers set up in ${Math.round(figures.setupMs)} ms, converged ${Math.round(figures.convergeMs)} ms after a burst of ${2 * figures.peers} writes`);
		expect(figures.documents).toBe(25);
	}, 120_000);
});
