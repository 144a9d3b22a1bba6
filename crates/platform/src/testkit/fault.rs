//! [`FaultProxy`]: a TCP proxy in front of a shared backend, so a test can take the backend
//! away from the code under test (and give it back) without touching the service itself, which
//! every other test is using.
//!
//! ```no_run
//! # async fn example(services: &vidgraph_platform::testkit::TestServices) {
//! use vidgraph_platform::testkit::FaultProxy;
//! let mut config = services.config();
//! let postgres = FaultProxy::in_front_of_url(&mut config.db.url).await;
//! // … build the code under test from `config` …
//! postgres.cut().await; // every open connection closes, new ones are closed at once
//! postgres.restore(); // connections go through again
//! # }
//! ```

use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// An in-process TCP proxy bound to `127.0.0.1:0`, forwarding to one target address.
///
/// While [cut](FaultProxy::cut), every connection it carried is closed and every new one is
/// accepted and closed at once (a client sees its connection reset, as when a server goes
/// away). [`FaultProxy::restore`] lets new connections through again. Dropping the proxy stops
/// it and closes everything it carried.
pub struct FaultProxy {
    addr: SocketAddr,
    cut: watch::Sender<bool>,
    accepted: Arc<AtomicU64>,
    open: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `target` (`host:port`).
    pub async fn start(target: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the fault proxy");
        let addr = listener.local_addr().expect("fault proxy address");
        let (cut, _) = watch::channel(false);
        let (accepted, open) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let task = tokio::spawn(accept_loop(listener, target.to_owned(), cut.clone(), accepted.clone(), open.clone()));
        FaultProxy { addr, cut, accepted, open, task }
    }

    /// Starts a proxy to the host and port of the URL in `url` (`scheme://[user@]host:port/…`)
    /// and rewrites `url` to go through it.
    pub async fn in_front_of_url(url: &mut SecretString) -> FaultProxy {
        let (target, rewrite) = split_authority(url.expose_secret());
        let proxy = FaultProxy::start(&target).await;
        *url = SecretString::from(rewrite(&proxy.addr.to_string()));
        proxy
    }

    /// Like [`FaultProxy::in_front_of_url`] for a URL that is no secret (Redis, NATS).
    pub async fn in_front_of_plain_url(url: &mut String) -> FaultProxy {
        let (target, rewrite) = split_authority(url);
        let proxy = FaultProxy::start(&target).await;
        *url = rewrite(&proxy.addr.to_string());
        proxy
    }

    /// The proxy's own address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far (cut or not).
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes every open connection and refuses new ones until [`FaultProxy::restore`];
    /// returns once every connection it carried is closed.
    pub async fn cut(&self) {
        self.cut.send_replace(true);
        while self.open.load(Ordering::SeqCst) > 0 {
            tokio::task::yield_now().await;
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Connections end with it: each one watches `cut`, whose sender is dropped here.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, target: String, cut: watch::Sender<bool>, accepted: Arc<AtomicU64>, open: Arc<AtomicU64>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else { continue };
        accepted.fetch_add(1, Ordering::SeqCst);
        if *cut.borrow() {
            drop(inbound);
            continue;
        }
        open.fetch_add(1, Ordering::SeqCst);
        let open = OpenGuard(open.clone());
        tokio::spawn(forward(inbound, target.clone(), cut.subscribe(), open));
    }
}

/// Counts a carried connection until its task ends (however it ends).
struct OpenGuard(Arc<AtomicU64>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Carries one connection until either side closes it or the proxy is cut (or dropped).
async fn forward(mut inbound: TcpStream, target: String, mut cut: watch::Receiver<bool>, open: OpenGuard) {
    if let Ok(mut outbound) = TcpStream::connect(&target).await {
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
            // Ends on a cut, and on the proxy's drop (the sender is gone).
            _ = cut.wait_for(|cut| *cut) => {}
        }
    }
    // Both sockets are closed before the connection stops counting as open.
    drop((inbound, cut));
    drop(open);
}

/// Splits `scheme://[userinfo@]host:port[/rest]` into the `host:port` and a function that
/// puts another authority in its place.
fn split_authority(url: &str) -> (String, impl Fn(&str) -> String + use<>) {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (userinfo, host_and_rest) = match rest.split_once('@') {
        Some((userinfo, after)) if !userinfo.contains('/') => (Some(userinfo.to_owned()), after),
        _ => (None, rest),
    };
    let split_at = host_and_rest.find(['/', '?']).unwrap_or(host_and_rest.len());
    let (authority, tail) = host_and_rest.split_at(split_at);
    let target = authority.to_owned();
    let (scheme, tail) = (scheme.to_owned(), tail.to_owned());
    let rewrite = move |addr: &str| match &userinfo {
        Some(userinfo) => format!("{scheme}://{userinfo}@{addr}{tail}"),
        None => format!("{scheme}://{addr}{tail}"),
    };
    (target, rewrite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_authority_of_a_url_is_replaced_and_the_rest_kept() {
        let (target, rewrite) = split_authority("postgres://postgres:pw@127.0.0.1:5432/vgtest_1?sslmode=disable");
        assert_eq!(target, "127.0.0.1:5432");
        assert_eq!(rewrite("127.0.0.1:9"), "postgres://postgres:pw@127.0.0.1:9/vgtest_1?sslmode=disable");
        let (target, rewrite) = split_authority("redis://127.0.0.1:6379");
        assert_eq!(target, "127.0.0.1:6379");
        assert_eq!(rewrite("127.0.0.1:9"), "redis://127.0.0.1:9");
    }

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
        stream.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await?;
        Ok(buf.to_vec())
    }

    #[tokio::test]
    async fn a_cut_closes_open_connections_and_refuses_new_ones_until_restored() {
        let proxy = FaultProxy::start(&echo_server().await.to_string()).await;
        let mut open = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(round_trip(&mut open).await.expect("through the proxy"), b"ping");

        proxy.cut().await;
        assert!(round_trip(&mut open).await.is_err(), "the open connection was closed");
        let mut fresh = TcpStream::connect(proxy.addr()).await.expect("the listener still accepts");
        assert!(round_trip(&mut fresh).await.is_err(), "a new connection is closed at once");

        proxy.restore();
        let mut again = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(round_trip(&mut again).await.expect("through again"), b"ping");
        assert_eq!(proxy.accepted(), 3);
    }
}
