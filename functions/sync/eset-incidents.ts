import * as z from 'zod/mini';

/**
 * What the sync reads from ESET's incident list and comment list (ESET-CONNECT.md, "The rest of an
 * incident's life"): only the fields it uses, each checked; ESET may add fields freely. An item
 * that does not parse is left out alone, the rest of the page is used.
 */
const Incident = z.looseObject({
  uuid: z.string().check(z.regex(/^[0-9A-Za-z-]{1,64}$/)),
  displayName: z.optional(z.string()),
  description: z.optional(z.string()),
  status: z.string(),
  severity: z.optional(z.string()),
  resolveReason: z.optional(z.string()),
  createTime: z.optional(z.string()),
  updateTime: z.string().check(z.refine((t) => !Number.isNaN(Date.parse(t)))),
});
const Page = z.looseObject({
  incidents: z.optional(z.array(z.unknown())),
  nextPageToken: z.optional(z.string()),
});
const Comment = z.looseObject({
  uuid: z.string().check(z.minLength(1), z.maxLength(64)),
  text: z.optional(z.string()),
  authorUuid: z.optional(z.string()),
  createTime: z.optional(z.string()),
  isFinalComment: z.optional(z.boolean()),
});
const Comments = z.looseObject({ comments: z.optional(z.array(z.unknown())) });

export type EsetIncident = z.infer<typeof Incident>;
export type EsetComment = z.infer<typeof Comment>;

export const CLOSED_STATUS = 'INCIDENT_STATUS_CLOSED';

/** ESET's severities, lowest first; UNSPECIFIED (or anything unknown) ranks below LOW. */
const SEVERITY_RANK: Record<string, number> = {
  INCIDENT_SEVERITY_LEVEL_LOW: 1,
  INCIDENT_SEVERITY_LEVEL_MEDIUM: 2,
  INCIDENT_SEVERITY_LEVEL_HIGH: 3,
};
const MIN_RANK: Record<string, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };

export function atLeast(incident: EsetIncident, minSeverity: string): boolean {
  return (SEVERITY_RANK[incident.severity ?? ''] ?? 0) >= (MIN_RANK[minSeverity] ?? 2);
}

export function isClosed(incident: EsetIncident): boolean {
  return incident.status === CLOSED_STATUS;
}

/** One page of `GET /v2/incidents`: the incidents that parse, how many did not, the next page's token. */
export function parsePage(
  json: unknown,
): { incidents: EsetIncident[]; invalid: number; next: string } | undefined {
  const page = z.safeParse(Page, json);
  if (!page.success) return undefined;
  const incidents: EsetIncident[] = [];
  let invalid = 0;
  for (const item of page.data.incidents ?? []) {
    const parsed = z.safeParse(Incident, item);
    if (parsed.success) incidents.push(parsed.data);
    else invalid += 1;
  }
  return { incidents, invalid, next: page.data.nextPageToken ?? '' };
}

/** `GET /v2/incidents/{uuid}/comments`, oldest first (ESET lists them by create time). */
export function parseComments(json: unknown): EsetComment[] | undefined {
  const list = z.safeParse(Comments, json);
  if (!list.success) return undefined;
  const comments: EsetComment[] = [];
  for (const item of list.data.comments ?? []) {
    const parsed = z.safeParse(Comment, item);
    if (parsed.success) comments.push(parsed.data);
  }
  return comments;
}

/** `INCIDENT_RESOLVE_REASON_FALSE_POSITIVE` -> `false positive`. */
export function reasonText(reason: string | undefined): string {
  const short = (reason ?? '')
    .replace(/^INCIDENT_RESOLVE_REASON_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
  return short === '' || short === 'unspecified' ? 'unspecified' : short;
}

/** `INCIDENT_SEVERITY_LEVEL_HIGH` -> `HIGH`. */
export function severityText(severity: string | undefined): string {
  return (severity ?? '').replace(/^INCIDENT_SEVERITY_LEVEL_/, '') || 'UNSPECIFIED';
}
