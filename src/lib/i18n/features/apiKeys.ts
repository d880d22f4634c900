/** UI text of the apiKeys feature in English (spread into en.ts; the Chinese is in apiKeys.zh.ts, loaded only when chosen). */
export const apiKeysEn = {
	'apiKeys.open': 'API keys',
	'apiKeys.title': 'API keys',
	'apiKeys.help':
		'Programs that speak the OpenAI API (editors, scripts, SDKs) can use this workspace’s models through the relay at {url}/v1 with one of these keys. Owners and admins make and revoke them; a key stops working when the member who made it is no longer an owner or admin.',
	'apiKeys.list': 'API keys of this workspace',
	'apiKeys.none': 'No API keys yet.',
	'apiKeys.created': 'created {date}',
	'apiKeys.revoke': 'Revoke',
	'apiKeys.revokeNamed': 'Revoke {name}',
	'apiKeys.confirmTitle': 'Revoke {name}?',
	'apiKeys.confirmRevoke': 'Programs using this key are refused from now on, and this cannot be undone: create a new key for them if they still need one.',
	'apiKeys.name': 'Key name',
	'apiKeys.namePlaceholder': 'What the key is for, e.g. “Editor plugin”',
	'apiKeys.create': 'Create API key',
	'apiKeys.newKey': 'New API key',
	'apiKeys.newKeyHelp': 'Copy this key now: it is not shown again. It works until you revoke it.',
	'apiKeys.copy': 'Copy',
	'apiKeys.copied': 'Copied',
	'apiKeys.done': 'I have copied it',
	'apiKeys.notArchived': 'The relay does not keep a copy of this workspace, so it cannot check who its owners and admins are. Add the workspace to the relay in the Invite dialog first.',
	'apiKeys.unreachable': 'The relay cannot be reached (or this app was not opened from a relay). Connect to the relay and try again.',
	'apiKeys.retry': 'Try again',
	'apiKeys.emptyName': 'Give the key a name that says what it is for.',
	'apiKeys.tooLong': 'The key name is too long: at most 100 characters.',
	'apiKeys.failed': 'The relay refused: {error}'
} as const;
