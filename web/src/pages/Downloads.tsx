import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useClient, useMutation, useQuery, useSubscription } from 'urql';
import { Empty, ErrorMessage, Loading } from '../components/common';
import { graphql } from '../gql';
import type { DownloadMode, DownloadRowFieldsFragment, DownloadProgressSubscription, ParseUrlQuery } from '../gql/graphql';
import { useUser } from '../session-context';

const QuotaQuery = graphql(`
  query MyQuota {
    myQuota {
      used
      limit
      remaining
      resetsAt
    }
  }
`);

const ParseUrl = graphql(`
  query ParseUrl($url: String!) {
    parseUrl(url: $url) {
      url
      title
      platform
      durationSecs
      formats {
        id
        quality
        container
        sizeBytes
      }
    }
  }
`);

graphql(`
  fragment DownloadRowFields on Download {
    id
    title
    url
    platform
    mode
    status
    bytesDone
    bytesTotal
    sizeBytes
    fileName
    errorMessage
    createdAt
    fileUrl
  }
`);

const MyDownloads = graphql(`
  query MyDownloads($first: Int) {
    myDownloads(first: $first) {
      edges {
        node {
          ...DownloadRowFields
        }
      }
    }
  }
`);

const StartDownload = graphql(`
  mutation StartDownload($input: StartDownloadInput!) {
    startDownload(input: $input) {
      ...DownloadRowFields
    }
  }
`);

const ProgressSubscription = graphql(`
  subscription DownloadProgress($taskId: ID!) {
    downloadProgress(taskId: $taskId) {
      taskId
      kind
      bytesDone
      bytesTotal
      percent
      speedBps
      etaSecs
      errorCode
    }
  }
`);

type Progress = DownloadProgressSubscription['downloadProgress'];
type Parsed = ParseUrlQuery['parseUrl'];

const ACTIVE = new Set(['QUEUED', 'RUNNING']);
const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function Downloads() {
  const user = useUser();
  if (!user) {
    return (
      <section>
        <h1>Downloads</h1>
        <p>
          <Link to="/sign-in">Sign in</Link> to download videos.
        </p>
      </section>
    );
  }
  return <DownloadCentre />;
}

