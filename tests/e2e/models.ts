/** The suite's own tiny GGUF model, put where the e2e relay serves model files, and the UI steps around it. */
import { copyFileSync, mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect } from './suite';
import { join } from 'node:path';
import { llamaGgufPath, tinyLlama } from '../fixtures/gguf';

// The relay of playwright.config.ts serves <its data dir>/models.
/** The models folder of the suite's relay (playwright.config.ts); relays a spec starts may be pointed at it with `--models-dir`. */
export const MODELS_DIR = join('test-results', 'relay-data', 'models');

/** Writes the tiny model into the relay's models folder (it lists the folder on each request). */
export function serveTinyModel(): void {
	mkdirSync(MODELS_DIR, { recursive: true });
	copyFileSync(llamaGgufPath(), join(MODELS_DIR, `${tinyLlama.name}.gguf`));
}

/**
 * Loads the tiny model (or the served model file `name`) into this browser through "Models"
 * (an AI chat must be open); with `share`, also ticks "Share this model with the workspace"
 * (checking it was not ticked).
 */
export async function loadTinyModel(page: Page, { share = false, name = tinyLlama.name } = {}): Promise<void> {
	await page.getByRole('button', { name: 'Models', exact: true }).click();
	const dialog = page.getByRole('dialog', { name: 'Models in this browser' });
	const sharing = dialog.getByRole('checkbox', { name: 'Share this model with the workspace' });
	if (share) await expect(sharing).not.toBeChecked();
	await dialog.getByRole('button', { name: `Load ${name}.gguf` }).click();
	await expect(dialog.getByText(`Loaded in this browser: ${name}`)).toBeVisible({ timeout: 30_000 });
	if (share) await sharing.check();
	await dialog.getByRole('button', { name: 'Close' }).click();
}

/** The model's answers in the open AI chat. */
export function answers(page: Page) {
	return page.getByRole('region', { name: 'Messages with the model' }).getByRole('article', { name: 'Assistant' });
}
