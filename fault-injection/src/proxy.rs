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

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Largest accepted request or status line plus headers.
const MAX_HEAD: usize = 64 * 1024;
/// Piece size when only a bandwidth limit shapes a message.
const BANDWIDTH_PIECE: usize = 4 * 1024;

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

/// Which way the data a toxic acts on flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: the toxic acts on requests.
    Upstream,
    /// Server to client: the toxic acts on the answer to a request.
    Downstream,
}

/// The fault itself (Toxiproxy's `toxics/*.go`, applied per HTTP message).
#[derive(Debug, Clone, PartialEq)]
pub enum ToxicKind {
    /// Delays the message by `latency` ± a uniform draw within `jitter` (never below zero).
    Latency {
        /// Base delay.
        latency: Duration,
        /// Maximum deviation either way.
        jitter: Duration,
    },
    /// Sends the message at no more than `kb_per_sec` KiB per second.
    Bandwidth {
        /// Rate in KiB/s (0 is treated as 1).
        kb_per_sec: u64,
    },
    /// Holds the message for `after`, then closes both connections with a TCP RST: the
    /// client sees "connection reset". Downstream, the server has already handled the request.
    ResetPeer {
        /// Delay before the reset.
        after: Duration,
    },
    /// Drops the message. With `Some(d)`, closes the connection (FIN) after `d`; with `None`
    /// (blackhole) holds it until the toxic is removed, then delivers it.
    Timeout {
        /// When to close; `None` holds the message while the toxic is installed.
        after: Option<Duration>,
    },
    /// Writes the message in pieces of `avg_size` ± `size_variation` bytes (drawn from the
    /// seed), pausing `delay` between pieces.
    Slicer {
        /// Average piece size in bytes (0 is treated as 1).
        avg_size: usize,
        /// Maximum deviation of a piece's size either way.
        size_variation: usize,
        /// Pause between pieces.
        delay: Duration,
    },
    /// Closes the connection once `bytes` bytes have passed in this direction on it (counting
    /// every message of the connection); the message crossing the limit is cut there.
    LimitData {
        /// Bytes allowed per connection in this direction.
        bytes: u64,
    },
}

/// Which requests a toxic applies to: every set field must be contained in the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    /// A substring of the path (the request target before `?`).
    pub path_contains: Option<String>,
    /// A substring of the query (after `?`), e.g. `type=heartbeat`.
    pub query_contains: Option<String>,
    /// The method, compared case-insensitively (e.g. `POST`).
    pub method: Option<String>,
}

impl Matcher {
    /// A matcher on the query only.
    pub fn query(s: &str) -> Matcher {
        Matcher {
            query_contains: Some(s.to_string()),
            ..Matcher::default()
        }
    }

    /// A matcher on the path only.
    pub fn path(s: &str) -> Matcher {
        Matcher {
            path_contains: Some(s.to_string()),
            ..Matcher::default()
        }
    }

