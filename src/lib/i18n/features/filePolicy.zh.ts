/** 工作区文件规则的界面文字（简体中文）。 */
export const filePolicyZh = {
	'filePolicy.title': '文件',
	'filePolicy.help': '适用于工作区中的所有人：每台设备都会拒绝附加、获取或转发此规则禁止的文件。按类型屏蔽依据的是发送方设备声明的类型和文件名。',
	'filePolicy.current': '文件最大 {max}；不超过 {auto} 的图片和语音消息会立即获取。已屏蔽：{blocked}。',
	'filePolicy.noneBlocked': '无',
	'filePolicy.maxMb': '最大文件（MB）',
	'filePolicy.autoMb': '立即获取的图片和语音消息上限（MB）',
	'filePolicy.blocked': '屏蔽的类型',
	'filePolicy.blockedHint': '用逗号分隔：MIME 类型（application/x-msdownload）、类型族（video/*）或文件名后缀（.exe）。',
	'filePolicy.save': '保存文件规则',
	'filePolicy.saved': '文件规则已保存。',
	'filePolicy.badNumber': '请输入 1 MB 到 4096 MB 之间的大小（立即获取上限可为 0：打开前不获取任何文件）。',
	'filePolicy.badType': '此规则无法屏蔽该类型：“{entry}”。请使用 MIME 类型（如 video/mp4）、类型族（如 video/*）或后缀（如 .exe），最多 32 个。',
	'filePolicy.failed': '无法保存文件规则：{error}'
} as const;
