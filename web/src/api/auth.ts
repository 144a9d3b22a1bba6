// The calls that change who is signed in. The refresh and logout calls go straight to the
// router (not through the urql client, whose requests wait for a fresh token themselves).
import { stringifyDocument } from 'urql';
import { RefreshRejected, type Tokens } from '../auth/session';
import { graphql } from '../gql';
import type { AuthFieldsFragment } from '../gql/graphql';

export const AuthFields = graphql(`
  fragment AuthFields on AuthPayload {
    accessToken
    accessTokenExpiresAt
    refreshToken
    user {
      id
      username
      displayName
      role
    }
  }
`);

export const LoginMutation = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ...AuthFields
    }
  }
`);

export const RegisterMutation = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      ...AuthFields
    }
  }
`);

const RefreshMutation = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      ...AuthFields
    }
  }
`);

const LogoutMutation = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

export function toTokens(payload: AuthFieldsFragment): Tokens {
  return { ...payload, user: { ...payload.user, role: payload.user.role ?? null } };
}

interface GraphQLReply<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function post<T>(url: string, query: string, variables: Record<string, unknown>): Promise<GraphQLReply<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLReply<T>;
}

/** The session's refresher: new tokens, or `RefreshRejected` when the server refuses. */
export function refresherFor(graphqlUrl: string) {
  const query = stringifyDocument(RefreshMutation);
  return async (refreshToken: string): Promise<Tokens> => {
    const reply = await post<{ refreshToken: AuthFieldsFragment }>(graphqlUrl, query, { refreshToken });
    const payload = reply.data?.refreshToken;
    if (payload) return toTokens(payload);
    const error = reply.errors?.[0];
    if (error?.extensions?.code === 'UNAUTHENTICATED') {
      throw new RefreshRejected(error.message);
    }
    throw new Error(error?.message ?? 'refresh failed');
  };
}

/** Revokes the refresh token (best effort: signing out locally happens either way). */
export async function revoke(graphqlUrl: string, refreshToken: string): Promise<void> {
  try {
    await post(graphqlUrl, stringifyDocument(LogoutMutation), { refreshToken });
  } catch {
    // Offline: the token expires on its own.
  }
}
