/** UI text of the channelAi feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const channelAiEn = {} as const;

export const channelAiZh: Record<keyof typeof channelAiEn, string> = {};
