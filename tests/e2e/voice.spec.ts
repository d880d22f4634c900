/**
 * Voice notes end to end, every step through the UI: Ada records in a browser whose microphone
 * is Chromium's fake device (a test tone, no prompt): a recording cancelled with Escape adds
 * nothing; a tap, then Stop, adds a note; a press held and released adds another; every
 * microphone track is stopped after each. She sends them; Bea's browser, another profile on the
 * other end of a WebRTC connection, shows the notes with their lengths and really plays one.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { channelLink, createInvite, createWorkspace, inviteDialog, joinWith, message } from './helpers';
import { audit } from './axe';
import { useDevices } from './devices';
import type { RelayProcess } from './relays';

/** Chromium's fake camera and microphone, granted without a prompt. */
const { relay, device } = useDevices({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });

/**
 * A device with a (fake) microphone, allowed to use it. Its page keeps every stream
 * getUserMedia gave it in `window.outpostStreams`, so the test can see that each was stopped.
 */
function deviceWithMicrophone(at: RelayProcess): Promise<Page> {
	return device(at, {
		permissions: ['microphone'],
		init: () => {
			const streams: MediaStream[] = [];
			(window as unknown as { outpostStreams: MediaStream[] }).outpostStreams = streams;
			const devices = navigator.mediaDevices;
			if (!devices) return; // a frame that is no secure context (the first about:blank)
			const getUserMedia = devices.getUserMedia.bind(devices);
			devices.getUserMedia = async (constraints) => {
				const stream = await getUserMedia(constraints);
				streams.push(stream);
				return stream;
			};
		}
	});
}

/** How many streams the page was given, and how many of their tracks are still live. */
function microphoneUse(page: Page): Promise<{ streams: number; live: number }> {
	return page.evaluate(() => {
		const streams = (window as unknown as { outpostStreams: MediaStream[] }).outpostStreams;
		return { streams: streams.length, live: streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length };
	});
}

/** How far a player got (seconds), and its progress bar's furthest value, as the page kept them. */
interface Furthest {
	played: number;
	shown: number;
}

function furthest(page: Page): Promise<Furthest> {
	return page.evaluate(() => (window as unknown as { outpostFurthest: Furthest }).outpostFurthest);
}

test('a voice note recorded in one browser plays in another', async () => {
	test.setTimeout(150_000);
	const r = await relay(4260);
	const ada = await deviceWithMicrophone(r);
	await createWorkspace(ada, 'Field notes');
	await ada.getByRole('button', { name: 'Invite', exact: true }).click();
	const dialog = inviteDialog(ada);
	const link = await createInvite(dialog, { uses: 10 });
	await dialog.getByRole('button', { name: 'Close' }).click();

	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Field notes' })).toBeVisible({ timeout: 20_000 });
	await channelLink(bea, 'general').click();

	const record = ada.getByRole('button', { name: 'Record voice note' });
	const chips = ada.getByRole('list', { name: 'Files to send' });
	const voiceChip = /^Remove Voice note \d{4}-\d{2}-\d{2} \d{2}-\d{2}\.webm$/;

	// Escape cancels: nothing is added, and the microphone is released.
	await record.click();
	await expect(ada.getByRole('timer', { name: /^Recording, 0:0\d$/ })).toBeVisible();
	await expect(record).toHaveAttribute('aria-pressed', 'true');
	await audit(ada, 'recording a voice note');
	await ada.keyboard.press('Escape');
	await expect(ada.getByRole('timer')).toHaveCount(0);
	await expect(chips).toHaveCount(0);
	expect(await microphoneUse(ada)).toEqual({ streams: 1, live: 0 });

	// A tap records until Stop: about two seconds.
	await record.click();
	await expect(ada.getByRole('timer', { name: 'Recording, 0:02' })).toBeVisible({ timeout: 10_000 });
	await ada.getByRole('button', { name: 'Stop recording' }).click();
	await expect(chips.getByRole('button', { name: voiceChip })).toHaveCount(1);
	await expect(ada.getByRole('timer')).toHaveCount(0);

	// A press held for about a second records while held; releasing adds it.
	const box = (await record.boundingBox())!;
	await ada.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
	await ada.mouse.down();
	await expect(ada.getByRole('timer', { name: 'Recording, 0:01' })).toBeVisible({ timeout: 10_000 });
	await ada.mouse.up();
	await expect(chips.getByRole('button', { name: voiceChip })).toHaveCount(2);
	await expect(chips.getByRole('progressbar')).toHaveCount(0, { timeout: 20_000 });
	expect(await microphoneUse(ada)).toEqual({ streams: 3, live: 0 });

	await ada.getByRole('textbox', { name: 'Message', exact: true }).fill('from the ridge');
	await ada.getByRole('button', { name: 'Send', exact: true }).click();
	await expect(chips).toHaveCount(0);
	const notes = (page: Page) => message(page, 'from the ridge').getByRole('list', { name: 'Attachments' }).getByRole('listitem');
	// The tapped note was stopped as the timer read 0:02; the held one was let go at 0:01.
	const lengths = [/^Play voice note, 0:0[23]$/, /^Play voice note, 0:0[12]$/];
	await expect(notes(ada)).toHaveCount(2);
	for (const [i, name] of lengths.entries()) await expect(notes(ada).nth(i).getByRole('button', { name })).toBeVisible();

	// Bea sees both notes with their lengths, fetched from Ada, and plays the first.
	await expect(message(bea, 'from the ridge')).toBeVisible({ timeout: 20_000 });
	await expect(notes(bea)).toHaveCount(2);
	for (const [i, name] of lengths.entries()) await expect(notes(bea).nth(i).getByRole('button', { name })).toBeVisible();
	const got = notes(bea).first();
	const play = got.getByRole('button', { name: lengths[0] });
	const audio = got.locator('audio');
	await expect(audio).toHaveAttribute('src', /^blob:/, { timeout: 30_000 });
	await audit(bea, 'voice notes');
	// The page keeps the furthest the player and its progress bar got (the note is short: it may end between two looks).
	await got.evaluate((item) => {
		const audio = item.querySelector('audio')!;
		const bar = item.querySelector('[role="progressbar"]')!;
		const furthest = { played: 0, shown: 0 };
		(window as unknown as { outpostFurthest: Furthest }).outpostFurthest = furthest;
		audio.addEventListener('timeupdate', () => (furthest.played = Math.max(furthest.played, audio.currentTime)));
		new MutationObserver(() => (furthest.shown = Math.max(furthest.shown, Number(bar.getAttribute('aria-valuenow'))))).observe(bar, {
			attributes: true,
			attributeFilter: ['aria-valuenow']
		});
	});
	await play.click();
	await expect(got.getByRole('button', { name: 'Pause voice note' })).toBeVisible();
	await expect.poll(async () => (await furthest(bea)).played, { timeout: 15_000 }).toBeGreaterThan(0.5);
	expect((await furthest(bea)).shown).toBeGreaterThan(0);
	expect(await audio.evaluate((a: HTMLAudioElement) => a.error)).toBeNull();
	// At its end it is ready to play again.
	await expect(play).toBeVisible({ timeout: 15_000 });
	expect(await audio.evaluate((a: HTMLAudioElement) => a.error)).toBeNull();
});