function DownloadCentre() {
  const client = useClient();
  const [quota, refetchQuota] = useQuery({ query: QuotaQuery });
  const [history, refetchHistory] = useQuery({ query: MyDownloads, variables: { first: 20 } });
  const [url, setUrl] = useState('');
  const [parsed, setParsed] = useState<Parsed | null>(null);
  const [parseError, setParseError] = useState<Parameters<typeof ErrorMessage>[0]['error']>(undefined);
  const [parsing, setParsing] = useState(false);
  const [formatId, setFormatId] = useState<string | null>(null);
  const [mode, setMode] = useState<DownloadMode>('QUICK');
  const [started, start] = useMutation(StartDownload);

  const refresh = useCallback(() => {
    refetchHistory({ requestPolicy: 'network-only' });
    refetchQuota({ requestPolicy: 'network-only' });
  }, [refetchHistory, refetchQuota]);

  const parse = async (event: FormEvent) => {
    event.preventDefault();
    setParsing(true);
    setParsed(null);
    const result = await client.query(ParseUrl, { url: url.trim() }, { requestPolicy: 'network-only' }).toPromise();
    setParsing(false);
    setParseError(result.error);
    if (result.data) {
      setParsed(result.data.parseUrl);
      setFormatId(result.data.parseUrl.formats[0]?.id ?? null);
    }
  };

  const startIt = async () => {
    if (!parsed) return;
    const reply = await start({ input: { url: parsed.url, formatId, mode, idempotencyKey: crypto.randomUUID() } });
    if (reply.data) {
      setParsed(null);
      setUrl('');
      refresh();
    }
  };

  const downloads = history.data?.myDownloads.edges.map((edge) => edge.node) ?? [];
  return (
    <section className="downloads">
      <h1>Downloads</h1>
      <p className="quota" data-testid="quota">
        {quota.data ? (
          quota.data.myQuota.limit === null || quota.data.myQuota.limit === undefined ? (
            <>Used today: {quota.data.myQuota.used} (no daily limit)</>
          ) : (
            <>
              Used today: {quota.data.myQuota.used} of {quota.data.myQuota.limit}; resets {new Date(quota.data.myQuota.resetsAt).toLocaleString()}
            </>
          )
        ) : null}
      </p>
      <ErrorMessage error={quota.error} />

      <form className="parse" onSubmit={(e) => void parse(e)}>
        <input type="url" name="url" placeholder="Paste a video URL" aria-label="Video URL" value={url} onChange={(e) => setUrl(e.target.value)} required />
        <button type="submit" disabled={parsing || url.trim() === ''}>
          {parsing ? 'Reading…' : 'Read'}
        </button>
      </form>
      <ErrorMessage error={parseError} />

      {parsed ? (
        <div className="parsed" data-testid="parsed">
          <h2>{parsed.title}</h2>
          <p className="muted">{parsed.platform}</p>
          <fieldset>
            <legend>Format</legend>
            {parsed.formats.map((format) => (
              <label key={format.id} className="choice">
                <input type="radio" name="format" value={format.id} checked={formatId === format.id} onChange={() => setFormatId(format.id)} />
                {[format.quality, format.container, formatBytes(format.sizeBytes)].filter(Boolean).join(' · ')}
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>Keep it</legend>
            <label className="choice">
              <input type="radio" name="mode" checked={mode === 'QUICK'} onChange={() => setMode('QUICK')} /> Quick (kept for a day)
            </label>
            <label className="choice">
              <input type="radio" name="mode" checked={mode === 'ARCHIVE'} onChange={() => setMode('ARCHIVE')} /> Archive (kept)
            </label>
          </fieldset>
          <ErrorMessage error={started.error} />
          <button type="button" onClick={() => void startIt()} disabled={started.fetching}>
            Start download
          </button>
        </div>
      ) : null}

      <h2>History</h2>
      <ErrorMessage error={history.error} />
      {history.fetching && downloads.length === 0 ? <Loading what="your downloads" /> : null}
      {!history.fetching && !history.error && downloads.length === 0 ? <Empty>No downloads yet.</Empty> : null}
      <ul className="download-list">
        {downloads.map((download) => (
          <DownloadRow key={download.id} download={download} onFinished={refresh} />
        ))}
      </ul>
    </section>
  );
}

function DownloadRow({ download, onFinished }: { download: DownloadRowFieldsFragment; onFinished: () => void }) {
  const active = ACTIVE.has(download.status);
  const [progress] = useSubscription({ query: ProgressSubscription, variables: { taskId: download.id }, pause: !active });
  const live: Progress | undefined = active ? progress.data?.downloadProgress : undefined;
  const finished = live !== undefined && FINISHED.has(live.kind);
  // The row's own status, size and file link come from the history: read it again once the
  // task has ended.
  useEffect(() => {
    if (finished) onFinished();
  }, [finished, onFinished]);
  const done = live?.bytesDone ?? download.bytesDone;
  const total = live?.bytesTotal ?? download.bytesTotal ?? download.sizeBytes;
  const percent = download.status === 'COMPLETED' ? 100 : (live?.percent ?? (total ? (100 * done) / total : 0));
  return (
    <li className="download" data-testid="download" data-status={download.status}>
      <div className="row">
        <strong>{download.title}</strong>
        <span className="muted"> · {download.mode === 'QUICK' ? 'quick' : 'archive'} · {download.status.toLowerCase()}</span>
      </div>
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)}>
        <div className="fill" style={{ width: `${Math.min(100, percent)}%` }} />
      </div>
      <div className="row muted">
        <span data-testid="percent">{Math.round(percent)} %</span>
        <span>
          {' '}
          · {formatBytes(done)} of {formatBytes(total)}
        </span>
        {live && active ? (
          <span>
            {' '}
            · {formatBytes(live.speedBps)}/s{live.etaSecs !== null && live.etaSecs !== undefined ? ` · ${live.etaSecs} s left` : ''}
          </span>
        ) : null}
        {download.errorMessage ? <span className="error"> · {download.errorMessage}</span> : null}
      </div>
      <ErrorMessage error={progress.error} />
      {download.status === 'COMPLETED' && download.fileUrl ? (
        <a href={download.fileUrl} download={download.fileName ?? true} data-testid="save-file">
          Save file ({formatBytes(download.sizeBytes)})
        </a>
      ) : null}
    </li>
  );
}
