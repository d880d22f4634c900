/**
 * The app half of the blob-transfer bench (bench/blob-transfer.ts): time until an image sent
 * on one device is fully visible on another, through the built app and its UI only, as
 * tests/e2e/attachments.spec.ts drives it. The relay (relay/run.ts, in this process, serving
 * build/) archives the workspace, so it pins every blob as a user's relay does; A creates the
 * workspace, B joins with an invite and opens #general. Per run A attaches a fresh PNG of random
 * pixels (a new blob each time), waits until the attachment is stored, and presses Send; the
 * time runs from that click (a capture listener in A's page) to the moment B's
 * `img[alt=name]` is `complete` with `naturalWidth` the real width (a capture `load` listener
 * and a 2 ms poll in B's page), both on the pages' clocks (performance.timeOrigin + now()).
 * No hook in the app: only the DOM.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { runRelay } from '../relay/run.ts';

/** One image run. */
export interface ImageRun {
	name: string;
	bytes: number;
	/** From the file input set to the attachment stored on A (its chip's progress gone), ms (polled). */
	attachMs: number;
	/** From Send pressed on A to the full image decoded on B, ms. */
	visibleMs: number;
	/** What B's page received from the file input set on A to the image shown (all traffic, MB): from A directly, from the relay. */
	received: { webrtcMB: number; relayMB: number };
}

/** A PNG of random RGB pixels (does not compress): about width × height × 3 bytes. */
export function randomPng(width: number, height: number, seed: number): Buffer {
	const row = 1 + width * 3;
	const raw = Buffer.alloc(row * height);
	let x = seed * 2654435761 || 1;
	for (let i = 0; i < raw.length; i++) {
		if (i % row === 0) continue; // filter byte 0
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		raw[i] = x & 0xff;
	}
	const crcTable = Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = (bytes: Buffer) => {
		let c = 0xffffffff;
		for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type: string, data: Buffer) => {
		const length = Buffer.alloc(4);
		length.writeUInt32BE(data.length);
		const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
		const sum = Buffer.alloc(4);
		sum.writeUInt32BE(crc(body));
		return Buffer.concat([length, body, sum]);
	};
	const header = Buffer.alloc(13);
	header.writeUInt32BE(width, 0);
	header.writeUInt32BE(height, 4);
	header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

async function visible(locator: Locator, timeoutMs = 30_000): Promise<void> {
	await locator.waitFor({ state: 'visible', timeout: timeoutMs });
}

async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 25));
	}
}

