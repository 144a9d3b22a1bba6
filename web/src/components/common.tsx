import type { CombinedError } from 'urql';

/** A GraphQL or network error as the person should read it: the server's message and code. */
export function ErrorMessage({ error }: { error: CombinedError | undefined }) {
  if (!error) return null;
  const graphQLErrors = error.graphQLErrors;
  return (
    <div className="error" role="alert">
      {graphQLErrors.length > 0
        ? graphQLErrors.map((e, i) => (
            <p key={i}>
              {e.message}
              {typeof e.extensions?.code === 'string' ? <span className="code"> ({e.extensions.code})</span> : null}
            </p>
          ))
        : <p>Cannot reach the server: {error.networkError?.message ?? error.message}</p>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" aria-busy="true">Loading {what}…</p>;
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

const count = new Intl.NumberFormat('en', { notation: 'compact' });

export function formatCount(n: number): string {
  return count.format(n);
}

export function formatDuration(secs: number): string {
  const m = Math.floor(secs / 60);
  const s = secs % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Runs a mutation and refetches the panel's query when it succeeded. */
export function useRefetchAfter(refetch: (opts: { requestPolicy: 'network-only' }) => void) {
  return async (run: () => Promise<{ data?: unknown }>) => {
    if ((await run()).data) refetch({ requestPolicy: 'network-only' });
  };
}
