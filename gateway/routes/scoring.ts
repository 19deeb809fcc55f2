import { createRoute } from '@hono/zod-openapi';
import { profileKey } from '../../services/score/phase.ts';
import { defaultProfile, IcpProfileSchema, parseProfile } from '../../services/score/profile.ts';
import { errorResponses, jsonBody } from '../openapi.ts';
import { createRouter } from '../validation.ts';

const Profile = IcpProfileSchema;

const getRoute = createRoute({
  method: 'get',
  path: '/scoring/profile',
  tags: ['scoring'],
  security: [{ bearer: [] }],
  description: "The account's ideal-customer profile, or the default B2B profile when none was set.",
  responses: {
    200: { description: 'The profile', content: { 'application/json': { schema: Profile } } },
    ...errorResponses(401, 429),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/scoring/profile',
  tags: ['scoring'],
  security: [{ bearer: [] }],
  description:
    'Replaces the profile. Omitted fields take their default; unknown fields are refused (400). ' +
    'The score service applies it within 30 s. Returns the stored profile, defaults filled in.',
  request: { body: jsonBody(Profile) },
  responses: {
    200: { description: 'The stored profile', content: { 'application/json': { schema: Profile } } },
    ...errorResponses(400, 401, 429),
  },
});

export const scoringRoutes = createRouter()
  .openapi(getRoute, async (c) => {
    const { deps, user } = c.var;
    const json = await deps.redis.get(profileKey(deps.key, user.account_id));
    if (json === null) return c.json(defaultProfile(), 200);
    // Only validated profiles are stored; one that no longer parses (schema change) reads as the default.
    const parsed = parseProfile(JSON.parse(json));
    return c.json(parsed.ok ? parsed.profile : defaultProfile(), 200);
  })
  .openapi(putRoute, async (c) => {
    const { deps, user } = c.var;
    const profile = c.req.valid('json');
    await deps.redis.set(profileKey(deps.key, user.account_id), JSON.stringify(profile));
    return c.json(profile, 200);
  });