const channelNav = (page: Page) => page.getByRole('navigation', { name: 'Channels' });
const general = (page: Page) => channelNav(page).getByRole('link', { name: /^# general\b/ });

/**
 * Counts the bytes a page receives over WebSockets (the relay) and RTCDataChannels (other
 * browsers), by listeners of its own on every socket and channel the page makes: where an
 * image's bytes came from, and how many times.
 */
const COUNT_BYTES = `(() => {
	const counts = (window.__blobBenchBytes = { ws: 0, rtc: 0 });
	const size = (data) => (typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0));
	const NativeWebSocket = window.WebSocket;
	window.WebSocket = class extends NativeWebSocket {
		constructor(...args) {
			super(...args);
			this.addEventListener('message', (event) => (counts.ws += size(event.data)));
		}
	};
	const NativePeerConnection = window.RTCPeerConnection;
	const count = (channel) => channel.addEventListener('message', (event) => (counts.rtc += size(event.data)));
	window.RTCPeerConnection = class extends NativePeerConnection {
		constructor(...args) {
			super(...args);
			this.addEventListener('datachannel', (event) => count(event.channel));
		}
		createDataChannel(...args) {
			const channel = super.createDataChannel(...args);
			count(channel);
			return channel;
		}
	};
})()`;

/** Bytes `page` has received so far over WebSockets and over WebRTC data channels. */
const bytesIn = (page: Page) => page.evaluate('({ ...window.__blobBenchBytes })') as Promise<{ ws: number; rtc: number }>;

/** Opens the app in a context of its own. */
async function device(browser: Browser, url: string, name: string, log: (line: string) => void): Promise<Page> {
	const context = await browser.newContext({ baseURL: url, locale: 'en-US' });
	await context.addInitScript(COUNT_BYTES);
	const page = await context.newPage();
	page.on('pageerror', (error) => log(`  page ${name} error: ${error.message}`));
	await page.goto('/');
	await visible(page.getByRole('button', { name: 'New workspace' }).first());
	return page;
}

/**
 * Installs the full-image watch for `name` on `page` (B). Page scripts are strings: functions
 * passed to `evaluate` would carry the Node transpiler's helpers into the page.
 */
async function watchImage(page: Page, name: string, width: number): Promise<void> {
	await page.evaluate(`(() => {
		const name = ${JSON.stringify(name)}, width = ${width};
		delete window.__blobBenchSeen;
		const check = () => {
			if (window.__blobBenchSeen !== undefined) return;
			for (const image of document.querySelectorAll('main img')) {
				if (image.alt === name && image.complete && image.naturalWidth === width) {
					window.__blobBenchSeen = performance.timeOrigin + performance.now();
					clearInterval(timer);
					document.removeEventListener('load', check, true);
					return;
				}
			}
		};
		document.addEventListener('load', check, true);
		const timer = setInterval(check, 2);
	})()`);
}

/** Records on `page` (A) the moment its Send button is clicked (a capture listener, installed once). */
async function recordSend(page: Page): Promise<void> {
	await page.evaluate(`(() => {
		delete window.__blobBenchSend;
		if (window.__blobBenchHooked) return;
		window.__blobBenchHooked = true;
		document.addEventListener('click', (event) => {
			const button = event.target instanceof Element ? event.target.closest('button') : null;
			if (button && button.textContent.trim() === 'Send') window.__blobBenchSend = performance.timeOrigin + performance.now();
		}, true);
	})()`);
}

/** Runs the image runs; returns them with where the pages stood. */
export async function measureImages(init: { browser: Browser; buildDir: string; runs: number; width: number; height: number; log: (line: string) => void }): Promise<{ runs: ImageRun[] }> {
	const { browser, log } = init;
	const tmp = await mkdtemp(join(tmpdir(), 'outpost-blob-app-'));
	await mkdir(join(tmp, 'relay'));
	const relay = await runRelay({ root: init.buildDir, dataDir: join(tmp, 'relay'), host: '127.0.0.1', port: 0, secure: false, mdns: false, lanIps: [], log: () => {} });
	try {
		const url = relay.server.url;
		const ada = await device(browser, url, 'A', log);
		await ada.getByRole('button', { name: 'New workspace' }).first().click();
		const create = ada.getByRole('dialog', { name: 'New workspace' });
		await create.getByRole('textbox', { name: 'Workspace name' }).fill('Bench');
		await create.getByRole('button', { name: 'Create workspace' }).click();
		await visible(channelNav(ada).getByRole('heading', { name: 'Bench' }));
		await ada.getByRole('button', { name: 'Invite', exact: true }).click();
		const invite = ada.getByRole('dialog', { name: /^Invite to / });
		await invite.getByRole('spinbutton', { name: 'How many people can join' }).fill('10');
		await invite.getByRole('button', { name: 'Create invite link' }).click();
		const box = invite.getByRole('textbox', { name: 'Invite link' });
		const link = await until(async () => ((await box.count()) > 0 && (await box.inputValue()) !== '' ? box.inputValue() : undefined), 20_000, 'the invite link');
		await invite.getByRole('button', { name: 'Add this workspace to the relay' }).click();
		await visible(invite.getByText('The relay keeps a copy of this workspace.'));
		await invite.getByRole('button', { name: 'Close' }).click();

		const bea = await device(browser, url, 'B', log);
		await bea.getByRole('button', { name: 'Join workspace' }).first().click();
		const join_ = bea.getByRole('dialog', { name: 'Join a workspace' });
		await join_.getByRole('textbox', { name: 'Invite link' }).fill(link);
		await join_.getByRole('textbox', { name: 'Display name' }).fill('Bea');
		await join_.getByRole('button', { name: 'Join', exact: true }).click();
		await visible(channelNav(bea).getByRole('heading', { name: 'Bench' }), 30_000);
		await general(bea).click();
		// A first message both ways: the workspace is synced and live before the first image.
		const box2 = ada.getByRole('textbox', { name: 'Message', exact: true });
		await box2.fill('ready?');
		await ada.getByRole('button', { name: 'Send', exact: true }).click();
		await visible(bea.getByRole('main').getByRole('article').filter({ hasText: 'ready?' }), 30_000);
		await recordSend(ada);

		const runs: ImageRun[] = [];
		for (let run = 1; run <= init.runs; run++) {
			const name = `photo-${run}.png`;
			const png = randomPng(init.width, init.height, run);
			await watchImage(bea, name, init.width);
			await recordSend(ada);
			const before = await bytesIn(bea);
			const t0 = Date.now();
			await ada.getByLabel('Files to attach').setInputFiles([{ name, mimeType: 'image/png', buffer: png }]);
			const chips = ada.getByRole('list', { name: 'Files to send' });
			await visible(chips.getByRole('button', { name: `Remove ${name}` }));
			await until(async () => ((await chips.getByRole('progressbar').count()) === 0 ? true : undefined), 60_000, 'the attachment stored on A');
			const attachMs = Date.now() - t0;
			await ada.getByRole('textbox', { name: 'Message', exact: true }).fill(`image ${run}`);
			await ada.getByRole('button', { name: 'Send', exact: true }).click();
			const sent = await until(() => ada.evaluate('window.__blobBenchSend') as Promise<number | undefined>, 10_000, 'the Send click on A');
			const seen = await until(() => bea.evaluate('window.__blobBenchSeen') as Promise<number | undefined>, 90_000, `${name} in full on B`);
			const after = await bytesIn(bea);
			const received = { webrtcMB: (after.rtc - before.rtc) / 1e6, relayMB: (after.ws - before.ws) / 1e6 };
			runs.push({ name, bytes: png.length, attachMs, visibleMs: seen - sent, received });
			log(
				`  image run ${run}/${init.runs}: ${(png.length / 1e6).toFixed(2)} MB, visible on B ${(seen - sent).toFixed(0)} ms after Send (attach on A took ${attachMs} ms); ` +
					`B received ${received.webrtcMB.toFixed(1)} MB over WebRTC, ${received.relayMB.toFixed(1)} MB from the relay`
			);
		}
		await ada.context().close();
		await bea.context().close();
		return { runs };
	} finally {
		await relay.close().catch(() => undefined);
		await rm(tmp, { recursive: true, force: true });
	}
}
