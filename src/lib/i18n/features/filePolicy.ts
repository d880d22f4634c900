/** UI text of the workspace's file policy in English (spread into en.ts; the Chinese is in filePolicy.zh.ts). */
export const filePolicyEn = {
	'filePolicy.title': 'Files',
	'filePolicy.help': 'Applies to everyone in the workspace: every device refuses to attach, fetch or pass on a file this rule forbids. Blocking a type goes by the type and name the sender’s device declares.',
	'filePolicy.current': 'Files up to {max}; images and voice notes up to {auto} arrive at once. Blocked: {blocked}.',
	'filePolicy.noneBlocked': 'nothing',
	'filePolicy.maxMb': 'Largest file (MB)',
	'filePolicy.autoMb': 'Fetch images and voice notes at once up to (MB)',
	'filePolicy.blocked': 'Blocked types',
	'filePolicy.blockedHint': 'Comma-separated: MIME types (application/x-msdownload), families (video/*) or name endings (.exe).',
	'filePolicy.save': 'Save file rules',
	'filePolicy.saved': 'File rules saved.',
	'filePolicy.badNumber': 'Enter sizes from 1 MB to 4096 MB (0 for the at-once size: nothing arrives before it is opened).',
	'filePolicy.badType': 'Not a type this rule can block: “{entry}”. Use a MIME type such as video/mp4, a family such as video/*, or an ending such as .exe (at most 32).',
	'filePolicy.failed': 'Could not save the file rules: {error}'
} as const;
