/** ESET Connect regions; each gives an incident-management and an IAM host. */
export const ESET_REGIONS = ['eu', 'de', 'us', 'ca', 'jpn'] as const;
export type EsetRegion = (typeof ESET_REGIONS)[number];
