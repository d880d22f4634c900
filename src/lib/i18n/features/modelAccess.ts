/** UI text of per-role model access (which roles may use each shared model) in English (spread into en.ts; the Chinese is in modelAccess.zh.ts, loaded only when chosen). */
export const modelAccessEn = {
	'modelAccess.title': 'Model access',
	'modelAccess.help':
		'Which roles may use each model shared in this workspace. Every peer that runs a model checks this itself and refuses other roles. Relay: the relay may reach the model on a member\'s device for its /v1 API.',
	'modelAccess.model': 'Model',
	'modelAccess.none': 'No model is shared in this workspace yet.',
	'modelAccess.default': '(default)',
	'modelAccess.allow': '{role} may use {model}',
	'modelAccess.failed': 'Could not change model access: {error}',
	'modelAccess.optionBlocked': '{option} — not allowed for your role',
	'modelAccess.noneForYourRole': 'Your role may not use any model shared here. An owner or admin can allow it under Models → Model access.'
} as const;
