/** The suite's own tiny GGUF model, put where the e2e relay serves model files. */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf';

// The relay of playwright.config.ts serves <its data dir>/models.
const MODELS_DIR = join('test-results', 'relay-data', 'models');

/** Writes the tiny model into the relay's models folder (it lists the folder on each request). */
export function serveTinyModel(): void {
	mkdirSync(MODELS_DIR, { recursive: true });
	copyFileSync(llamaGgufPath(), join(MODELS_DIR, `${tinyLlama.name}.gguf`));
}
