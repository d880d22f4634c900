/** UI text of per-role tool access (which roles may use each tool the relay shares) in English (spread into en.ts; the Chinese is in toolAccess.zh.ts, loaded only when chosen). */
export const toolAccessEn = {
	'toolAccess.title': 'Tools',
	'toolAccess.help':
		'Which roles may use each tool the relay shares from its MCP servers. The relay checks this before every call and refuses other roles; a tool with no rule is open to owners, admins and members.',
	'toolAccess.tool': 'Tool',
	'toolAccess.loading': 'Asking the relay for its tools…',
	'toolAccess.none': 'The relay offers no tools. Its operator adds MCP servers with --mcp.',
	'toolAccess.default': '(default)',
	'toolAccess.notListed': 'not offered by the relay now',
	'toolAccess.allow': '{role} may use {tool}',
	'toolAccess.notArchived': 'The relay does not keep a copy of this workspace, so it shares no tools with it. Add the workspace to the relay in the Invite dialog first.',
	'toolAccess.unreachable': 'The relay cannot be reached (or this app was not opened from a relay), so its tools cannot be listed. Connect to the relay and try again.',
	'toolAccess.listFailed': 'Could not list the relay’s tools: {error}',
	'toolAccess.retry': 'List the relay’s tools again',
	'toolAccess.failed': 'Could not change tool access: {error}'
} as const;
