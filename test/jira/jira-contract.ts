/**
 * Jira Cloud platform REST v3, transcribed by hand from Atlassian's published OpenAPI document
 * (`swagger-v3.v3.json`, https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json,
 * version 1001.0.0-SNAPSHOT-57a0ca5b4a0bb0ac5f3fee4764acb1c14e4d7e71): exactly the components
 * the bridge's Jira client sends and reads. `additionalProperties: false` in the spec becomes a
 * strict object, `true` a loose one; properties the client neither sends nor reads keep their
 * name with a loose type, so a strict object still refuses anything the spec does not list.
 * Each schema names its component.
 */
import { z } from 'zod';

/**
 * The spec says `format: date-time`, but its own examples and Jira write the offset without a
 * colon (`2021-01-17T12:34:00.000+0000`), which RFC 3339 does not allow; this is Jira's form.
 */
const JiraDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$/);
const Int32 = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);
const Int64 = z.number().int();
const Uri = z.url();
/** A component the client never reads, kept so strict parents still know the property. */
const NotRead = z.unknown();

/** components.schemas.ErrorCollection */
export const ErrorCollection = z.strictObject({
  errorMessages: z.array(z.string()).optional(),
  errors: z.record(z.string(), z.string()).optional(),
  status: Int32.optional(),
});

/** components.schemas.AvatarUrlsBean */
const AvatarUrlsBean = z.strictObject({
  '16x16': Uri.optional(),
  '24x24': Uri.optional(),
  '32x32': Uri.optional(),
  '48x48': Uri.optional(),
});

/** components.schemas.User (answer of GET /rest/api/3/myself) */
export const User = z.strictObject({
  accountId: z.string().max(128).optional(),
  accountType: z.enum(['atlassian', 'app', 'customer', 'unknown']).optional(),
  active: z.boolean().optional(),
  appType: z.string().optional(),
  applicationRoles: NotRead.optional(),
  avatarUrls: AvatarUrlsBean.optional(),
  displayName: z.string().optional(),
  emailAddress: z.string().optional(),
  expand: z.string().optional(),
  groups: NotRead.optional(),
  key: z.string().optional(),
  locale: z.string().optional(),
  name: z.string().optional(),
  self: Uri.optional(),
  timeZone: z.string().optional(),
});

/** components.schemas.UserDetails (comment authors) */
export const UserDetails = z.strictObject({
  accountId: z.string().max(128).optional(),
  accountType: z.string().optional(),
  active: z.boolean().optional(),
  avatarUrls: AvatarUrlsBean.optional(),
  displayName: z.string().optional(),
  emailAddress: z.string().optional(),
  key: z.string().optional(),
  name: z.string().optional(),
  self: z.string().optional(),
  timeZone: z.string().optional(),
});

/** components.schemas.StatusCategory */
export const StatusCategory = z.looseObject({
  colorName: z.string().optional(),
  id: Int64.optional(),
  key: z.string().optional(),
  name: z.string().optional(),
  self: z.string().optional(),
});

/** components.schemas.StatusDetails */
export const StatusDetails = z.looseObject({
  iconUrl: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  scope: NotRead.optional(),
  self: z.string().optional(),
  statusCategory: StatusCategory.optional(),
});

/** components.schemas.IssueTransition */
export const IssueTransition = z.looseObject({
  expand: z.string().optional(),
  fields: z.record(z.string(), NotRead).optional(),
  hasScreen: z.boolean().optional(),
  id: z.string().optional(),
  isAvailable: z.boolean().optional(),
  isConditional: z.boolean().optional(),
  isGlobal: z.boolean().optional(),
  isInitial: z.boolean().optional(),
  looped: z.boolean().optional(),
  name: z.string().optional(),
  to: StatusDetails.optional(),
});

/** components.schemas.Transitions (answer of GET .../transitions) */
export const Transitions = z.strictObject({
  expand: z.string().optional(),
  transitions: z.array(IssueTransition).optional(),
});

/**
 * components.schemas.IssueBean. `fields` is `additionalProperties: {}` in the spec; the values
 * the client reads are typed by {@link IssueFieldsRead}.
 */
