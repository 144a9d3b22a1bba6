// The admin console: admins only. It holds forms (./AdminPanels, ./AdminOperations) and GraphiQL, from our own bundle (no CDN), on
// the router, sending the signed-in admin's token with every request.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { useApp, useUser } from '../session-context';
import { DeadLettersPanel, GiftsAndMedalsPanel, ModerationPanel, PlatformDeadLettersPanel, RankingPanel, WeekStarPanel } from './AdminOperations';
import { PkWhitelistPanel, PostReviewPanel, PushPanel } from './AdminPanels';

const TABS = ['GraphiQL', 'Community', 'Moderation', 'Live', 'Gifts and medals', 'Ranking', 'Week stars', 'Dead letters'] as const;

type FetcherParams = { query: string; operationName?: string | null; variables?: unknown };

export default function Admin() {
  const { config, session } = useApp();
  const user = useUser();
  const [tab, setTab] = useState<(typeof TABS)[number]>('GraphiQL');
  const fetcher = useMemo(
    () => async (params: FetcherParams) => {
      const token = await session.accessToken();
      const response = await fetch(config.graphqlUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/graphql-response+json, application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(params),
      });
      return response.json();
    },
    [config, session],
  );
  if (!user) {
    return (
      <section>
        <h1>Admin console</h1>
        <p>
          <Link to="/sign-in">Sign in</Link> with an admin account.
        </p>
      </section>
    );
  }
  if (user.role !== 'ADMIN') {
    return (
      <section>
        <h1>Admin console</h1>
        <p className="error">Only admins can open the admin console.</p>
      </section>
    );
  }
  return (
    <section className="admin">
      <h1>Admin console</h1>
      <div className="tabs" role="tablist" aria-label="Admin">
        {TABS.map((name) => (
          <button type="button" role="tab" key={name} aria-selected={tab === name} onClick={() => setTab(name)}>
            {name}
          </button>
        ))}
      </div>
      {tab === 'GraphiQL' ? (
        <div className="graphiql-frame" data-testid="graphiql">
          <GraphiQL fetcher={fetcher} defaultQuery="{ __typename }" />
        </div>
      ) : null}
      {tab === 'Community' ? (
        <>
          <PushPanel />
          <PostReviewPanel />
        </>
      ) : null}
      {tab === 'Moderation' ? <ModerationPanel /> : null}
      {tab === 'Live' ? <PkWhitelistPanel /> : null}
      {tab === 'Gifts and medals' ? <GiftsAndMedalsPanel /> : null}
      {tab === 'Ranking' ? <RankingPanel /> : null}
      {tab === 'Week stars' ? <WeekStarPanel /> : null}
      {tab === 'Dead letters' ? (
        <>
          <DeadLettersPanel />
          <PlatformDeadLettersPanel />
        </>
      ) : null}
    </section>
  );
}
