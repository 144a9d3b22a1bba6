// Where the router is, read once at start-up from /config.json, which the server decides
// (`vidgraph dev` serves it), so one build works against a platform on any port.

export interface AppConfig {
  graphqlUrl: string;
  wsUrl: string;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  const value = (await response.json()) as Partial<AppConfig>;
  if (typeof value.graphqlUrl !== 'string' || typeof value.wsUrl !== 'string') {
    throw new Error('/config.json must name graphqlUrl and wsUrl');
  }
  return { graphqlUrl: value.graphqlUrl, wsUrl: value.wsUrl };
}
