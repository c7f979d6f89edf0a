//! A seeded, HTTP-aware TCP proxy with the Toxiproxy vocabulary.
//!
//! [`Proxy::start`] listens on a local address and forwards every client connection to one
//! upstream address over its own upstream connection. Unlike Toxiproxy, which sees only bytes,
//! the proxy parses HTTP/1.1 messages (request or status line, headers, and a `Content-Length`
//! or chunked body), so faults are decided **per request**: a [`Toxic`] can be limited to
//! requests whose path or query matches a [`Matcher`] (for example `type=heartbeat`), and its
//! toxicity is drawn for each request from one seeded RNG. Upstream toxics act on the request,
//! downstream toxics on the answer to that request; both are drawn when the request is read,
//! so the same seed with the same request sequence gives the same [`Proxy::journal`].
//!
//! Toxics can be added and removed while traffic flows; each request uses the toxics in force
//! when it was read. This module holds no SLS knowledge: SLS error answers are the emulator's
//! job (`sls_emulator::faults`).
//!
//! Layout: this file runs connections (accept, pump requests and answers, journal, counters);
//! `http.rs` frames HTTP/1.1 messages; `toxics.rs` defines the faults, draws them per request
//! and applies them to a message.

mod http;
mod toxics;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use http::MessageReader;
use toxics::{decide, deliver, Fired};
pub use toxics::{Direction, Matcher, Toxic, ToxicKind};

/// What the proxy can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The listening address could not be bound or read back.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A toxic with this name is already installed; remove it first.
    #[error("a toxic named {0:?} already exists")]
    DuplicateToxic(String),
    /// No toxic with this name is installed.
    #[error("no toxic named {0:?}")]
    NoSuchToxic(String),
    /// Toxicity must be a probability in `0.0..=1.0`.
    #[error("toxicity {0} is not in 0.0..=1.0")]
    InvalidToxicity(f64),
}

/// One journal entry: a toxic that matched a request, and whether the seeded draw made it fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Request number, from 1, in the order the proxy read requests (all connections).
    pub request: u64,
    /// Request method.
    pub method: String,
    /// Request target (path and query).
    pub target: String,
    /// The toxic's name.
    pub toxic: String,
    /// The toxic's direction.
    pub direction: Direction,
    /// The draw's outcome: `true` if the toxic acts on this request or its answer.
    pub fired: bool,
    /// For a fired latency toxic, the delay drawn (latency with jitter).
    pub delay: Option<Duration>,
}

/// Traffic counters, for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Client connections accepted.
    pub connections: u64,
    /// Requests read from clients.
    pub requests: u64,
    /// Answers read from the server.
    pub responses: u64,
    /// Socket writes towards the server (each slicer piece is one).
    pub upstream_writes: u64,
    /// Socket writes towards clients.
    pub downstream_writes: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    responses: AtomicU64,
    upstream_writes: AtomicU64,
    downstream_writes: AtomicU64,
}

struct State {
    toxics: Vec<Toxic>,
    journal: Vec<Event>,
    rng: StdRng,
    next_request: u64,
}

struct Shared {
    upstream: SocketAddr,
    state: Mutex<State>,
    /// Woken whenever the toxic set changes (blackholes wait on it).
    changed: Notify,
    counters: Counters,
}

impl Shared {
    // A std Mutex: every critical section is short and never spans an `.await`.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn has_toxic(&self, name: &str) -> bool {
        self.lock().toxics.iter().any(|t| t.name == name)
    }
}

