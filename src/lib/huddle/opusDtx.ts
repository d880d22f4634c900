/**
 * Opus with discontinuous transmission (DTX): while a person is silent (or muted) the encoder
 * sends a comfort-noise packet every 400 ms instead of 50 packets a second, which matters in a
 * full mesh where every voice goes to every other browser. Browsers turn it on when the SDP's
 * Opus `a=fmtp` line carries `usedtx=1`; this adds it to a local description before it is set.
 */

/** `sdp` with `usedtx=1` on the fmtp line of every Opus payload type (kept as it is when present). */
export function withOpusDtx(sdp: string): string {
	const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
	const lines = sdp.split(eol);
	const opus = new Set<string>();
	for (const line of lines) {
		const match = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
		if (match) opus.add(match[1]!);
	}
	const withFmtp = new Set<string>();
	const out = lines.map((line) => {
		const match = /^a=fmtp:(\d+) (.*)$/.exec(line);
		if (!match || !opus.has(match[1]!)) return line;
		withFmtp.add(match[1]!);
		const params = match[2]!.split(';').filter((p) => !/^\s*usedtx=/.test(p));
		return `a=fmtp:${match[1]} ${[...params, 'usedtx=1'].join(';')}`;
	});
	// An Opus payload type with no fmtp line gets one after its rtpmap line.
	for (const pt of opus) {
		if (withFmtp.has(pt)) continue;
		const at = out.findIndex((line) => line.startsWith(`a=rtpmap:${pt} `));
		out.splice(at + 1, 0, `a=fmtp:${pt} usedtx=1`);
	}
	return out.join(eol);
}
