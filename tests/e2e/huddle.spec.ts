/**
 * A huddle end to end, browser to browser over WebRTC in the network namespace
 * (scripts/in-netns.sh), every step through the UI: Ada starts a huddle in #general, Bea sees
 * "Join huddle (1)" and joins; each hears the other (the remote talking indicator turns on, and
 * the inbound RTP audio's energy grows: getStats of the page's RTCPeerConnections, collected by
 * an init script of this test); when Ada mutes, Bea's indicator for her goes off; when she
 * leaves, she is gone from Bea's list.
 *
 * The microphone is Chromium's fake capture device fed with a WAV file the test writes:
 * syllable-like bursts (400 ms of a voiced tone, 200 ms of silence), because the fake device's
 * own beep lasts 20 ms, shorter than the 150 ms a voice must last to count as talking.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './suite';
import { useDevices } from './devices';
import { channelLink, createWorkspace, inviteLinkOf, joinWith, setDisplayName } from './helpers';
import type { RelayProcess } from './relays';

const hasLanInterface = Object.values(networkInterfaces())
	.flat()
	.some((i) => i !== undefined && !i.internal && i.family === 'IPv4');

/** 16-bit mono PCM WAV: 400 ms bursts of a voiced tone (a gliding pitch with harmonics), 200 ms of silence. */
function speechLikeWav(seconds: number, rate = 48_000): Buffer {
	const samples = seconds * rate;
	const data = Buffer.alloc(samples * 2);
	for (let i = 0; i < samples; i++) {
		const t = i / rate;
		const inBurst = t % 0.6;
		let v = 0;
		if (inBurst < 0.4) {
			const pitch = 140 + 60 * Math.sin(2 * Math.PI * 1.3 * t);
			const envelope = Math.sin((Math.PI * inBurst) / 0.4);
			for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * pitch * h * t) / h;
			v *= 0.35 * envelope;
		}
		data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, v)) * 32767), i * 2);
	}
	const header = Buffer.alloc(44);
	header.write('RIFF', 0);
	header.writeUInt32LE(36 + data.length, 4);
	header.write('WAVE', 8);
	header.write('fmt ', 12);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20); // PCM
	header.writeUInt16LE(1, 22); // mono
	header.writeUInt32LE(rate, 24);
	header.writeUInt32LE(rate * 2, 28);
	header.writeUInt16LE(2, 32);
	header.writeUInt16LE(16, 34);
	header.write('data', 36);
	header.writeUInt32LE(data.length, 40);
	return Buffer.concat([header, data]);
}

/** The fake microphone's recording, written once for the file's browser. */
const wav = join(mkdtempSync(join(tmpdir(), 'outpost-huddle-')), 'voice.wav');
writeFileSync(wav, speechLikeWav(6));

const { relay, device: openDevice } = useDevices({
	args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required']
});

test.beforeAll(() => {
	expect(hasLanInterface, 'WebRTC needs a non-loopback interface: run the e2e suite through scripts/in-netns.sh').toBe(true);
});

