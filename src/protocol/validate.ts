/** The checks the message validators (this folder) are built from. */
export type Obj = Record<string, unknown>;
export const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** A non-negative integer. */
export const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
export const isStr = (x: unknown): x is string => typeof x === 'string';
export const isShortStr = (x: unknown, max = 4096): x is string => isStr(x) && x.length > 0 && x.length <= max;
export const optional = <T>(x: unknown, check: (v: unknown) => v is T): boolean => x === undefined || check(x);
export const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
