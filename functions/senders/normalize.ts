/** Lower-case, letters and digits only: `False positive`, `FALSE_POSITIVE`, `FalsePositive` compare equal. */
export const normalizeKey = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
