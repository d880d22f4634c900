/** UI text of the search feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const searchEn = {} as const;

export const searchZh: Record<keyof typeof searchEn, string> = {};