    fn matches(&self, method: &str, target: &str) -> bool {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        self.path_contains
            .as_deref()
            .is_none_or(|p| path.contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// One installed fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Toxic {
    /// Unique name, used to remove it.
    pub name: String,
    /// What it does.
    pub kind: ToxicKind,
    /// Which way it acts.
    pub direction: Direction,
    /// Probability, drawn per request, that it applies (`1.0` = always).
    pub toxicity: f64,
    /// Restricts it to some requests; `None` = every request.
    pub matcher: Option<Matcher>,
}

impl Toxic {
    /// An always-on toxic for every request.
    pub fn new(name: &str, kind: ToxicKind, direction: Direction) -> Toxic {
        Toxic {
            name: name.to_string(),
            kind,
            direction,
            toxicity: 1.0,
            matcher: None,
        }
    }

    /// Sets the toxicity.
    pub fn with_toxicity(mut self, toxicity: f64) -> Toxic {
        self.toxicity = toxicity;
        self
    }

    /// Restricts to matching requests.
    pub fn with_matcher(mut self, matcher: Matcher) -> Toxic {
        self.matcher = Some(matcher);
        self
    }
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

/// A toxic that fired for one message, with its seed-drawn parameters.
#[derive(Debug, Clone)]
struct Fired {
    name: String,
    kind: ToxicKind,
    /// Latency with jitter applied.
    delay: Duration,
    /// Seeds the slicer's piece sizes.
    slice_seed: u64,
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
        let next = if reader.buf.is_empty() {
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

/// Numbers the request, draws every matching toxic (journaling each draw) and returns the
/// toxics that fired, upstream and downstream. All draws happen here, in request order, so
/// timing never changes what the seed decides.
fn decide(shared: &Shared, method: &str, target: &str) -> (Vec<Fired>, Vec<Fired>) {
    let mut st = shared.lock();
    let State {
        toxics,
        journal,
        rng,
        next_request,
    } = &mut *st;
    let request = *next_request;
    *next_request += 1;
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for t in toxics.iter() {
        if !t.matcher.as_ref().is_none_or(|m| m.matches(method, target)) {
            continue;
        }
        let fired = rng.gen::<f64>() < t.toxicity;
        // Only a fired latency toxic has a delay (and draws its jitter).
        let delay = match &t.kind {
            ToxicKind::Latency { latency, jitter } if fired => {
                Some(jittered(rng, *latency, *jitter))
            }
            _ => None,
        };
        if fired {
            let f = Fired {
                name: t.name.clone(),
                kind: t.kind.clone(),
                delay: delay.unwrap_or(Duration::ZERO),
                slice_seed: rng.gen(),
            };
            match t.direction {
                Direction::Upstream => up.push(f),
                Direction::Downstream => down.push(f),
            }
        }
        journal.push(Event {
            request,
            method: method.to_string(),
            target: target.to_string(),
            toxic: t.name.clone(),
            direction: t.direction,
            fired,
            delay,
        });
    }
    (up, down)
}

fn jittered(rng: &mut StdRng, latency: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return latency;
    }
    let j = jitter.as_secs_f64();
    let offset = rng.gen_range(-j..=j);
    Duration::from_secs_f64((latency.as_secs_f64() + offset).max(0.0))
}

/// Writes one message through the fired toxics. Returns how the connection must end, or
/// `None` to go on with the next message.
async fn deliver<W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &[u8],
    fired: &[Fired],
    sent: &mut u64,
    shared: &Shared,
    writes: &AtomicU64,
) -> Option<End> {
    let delay: Duration = fired.iter().map(|f| f.delay).sum();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    for f in fired {
        match f.kind {
            ToxicKind::ResetPeer { after } => {
                tokio::time::sleep(after).await;
                return Some(End::Reset);
            }
            ToxicKind::Timeout { after: Some(after) } => {
                tokio::time::sleep(after).await;
                return Some(End::Close);
            }
            ToxicKind::Timeout { after: None } => hold_while_installed(shared, &f.name).await,
            _ => {}
        }
    }
    let limit = fired
        .iter()
        .filter_map(|f| match f.kind {
            ToxicKind::LimitData { bytes } => Some(bytes),
            _ => None,
        })
        .min();
    let mut body = msg;
    let mut cut = false;
    if let Some(limit) = limit {
        let room = usize::try_from(limit.saturating_sub(*sent)).unwrap_or(usize::MAX);
        if room < body.len() {
            body = body.get(..room).unwrap_or_default();
            cut = true;
        }
    }
    if write_shaped(w, body, fired, writes).await.is_err() {
        return Some(End::Close);
    }
    *sent += body.len() as u64;
    cut.then_some(End::Close)
}

/// Waits until the named toxic is no longer installed.
async fn hold_while_installed(shared: &Shared, name: &str) {
    loop {
        let notified = shared.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !shared.has_toxic(name) {
            return;
        }
        notified.await;
    }
}

/// Splits by the slicer (or in small pieces under a bandwidth limit) and paces the writes.
async fn write_shaped<W: AsyncWrite + Unpin>(
    w: &mut W,
    body: &[u8],
    fired: &[Fired],
    writes: &AtomicU64,
) -> std::io::Result<()> {
    let slicer = fired.iter().find_map(|f| match f.kind {
        ToxicKind::Slicer {
            avg_size,
            size_variation,
            delay,
        } => Some((avg_size.max(1), size_variation, delay, f.slice_seed)),
        _ => None,
    });
    let rate = fired
        .iter()
        .filter_map(|f| match f.kind {
            ToxicKind::Bandwidth { kb_per_sec } => Some(kb_per_sec.max(1)),
            _ => None,
        })
        .min();
    let mut rng = StdRng::seed_from_u64(slicer.map_or(0, |s| s.3));
    let start = Instant::now();
    let mut done = 0usize;
    let mut rest = body;
    while !rest.is_empty() {
        let size = match (slicer, rate) {
            (Some((avg, var, _, _)), _) => {
                let low = avg.saturating_sub(var).max(1);
                rng.gen_range(low..=avg + var)
            }
            (None, Some(_)) => BANDWIDTH_PIECE,
            (None, None) => rest.len(),
        };
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        w.write_all(piece).await?;
        w.flush().await?;
        writes.fetch_add(1, Ordering::Relaxed);
        done += piece.len();
        rest = tail;
        if let Some(kb) = rate {
            let due = Duration::from_secs_f64(done as f64 / (kb as f64 * 1024.0));
            tokio::time::sleep_until(start + due).await;
        }
        if let Some((_, _, delay, _)) = slicer {
            if !rest.is_empty() && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }
    Ok(())
}

/// One HTTP message, verbatim, with what the toxics need from its first line.
struct Message {
    method: String,
    target: String,
    bytes: Vec<u8>,
}

/// How a message body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads whole HTTP/1.1 messages from a byte stream, keeping their exact bytes.
struct MessageReader<R> {
    r: R,
    buf: Vec<u8>,
}

impl<R: AsyncRead + Unpin> MessageReader<R> {
    fn new(r: R) -> Self {
        MessageReader { r, buf: Vec::new() }
    }

    /// Reads more bytes into the buffer; `false` at end of stream. Cancel-safe: bytes join
    /// the buffer only once a read has completed.
    async fn fill(&mut self) -> std::io::Result<bool> {
        self.buf.reserve(16 * 1024);
        // `read_buf` is cancel-safe: it appends only what a completed read returned.
        let n = self.r.read_buf(&mut self.buf).await?;
        Ok(n > 0)
    }

    /// Takes bytes up to and including the first `delim`; `None` at a clean end of stream.
    async fn take_through(&mut self, delim: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf.windows(delim.len()).position(|w| w == delim) {
                return Ok(Some(self.buf.drain(..i + delim.len()).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("HTTP head too large"));
            }
            if !self.fill().await? {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    async fn take_exact(&mut self, n: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        out.extend(self.buf.drain(..n));
        Ok(())
    }

    async fn read_request(&mut self) -> std::io::Result<Option<Message>> {
        let Some(head) = self.take_through(b"\r\n\r\n").await? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&head);
        let mut first = text.lines().next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_string();
        let target = first.next().unwrap_or_default().to_string();
        let framing = match framing(&text)? {
            Framing::UntilClose => Framing::Length(0),
            f => f,
        };
        let bytes = self.read_body(head, framing).await?;
        Ok(Some(Message {
            method,
            target,
            bytes,
        }))
    }

    async fn read_response(&mut self, head_request: bool) -> std::io::Result<Option<Message>> {
        let Some(head) = self.take_through(b"\r\n\r\n").await? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&head);
        let status: u16 = text
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("bad status line"))?;
        let no_body = head_request || status / 100 == 1 || status == 204 || status == 304;
        let framing = if no_body {
            Framing::Length(0)
        } else {
            framing(&text)?
        };
        let bytes = self.read_body(head, framing).await?;
        Ok(Some(Message {
            method: String::new(),
            target: String::new(),
            bytes,
        }))
    }

    async fn read_body(&mut self, mut out: Vec<u8>, framing: Framing) -> std::io::Result<Vec<u8>> {
        match framing {
            Framing::Length(n) => self.take_exact(n, &mut out).await?,
            Framing::Chunked => loop {
                let line = self
                    .take_through(b"\r\n")
                    .await?
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                let size_text = String::from_utf8_lossy(&line);
                let size_hex = size_text.trim().split(';').next().unwrap_or_default();
                let size =
                    usize::from_str_radix(size_hex, 16).map_err(|_| invalid("bad chunk size"))?;
                out.extend(line);
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let t = self
                            .take_through(b"\r\n")
                            .await?
                            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                        let last = t.len() == 2;
                        out.extend(t);
                        if last {
                            break;
                        }
                    }
                    break;
                }
                self.take_exact(size + 2, &mut out).await?;
            },
            Framing::UntilClose => {
                out.append(&mut self.buf);
                while self.fill().await? {
                    out.append(&mut self.buf);
                }
            }
        }
        Ok(out)
    }
}

fn framing(head: &str) -> std::io::Result<Framing> {
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            return Ok(Framing::Chunked);
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n = value.parse().map_err(|_| invalid("bad Content-Length"))?;
            return Ok(Framing::Length(n));
        }
    }
    Ok(Framing::UntilClose)
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_checks_path_query_and_method() {
        let m = Matcher::query("type=heartbeat");
        assert!(m.matches(
            "POST",
            "/logstores/a/consumergroups/g?type=heartbeat&consumer=c"
        ));
        assert!(!m.matches("POST", "/logstores/a/shards/lb"));
        let m = Matcher {
            method: Some("get".into()),
            ..Matcher::path("/logstores")
        };
        assert!(m.matches("GET", "/logstores?offset=0"));
        assert!(!m.matches("POST", "/logstores"));
        assert!(!m.matches("GET", "/?x=/logstores"));
    }

