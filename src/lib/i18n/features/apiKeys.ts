/** UI text of the apiKeys feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const apiKeysEn = {} as const;

export const apiKeysZh: Record<keyof typeof apiKeysEn, string> = {};