/// A running proxy. Dropping it stops accepting and closes every proxied connection.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// Binds `listen` (port 0 picks a free port) and forwards each connection to `upstream`.
    /// `seed` decides every probabilistic choice (toxicity, jitter, slice sizes).
    ///
    /// # Errors
    /// [`ProxyError::Bind`] if the address cannot be bound.
    pub async fn start(
        listen: SocketAddr,
        upstream: SocketAddr,
        seed: u64,
    ) -> Result<Proxy, ProxyError> {
        let bind_err = |source| ProxyError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State {
                toxics: Vec::new(),
                journal: Vec::new(),
                rng: StdRng::seed_from_u64(seed),
                next_request: 1,
            }),
            changed: Notify::new(),
            counters: Counters::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        tracing::info!(%addr, %upstream, seed, "fault proxy listening");
        Ok(Proxy {
            addr,
            shared,
            stop,
            task,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Installs a toxic; it applies to requests read from now on, on every connection.
    ///
    /// # Errors
    /// [`ProxyError::DuplicateToxic`] if the name is taken, [`ProxyError::InvalidToxicity`] if
    /// the toxicity is not a probability.
    pub fn add_toxic(&self, toxic: Toxic) -> Result<(), ProxyError> {
        if !(0.0..=1.0).contains(&toxic.toxicity) {
            return Err(ProxyError::InvalidToxicity(toxic.toxicity));
        }
        {
            let mut st = self.shared.lock();
            if st.toxics.iter().any(|t| t.name == toxic.name) {
                return Err(ProxyError::DuplicateToxic(toxic.name));
            }
            st.toxics.push(toxic);
        }
        self.shared.changed.notify_waiters();
        Ok(())
    }

    /// Removes a toxic and returns it; a message it holds (blackhole) is delivered.
    ///
    /// # Errors
    /// [`ProxyError::NoSuchToxic`] if no toxic has this name.
    pub fn remove_toxic(&self, name: &str) -> Result<Toxic, ProxyError> {
        let removed = {
            let mut st = self.shared.lock();
            let pos = st.toxics.iter().position(|t| t.name == name);
            pos.map(|i| st.toxics.remove(i))
        };
        self.shared.changed.notify_waiters();
        removed.ok_or_else(|| ProxyError::NoSuchToxic(name.to_string()))
    }

    /// Removes every toxic.
    pub fn clear(&self) {
        self.shared.lock().toxics.clear();
        self.shared.changed.notify_waiters();
    }

    /// The toxics installed now.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.shared.lock().toxics.clone()
    }

    /// Every draw so far, in request order.
    pub fn journal(&self) -> Vec<Event> {
        self.shared.lock().journal.clone()
    }

    /// Traffic counters.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            connections: c.connections.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            responses: c.responses.load(Ordering::Relaxed),
            upstream_writes: c.upstream_writes.load(Ordering::Relaxed),
            downstream_writes: c.downstream_writes.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting, closes every proxied connection and waits for the accept loop.
    pub async fn shutdown(self) {
        let mut this = self;
        let _ = this.stop.send(true);
        let _ = (&mut this.task).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        let client = match accepted {
            Ok((client, _)) => client,
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                continue;
            }
        };
        shared.counters.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => {}
                _ = serve(client, shared) => {}
            }
        });
    }
}

/// How a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Closed normally (FIN).
    Close,
    /// Closed with RST.
    Reset,
}

/// What the answer side needs to know about a request.
struct Pending {
    head: bool,
    downstream: Vec<Fired>,
}

async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut server = match TcpStream::connect(shared.upstream).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "upstream connect failed");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let end = {
        let (cr, cw) = client.split();
        let (sr, sw) = server.split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::select! {
            e = pump_requests(cr, sw, tx, &shared) => e,
            e = pump_answers(sr, cw, rx, &shared) => e,
        }
    };
    if end == End::Reset {
        // Linger 0 makes the close below send RST instead of FIN.
        let _ = client.set_zero_linger();
        let _ = server.set_zero_linger();
    }
}

async fn pump_requests<R, W>(
    r: R,
    mut w: W,
    tx: mpsc::UnboundedSender<Pending>,
    shared: &Shared,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = MessageReader::new(r);
    let mut sent = 0u64;
    loop {
        let msg = match reader.read_request().await {
            Ok(Some(m)) => m,
            Ok(None) => return End::Close,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read request");
                return End::Close;
            }
        };
        shared.counters.requests.fetch_add(1, Ordering::Relaxed);
        let (up, down) = decide(shared, &msg.method, &msg.target);
        let head = msg.method.eq_ignore_ascii_case("HEAD");
        if tx
            .send(Pending {
                head,
                downstream: down,
            })
            .is_err()
        {
            return End::Close;
        }
        let counter = &shared.counters.upstream_writes;
        if let Some(end) = deliver(&mut w, &msg.bytes, &up, &mut sent, shared, counter).await {
            return end;
        }
    }
}

async fn pump_answers<R, W>(
    r: R,
    mut w: W,
    mut rx: mpsc::UnboundedReceiver<Pending>,
    shared: &Shared,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = MessageReader::new(r);
    let mut sent = 0u64;
    loop {
        // While no request waits for an answer, watch the server side too: a server that
        // closes an idle connection (or dies) closes the client's, as it would without us.
        let next = if !reader.has_buffered() {
            tokio::select! {
                p = rx.recv() => p,
                more = reader.fill() => match more {
                    Ok(true) => continue,
                    Ok(false) | Err(_) => return End::Close,
                },
            }
        } else {
            rx.recv().await
        };
        let Some(pending) = next else {
            break;
        };
        let msg = match reader.read_response(pending.head).await {
            Ok(Some(m)) => m,
            Ok(None) => return End::Close,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read answer");
                return End::Close;
            }
        };
        shared.counters.responses.fetch_add(1, Ordering::Relaxed);
        let fired = &pending.downstream;
        let counter = &shared.counters.downstream_writes;
        if let Some(end) = deliver(&mut w, &msg.bytes, fired, &mut sent, shared, counter).await {
            return end;
        }
    }
    // The request side ended; let the select end on its outcome.
    std::future::pending().await
}
