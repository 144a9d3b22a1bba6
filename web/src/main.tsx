import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { refresherFor } from './api/auth';
import { SESSION_STORAGE_KEY, Session } from './auth/session';
import { loadConfig } from './config';
import './styles.css';

const root = createRoot(document.getElementById('root')!);

loadConfig().then(
  (config) => {
    const session = new Session(window.localStorage, refresherFor(config.graphqlUrl));
    window.addEventListener('storage', (event) => {
      if (event.key === SESSION_STORAGE_KEY) session.adoptStored();
    });
    root.render(
      <StrictMode>
        <App config={config} session={session} />
      </StrictMode>,
    );
  },
  (error: unknown) => {
    root.render(<p className="error">The app could not start: {String(error)}</p>);
  },
);
