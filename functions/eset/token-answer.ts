import * as z from 'zod/mini';

const TokenAnswer = z.object({
  access_token: z.string().check(z.minLength(1)),
  refresh_token: z.optional(z.string()),
  expires_in: z.optional(z.number()),
});
export type TokenAnswer = z.infer<typeof TokenAnswer>;

/**
 * ESET IAM's answer to a token request; throws when it carries no usable token. Its own module:
 * the token provider imports it on its first token request, not at cold start.
 */
export function parseTokenAnswer(value: unknown): TokenAnswer {
  return z.parse(TokenAnswer, value);
}