/** A browser of its own with the microphone allowed, its RTCPeerConnections collected for getStats. */
function device(at: RelayProcess): Promise<Page> {
	return openDevice(at, {
		permissions: ['microphone'],
		init: () => {
			const Native = window.RTCPeerConnection;
			const all: RTCPeerConnection[] = [];
			(window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections = all;
			window.RTCPeerConnection = class extends Native {
				constructor(config?: RTCConfiguration) {
					super(config);
					all.push(this);
				}
			};
		}
	});
}

/** Energy of the audio received over RTP so far, all connections together (getStats `totalAudioEnergy`). */
function receivedEnergy(page: Page): Promise<number> {
	return page.evaluate(async () => {
		let energy = 0;
		for (const pc of (window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections) {
			if (pc.connectionState === 'closed') continue;
			(await pc.getStats()).forEach((s: { type: string; kind?: string; totalAudioEnergy?: number }) => {
				if (s.type === 'inbound-rtp' && s.kind === 'audio') energy += s.totalAudioEnergy ?? 0;
			});
		}
		return energy;
	});
}

/** Milliseconds from joining to the first remote voice heard (User Timing marks of CallMesh). */
function timeToFirstAudio(page: Page): Promise<number | undefined> {
	return page.evaluate(() => {
		const join = performance.getEntriesByName('outpost:huddle:join').at(-1);
		const heard = performance.getEntriesByName('outpost:huddle:first-audio').at(-1);
		return join && heard ? Math.round(heard.startTime - join.startTime) : undefined;
	});
}

test('a huddle: two browsers hear each other, mute silences, leave removes', async () => {
	test.setTimeout(150_000);
	const r = await relay(4250);
	const ada = await device(r);
	await setDisplayName(ada, 'Ada');
	await createWorkspace(ada, 'Harbour');
	const link = await inviteLinkOf(ada);
	const bea = await device(r);
	await joinWith(bea, link, 'Bea');
	await expect(bea.getByRole('navigation', { name: 'Channels' }).getByRole('heading', { name: 'Harbour' })).toBeVisible({ timeout: 30_000 });
	await channelLink(bea, 'general').click();

	// Ada starts the huddle; Bea is offered to join it.
	await ada.getByRole('button', { name: 'Start huddle' }).click();
	const adaBar = ada.getByRole('region', { name: 'Huddle' });
	await expect(adaBar.getByRole('list', { name: 'People in the huddle' }).getByRole('listitem')).toHaveText([/Ada \(you\)/]);
	await bea.getByRole('button', { name: 'Join huddle (1)' }).click({ timeout: 20_000 });
	const beaBar = bea.getByRole('region', { name: 'Huddle' });
	const beaList = beaBar.getByRole('list', { name: 'People in the huddle' });
	await expect(beaList.getByRole('listitem')).toHaveCount(2, { timeout: 20_000 });
	const adaOnBea = beaList.getByRole('listitem').filter({ hasText: 'Ada' });
	const beaOnAda = adaBar.getByRole('listitem').filter({ hasText: 'Bea' });

	// Each hears the other: the remote talking indicator turns on, and audio energy arrives over RTP.
	await expect(adaOnBea).toContainText('talking', { timeout: 30_000 });
	await expect(beaOnAda).toContainText('talking', { timeout: 30_000 });
	await expect(adaOnBea).not.toContainText('connecting');
	for (const page of [ada, bea]) {
		const before = await receivedEnergy(page);
		await expect.poll(() => receivedEnergy(page), { timeout: 10_000 }).toBeGreaterThan(before + 0.01);
	}
	// Opus with DTX was negotiated: both local descriptions carry usedtx=1 on the Opus fmtp line.
	for (const page of [ada, bea]) {
		const dtx = await page.evaluate(() =>
			(window as unknown as { __peerConnections: RTCPeerConnection[] }).__peerConnections.some((pc) => /a=fmtp:\d+ [^\r\n]*usedtx=1/.test(pc.localDescription?.sdp ?? '') && /a=rtpmap:\d+ opus/.test(pc.localDescription?.sdp ?? ''))
		);
		expect(dtx).toBe(true);
	}
	console.log(`huddle: time to first audio, Ada ${await timeToFirstAudio(ada)} ms, Bea ${await timeToFirstAudio(bea)} ms`);

	// Ada mutes: Bea's indicator for her goes off (her audio is silence now), and she shows as muted.
	await ada.getByRole('button', { name: 'Mute', exact: true }).click();
	await expect(adaOnBea).not.toContainText('talking', { timeout: 10_000 });
	await expect(adaOnBea).toContainText('muted');
	await expect(beaOnAda).toContainText('talking');
	await ada.getByRole('button', { name: 'Unmute', exact: true }).click();
	await expect(adaOnBea).toContainText('talking', { timeout: 10_000 });

	// Ada leaves: she is gone from Bea's list; Bea is alone in it.
	await ada.getByRole('button', { name: 'Leave huddle' }).click();
	await expect(adaOnBea).toHaveCount(0, { timeout: 20_000 });
	await expect(beaList.getByRole('listitem')).toHaveText([/Bea \(you\)/]);
	await expect(ada.getByRole('button', { name: 'Join huddle (1)' })).toBeVisible();
});
