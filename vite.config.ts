import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		include: ['tests/unit/**/*.test.ts', 'relay/**/*.test.ts', 'tests/mesh/**/*.test.ts', 'tests/ai/**/*.test.ts'],
		environment: 'node',
		testTimeout: 20000
	}
});