    #[tokio::test]
    async fn reader_keeps_messages_verbatim_and_splits_keep_alive() {
        let raw: &[u8] =
            b"POST /a?b=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
        let mut r = MessageReader::new(raw);
        let m = r
            .read_request()
            .await
            .ok()
            .flatten()
            .map(|m| (m.method, m.target, m.bytes));
        assert_eq!(
            m,
            Some((
                "POST".into(),
                "/a?b=1".into(),
                raw.get(..46).unwrap_or_default().to_vec()
            ))
        );
        let m = r.read_request().await.ok().flatten().map(|m| m.target);
        assert_eq!(m.as_deref(), Some("/"));
        assert!(matches!(r.read_request().await, Ok(None)));
    }

    #[tokio::test]
    async fn reader_passes_chunked_answers_through() {
        let raw: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let mut r = MessageReader::new(raw);
        let first = r
            .read_response(false)
            .await
            .ok()
            .flatten()
            .map(|m| m.bytes.len());
        assert_eq!(first, Some(raw.len() - 27));
        assert!(r.read_response(false).await.ok().flatten().is_some());
        assert!(matches!(r.read_response(false).await, Ok(None)));
    }

    #[test]
    fn same_seed_same_draws() {
        let draws = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..8)
                .map(|_| {
                    jittered(
                        &mut rng,
                        Duration::from_millis(10),
                        Duration::from_millis(5),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }
}