export const IssueBean = z.strictObject({
  changelog: NotRead.optional(),
  editmeta: NotRead.optional(),
  expand: z.string().optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
  fieldsToInclude: NotRead.optional(),
  id: z.string().optional(),
  key: z.string().optional(),
  names: z.record(z.string(), z.string()).optional(),
  operations: NotRead.optional(),
  properties: z.record(z.string(), NotRead).optional(),
  renderedFields: z.record(z.string(), NotRead).optional(),
  schema: z.record(z.string(), NotRead).optional(),
  self: Uri.optional(),
  transitions: z.array(IssueTransition).optional(),
  versionedRepresentations: z.record(z.string(), z.record(z.string(), NotRead)).optional(),
});

/**
 * The field values the client reads. The spec leaves them untyped: `status` has the shape of
 * StatusDetails, `resolution` that of components.schemas.Resolution (`id`, `name`, `self`) or
 * null when unresolved; Jira adds a `description`, so the object is loose.
 */
export const IssueFieldsRead = z.looseObject({
  summary: z.string().optional(),
  labels: z.array(z.string()).optional(),
  status: StatusDetails.optional(),
  resolution: z
    .looseObject({ id: z.string().optional(), name: z.string().optional(), self: Uri.optional() })
    .nullable()
    .optional(),
});

/** components.schemas.SearchAndReconcileRequestBean (body of POST /rest/api/3/search/jql) */
export const SearchAndReconcileRequestBean = z.strictObject({
  expand: z.string().optional(),
  fields: z.array(z.string()).optional(),
  fieldsByKeys: z.boolean().optional(),
  jql: z.string().optional(),
  maxResults: Int32.optional(),
  nextPageToken: z.string().optional(),
  properties: z.array(z.string()).optional(),
  reconcileIssues: z.array(Int64).optional(),
});

/** components.schemas.SearchAndReconcileResults (answer of POST /rest/api/3/search/jql) */
export const SearchAndReconcileResults = z.strictObject({
  isLast: z.boolean().optional(),
  issues: z.array(IssueBean).optional(),
  names: z.record(z.string(), z.string()).optional(),
  nextPageToken: z.string().optional(),
  schema: z.record(z.string(), NotRead).optional(),
});

/** components.schemas.IssueUpdateDetails (body of POST /rest/api/3/issue and of POST .../transitions) */
export const IssueUpdateDetails = z.looseObject({
  fields: z.record(z.string(), z.unknown()).optional(),
  historyMetadata: NotRead.optional(),
  properties: z.array(z.strictObject({ key: z.string().optional(), value: z.unknown() })).optional(),
  transition: IssueTransition.optional(),
  update: z.record(z.string(), z.array(NotRead)).optional(),
});

/** components.schemas.CreatedIssue (answer 201 of POST /rest/api/3/issue) */
export const CreatedIssue = z.strictObject({
  id: z.string().optional(),
  key: z.string().optional(),
  self: z.string().optional(),
  transition: NotRead.optional(),
  watchers: NotRead.optional(),
});

/** components.schemas.Visibility */
const Visibility = z.looseObject({
  identifier: z.string().nullable().optional(),
  type: z.enum(['group', 'role']).optional(),
  value: z.string().optional(),
});

/** components.schemas.Comment (answers of POST and items of GET .../comment) */
export const Comment = z.looseObject({
  author: UserDetails.optional(),
  body: z.unknown(),
  created: JiraDateTime.optional(),
  id: z.string().optional(),
  jsdAuthorCanSeeRequest: z.boolean().optional(),
  jsdPublic: z.boolean().optional(),
  properties: z.array(z.strictObject({ key: z.string().optional(), value: z.unknown() })).optional(),
  renderedBody: z.string().optional(),
  self: z.string().optional(),
  updateAuthor: UserDetails.optional(),
  updated: JiraDateTime.optional(),
  visibility: Visibility.optional(),
});

/**
 * components.schemas.Comment as a request body: only its writable properties (`body`,
 * `properties`, `visibility`); the rest are `readOnly` in the spec and must not be sent.
 */
export const CommentRequest = z.strictObject({
  body: z.unknown(),
  properties: Comment.shape.properties,
  visibility: Visibility.optional(),
});

/** components.schemas.PageOfComments (answer of GET .../comment) */
export const PageOfComments = z.looseObject({
  comments: z.array(Comment).optional(),
  maxResults: Int32.optional(),
  startAt: Int64.optional(),
  total: Int64.optional(),
});
