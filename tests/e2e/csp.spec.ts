/**
 * The app's Content-Security-Policy (svelte.config.js `kit.csp`, found in review: there was
 * none): the page carries it, and a script put into the page (as a sanitiser slip would put
 * one) does not run, while the app, its WebAssembly and its workers do (the rest of the suite).
 */
import { expect, expectPageErrors, test } from './suite';
import { openApp } from './helpers';

test('the page carries a Content-Security-Policy, and an injected inline script does not run', async ({ page }) => {
	expectPageErrors(/Content Security Policy/);
	await openApp(page);
	await expect(page.getByRole('heading', { name: 'Welcome to Outpost' })).toBeVisible();
	const policy = await page.locator('meta[http-equiv="content-security-policy"]').getAttribute('content');
	expect(policy).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
	expect(policy).toContain("object-src 'none'");
	const ran = await page.evaluate(async () => {
		const script = document.createElement('script');
		script.textContent = 'window.__injected = true';
		document.head.append(script);
		const img = document.createElement('img');
		img.setAttribute('onerror', 'window.__handler = true');
		img.src = 'data:,not-an-image';
		document.body.append(img);
		await new Promise((resolve) => setTimeout(resolve, 200));
		const w = window as unknown as { __injected?: boolean; __handler?: boolean };
		return { script: w.__injected === true, handler: w.__handler === true };
	});
	expect(ran).toEqual({ script: false, handler: false });
});
