import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Session, SessionUser } from './auth/session';
import type { AppConfig } from './config';

export interface AppContext {
  config: AppConfig;
  session: Session;
}

export const Context = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(Context);
  if (!value) throw new Error('useApp outside <App>');
  return value;
}

/** The signed-in user, re-rendering when it changes. */
export function useUser(): SessionUser | null {
  const { session } = useApp();
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.user,
  );
}
