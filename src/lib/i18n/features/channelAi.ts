/** UI text of models answering in channels (`@model question`) (English; the Chinese is in channelAi.zh.ts, loaded only when chosen). */
export const channelAiEn = {
	'channelAi.badge': 'AI',
	'channelAi.servedBy': 'on {name}',
	'channelAi.askedBy': 'asked by {name}',
	'channelAi.servedByAskedBy': 'on {name} · asked by {asker}',
	'channelAi.queued': 'Waiting: {count} ahead',
	'channelAi.writing': 'Writing…',
	'channelAi.stop': 'Stop',
	'channelAi.stopped': 'Stopped before the end.',
	'channelAi.failed': 'The answer stopped: {error}',
	'channelAi.askFailed': 'The model could not answer: {error}',
	'channelAi.stats': '{tokens} tokens · {speed} tokens/s',
	'channelAi.hint': 'Start a message with @ and a model name to ask it: {models}',
	'channelAi.tools': 'Tools for @model',
	'channelAi.toolsScope': 'Tools read only what everyone in this channel may read; the tool loop runs on this device.',
	'channelAi.toolsAlways': 'Always in this channel',
	'channelAi.equivocated': 'Its host signed more than one ending of this answer: the earliest is shown.',
	'channelAi.equivocatedLabel': 'An answer with more than one ending'
} as const;
