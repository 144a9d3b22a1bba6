import { Suspense, lazy, useMemo } from 'react';
import { BrowserRouter, Link, NavLink, Route, Routes, useNavigate } from 'react-router-dom';
import { Provider } from 'urql';
import { revoke } from './api/auth';
import { createClient } from './api/client';
import type { Session } from './auth/session';
import { Loading } from './components/common';
import type { AppConfig } from './config';
import { Home } from './pages/Home';
import { NotFound } from './pages/NotFound';
import { SignIn, SignUp } from './pages/Auth';
import { Downloads } from './pages/Downloads';
import { LiveRoom, LiveRooms } from './pages/Live';
import { VideoPage } from './pages/Video';
import { Context, useApp, useUser } from './session-context';

// GraphiQL (and its editor) is most of the app's weight and only admins open it.
const Admin = lazy(() => import('./pages/Admin'));
// The community pages come in one chunk, loaded when one of them (or the header's badges) is shown.
const community = () => import('./pages/Community');
const Zones = lazy(() => community().then((m) => ({ default: m.Zones })));
const ZonePage = lazy(() => community().then((m) => ({ default: m.ZonePage })));
const PostPage = lazy(() => community().then((m) => ({ default: m.PostPage })));
const UserPage = lazy(() => community().then((m) => ({ default: m.UserPage })));
const FollowingDynamics = lazy(() => community().then((m) => ({ default: m.FollowingDynamics })));
const Notifications = lazy(() => community().then((m) => ({ default: m.Notifications })));
const Conversations = lazy(() => community().then((m) => ({ default: m.Conversations })));
const ConversationPage = lazy(() => community().then((m) => ({ default: m.ConversationPage })));
const UnreadBadges = lazy(() => community().then((m) => ({ default: m.UnreadBadges })));

function Lazy({ what, children }: { what: string; children: React.ReactNode }) {
  return <Suspense fallback={<Loading what={what} />}>{children}</Suspense>;
}

export function App({ config, session }: { config: AppConfig; session: Session }) {
  const context = useMemo(() => ({ config, session }), [config, session]);
  return (
    <Context.Provider value={context}>
      <BrowserRouter>
        <ClientForUser />
      </BrowserRouter>
    </Context.Provider>
  );
}

/** A fresh client (and cache) per user: one viewer's likes never show as another's. */
function ClientForUser() {
  const { config, session } = useApp();
  const user = useUser();
  const client = useMemo(() => createClient(config, session), [config, session, user?.id]);
  return (
    <Provider value={client}>
      <Header />
      <main>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/video/:id" element={<VideoPage />} />
          <Route path="/live" element={<LiveRooms />} />
          <Route path="/live/:id" element={<LiveRoom />} />
          <Route path="/downloads" element={<Downloads />} />
          <Route path="/community" element={<Lazy what="the community"><Zones /></Lazy>} />
          <Route path="/community/zone/:id" element={<Lazy what="the zone"><ZonePage /></Lazy>} />
          <Route path="/community/post/:id" element={<Lazy what="the post"><PostPage /></Lazy>} />
          <Route path="/user/:id" element={<Lazy what="the user"><UserPage /></Lazy>} />
          <Route path="/dynamics" element={<Lazy what="dynamics"><FollowingDynamics /></Lazy>} />
          <Route path="/notifications" element={<Lazy what="notifications"><Notifications /></Lazy>} />
          <Route path="/messages" element={<Lazy what="messages"><Conversations /></Lazy>} />
          <Route path="/messages/:userId" element={<Lazy what="messages"><ConversationPage /></Lazy>} />
          <Route path="/sign-in" element={<SignIn />} />
          <Route path="/sign-up" element={<SignUp />} />
          <Route
            path="/admin/*"
            element={
              <Suspense fallback={<Loading what="the admin console" />}>
                <Admin />
              </Suspense>
            }
          />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </Provider>
  );
}

function Header() {
  const { config, session } = useApp();
  const user = useUser();
  const navigate = useNavigate();
  const signOut = async () => {
    const token = session.refreshToken;
    session.signOut();
    if (token) await revoke(config.graphqlUrl, token);
    navigate('/');
  };
  return (
    <header className="top">
      <Link to="/" className="brand">
        vidgraph
      </Link>
      <nav>
        <NavLink to="/" end>
          Home
        </NavLink>
        <NavLink to="/live">Live</NavLink>
        <NavLink to="/downloads">Downloads</NavLink>
        <NavLink to="/community">Community</NavLink>
        {user ? <NavLink to="/dynamics">Dynamics</NavLink> : null}
        {user?.role === 'ADMIN' ? <NavLink to="/admin">Admin</NavLink> : null}
      </nav>
      <div className="account">
        {user ? (
          <>
            <Suspense fallback={null}>
              <UnreadBadges />
            </Suspense>
            <NavLink to={`/user/${user.id}`} className="who" data-testid="signed-in-as">
              {user.displayName}
            </NavLink>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </>
        ) : (
          <>
            <NavLink to="/sign-in">Sign in</NavLink>
            <NavLink to="/sign-up">Sign up</NavLink>
          </>
        )}
      </div>
    </header>
  );
}
