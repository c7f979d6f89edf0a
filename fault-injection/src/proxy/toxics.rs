//! The toxics: what each fault is ([`ToxicKind`], Toxiproxy's vocabulary), which requests it
//! applies to ([`Matcher`]), the seeded per-request draw ([`decide`]), and how a fired toxic
//! delivers, delays, cuts or drops a message ([`deliver`]). Message framing is `http.rs`'s job.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::{End, Event, Shared, State};

/// Piece size when only a bandwidth limit shapes a message.
const BANDWIDTH_PIECE: usize = 4 * 1024;

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

/// A toxic that fired for one message, with its seed-drawn parameters.
#[derive(Debug, Clone)]
pub(super) struct Fired {
    name: String,
    kind: ToxicKind,
    /// Latency with jitter applied.
    delay: Duration,
    /// Seeds the slicer's piece sizes.
    slice_seed: u64,
}

/// Numbers the request, draws every matching toxic (journaling each draw) and returns the
/// toxics that fired, upstream and downstream. All draws happen here, in request order, so
/// timing never changes what the seed decides.
pub(super) fn decide(shared: &Shared, method: &str, target: &str) -> (Vec<Fired>, Vec<Fired>) {
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
pub(super) async fn deliver<W: AsyncWrite + Unpin>(
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

    /// A proxy state with `installed` toxics and no connections.
    fn shared(installed: Vec<Toxic>) -> Shared {
        Shared {
            upstream: std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
            state: std::sync::Mutex::new(State {
                toxics: installed,
                journal: Vec::new(),
                rng: StdRng::seed_from_u64(0),
                next_request: 1,
            }),
            changed: tokio::sync::Notify::new(),
            counters: super::super::Counters::default(),
        }
    }

    fn fired(kind: ToxicKind, delay: Duration) -> Fired {
        Fired {
            name: "t".into(),
            kind,
            delay,
            slice_seed: 1,
        }
    }

    /// Delivers `msg` through `fired` into a buffer; returns the end, the bytes written, the
    /// socket writes and the (virtual) time it took.
    async fn run(
        sh: &Shared,
        msg: &[u8],
        fired: &[Fired],
    ) -> (Option<End>, Vec<u8>, u64, Duration) {
        let (mut out, mut sent, writes) = (Vec::new(), 0, AtomicU64::new(0));
        let t0 = Instant::now();
        let end = deliver(&mut out, msg, fired, &mut sent, sh, &writes).await;
        (end, out, writes.load(Ordering::Relaxed), t0.elapsed())
    }

    fn about(d: Duration, ms: u64) -> bool {
        // The timer wheel rounds deadlines up to the next millisecond.
        (ms..=ms + 2).contains(&(d.as_millis() as u64))
    }

    #[tokio::test(start_paused = true)]
    async fn latency_then_bandwidth_pace_the_message() {
        let msg = vec![7u8; 8 * 1024];
        let latency = ToxicKind::Latency {
            latency: Duration::from_millis(300),
            jitter: Duration::ZERO,
        };
        let fired = [
            fired(latency, Duration::from_millis(300)),
            fired(ToxicKind::Bandwidth { kb_per_sec: 4 }, Duration::ZERO),
        ];
        let (end, out, writes, took) = run(&shared(vec![]), &msg, &fired).await;
        assert_eq!((end, out == msg, writes), (None, true, 2));
        // 300 ms of latency, then 8 KiB at 4 KiB/s.
        assert!(about(took, 2_300), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn slicer_pauses_between_pieces_only() {
        let msg = vec![1u8; 1_000];
        let slicer = ToxicKind::Slicer {
            avg_size: 100,
            size_variation: 0,
            delay: Duration::from_millis(50),
        };
        let (end, out, writes, took) =
            run(&shared(vec![]), &msg, &[fired(slicer, Duration::ZERO)]).await;
        assert_eq!((end, out == msg, writes), (None, true, 10));
        assert!(about(took, 9 * 50), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn reset_and_timeout_end_the_connection_after_their_delay_without_writing() {
        let sh = shared(vec![]);
        let reset = ToxicKind::ResetPeer {
            after: Duration::from_millis(200),
        };
        let (end, out, _, took) = run(&sh, b"abc", &[fired(reset, Duration::ZERO)]).await;
        assert_eq!((end, out.len()), (Some(End::Reset), 0));
        assert!(about(took, 200), "{took:?}");
        let timeout = ToxicKind::Timeout {
            after: Some(Duration::from_secs(1)),
        };
        let (end, out, _, took) = run(&sh, b"abc", &[fired(timeout, Duration::ZERO)]).await;
        assert_eq!((end, out.len()), (Some(End::Close), 0));
        assert!(about(took, 1_000), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn limit_data_cuts_the_message_and_closes() {
        let limit = ToxicKind::LimitData { bytes: 4 };
        let (end, out, _, _) = run(
            &shared(vec![]),
            b"abcdefgh",
            &[fired(limit, Duration::ZERO)],
        )
        .await;
        assert_eq!((end, out.as_slice()), (Some(End::Close), &b"abcd"[..]));
    }

    #[tokio::test(start_paused = true)]
    async fn blackhole_holds_the_message_until_its_toxic_is_removed() {
        let blackhole = ToxicKind::Timeout { after: None };
        let toxic = Toxic::new("t", blackhole.clone(), Direction::Upstream);
        let sh = std::sync::Arc::new(shared(vec![toxic]));
        let remover = {
            let sh = sh.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                sh.lock().toxics.clear();
                sh.changed.notify_waiters();
            })
        };
        let (end, out, _, took) = run(&sh, b"abc", &[fired(blackhole, Duration::ZERO)]).await;
        assert_eq!((end, out.as_slice()), (None, &b"abc"[..]));
        assert!(about(took, 5_000), "{took:?}");
        remover.await.unwrap();
    }
}
