/** UI text of the exchange feature, English and Simplified Chinese (spread into en.ts and zh-CN.ts). */
export const exchangeEn = {} as const;

export const exchangeZh: Record<keyof typeof exchangeEn, string> = {};
