/** UI text of huddles (audio calls in a channel) in English (spread into en.ts; the Chinese is in huddle.zh.ts, loaded only when chosen). */
export const huddleEn = {
	'huddle.start': 'Start huddle',
	'huddle.join': 'Join huddle ({count})',
	'huddle.region': 'Huddle',
	'huddle.people': 'People in the huddle',
	'huddle.you': '{name} (you)',
	'huddle.muted': 'muted',
	'huddle.talkingNote': ', talking',
	'huddle.mutedNote': ', muted',
	'huddle.connecting': 'connecting…',
	'huddle.mute': 'Mute',
	'huddle.unmute': 'Unmute',
	'huddle.leave': 'Leave huddle',
	'huddle.full': 'This huddle is full ({max} people). Try again when someone leaves.',
	'huddle.microphone': 'Outpost could not use your microphone ({error}). Allow microphone access for this site, then try again.',
	'huddle.unavailable': 'Huddles are not available yet: wait until this device is connected to the mesh, then try again.'
} as const;
