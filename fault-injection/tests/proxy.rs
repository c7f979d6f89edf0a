//! The network proxy against a real client (`sls-client`) and a real in-process emulator:
//! one test per toxic showing it does what it says, plus matcher, direction, run-time changes
//! and seeded determinism.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sls_client::{Client, CompressType, Config, Error, Log, LogContent, LogGroup, LogstoreSpec};
use sls_emulator::testing::TestServer;
use sls_fault_injection::proxy::{Direction, Matcher, Proxy, Toxic, ToxicKind};

type TestResult = Result<(), Box<dyn StdError>>;

const PROJECT: &str = "proxy-test";
const LOGSTORE: &str = "logs";

/// An emulator with a project and logstore, a proxy in front of it, and two clients: one
/// through the proxy, one direct (for setup and for checking what the server saw).
struct Env {
    server: TestServer,
    proxy: Proxy,
    direct: Client,
}

impl Env {
    async fn start(seed: u64) -> Result<Env, Box<dyn StdError>> {
        let server = TestServer::start().await?;
        let proxy = Proxy::start("127.0.0.1:0".parse()?, server.addr(), seed).await?;
        let direct = Client::new(config(&server, server.addr())?)?;
        direct.create_project(PROJECT, "proxy tests").await?;
        direct
            .create_logstore(PROJECT, &LogstoreSpec::new(LOGSTORE, 1))
            .await?;
        Ok(Env {
            server,
            proxy,
            direct,
        })
    }

    /// A client whose every connection goes through the proxy.
    fn client(&self, timeout: Duration) -> Client {
        let cfg = config(&self.server, self.proxy.addr())
            .unwrap()
            .with_request_timeout(timeout)
            .with_compression(CompressType::None);
        Client::new(cfg).unwrap()
    }
}

/// A client configuration reaching `addr` (the emulator or the proxy). reqwest ignores the
/// port of a resolver's answer, so the endpoint carries the port to reach and `with_connect_to`
/// only pins the IP (no `*.localhost` DNS); the emulator ignores the port in `Host`.
fn config(server: &TestServer, addr: SocketAddr) -> Result<Config, Box<dyn StdError>> {
    let c = server.config();
    Ok(Config::new(
        &format!("localhost:{}", addr.port()),
        &c.access_key_id,
        &c.access_key_secret,
    )?
    .with_connect_to(addr))
}

/// A LogGroup of `n` logs with `size` bytes of incompressible-enough text each.
fn group(n: usize, size: usize) -> LogGroup {
    let logs = (0..n)
        .map(|i| {
            let value: String = (0..size)
                .map(|j| char::from(b'a' + ((i * 31 + j * 7 + j / 13) % 26) as u8))
                .collect();
            Log {
                time: Some(1_700_000_000),
                contents: vec![LogContent {
                    key: "msg".into(),
                    value: value.into(),
                }],
                time_ns: None,
            }
        })
        .collect();
    LogGroup {
        logs,
        ..LogGroup::default()
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn latency(n: u64) -> ToxicKind {
    ToxicKind::Latency {
        latency: ms(n),
        jitter: Duration::ZERO,
    }
}

#[tokio::test]
async fn latency_delays_requests_and_changes_at_run_time() -> TestResult {
    let env = Env::start(1).await?;
    let client = env.client(ms(5000));
    client.get_project(PROJECT).await?;

    env.proxy
        .add_toxic(Toxic::new("slow", latency(200), Direction::Upstream))?;
    let t = Instant::now();
    client.get_project(PROJECT).await?;
    assert!(t.elapsed() >= ms(200), "took {:?}", t.elapsed());

    // Removed while the keep-alive connection stays open: the next request is fast again.
    env.proxy.remove_toxic("slow")?;
    let t = Instant::now();
    client.get_project(PROJECT).await?;
    assert!(t.elapsed() < ms(200), "took {:?}", t.elapsed());

    // Jitter: every drawn delay lies within latency ± jitter, and is what the call waited.
    let kind = ToxicKind::Latency {
        latency: ms(100),
        jitter: ms(50),
    };
    env.proxy
        .add_toxic(Toxic::new("jitter", kind, Direction::Downstream))?;
    for _ in 0..3 {
        let t = Instant::now();
        client.get_project(PROJECT).await?;
        let drawn = env.proxy.journal().last().unwrap().delay.unwrap();
        assert!(drawn >= ms(50) && drawn <= ms(150), "drawn {drawn:?}");
        assert!(t.elapsed() >= drawn, "took {:?} < {drawn:?}", t.elapsed());
    }
    Ok(())
}

#[tokio::test]
async fn bandwidth_limits_put_logs_throughput() -> TestResult {
    let env = Env::start(2).await?;
    let client = env.client(ms(10_000));
    let logs = group(256, 4096); // about 1 MiB, sent uncompressed
    env.proxy.add_toxic(Toxic::new(
        "narrow",
        ToxicKind::Bandwidth { kb_per_sec: 2048 },
        Direction::Upstream,
    ))?;
    let t = Instant::now();
    client.put_logs(PROJECT, LOGSTORE, &logs, None).await?;
    // 1 MiB at 2 MiB/s.
    assert!(t.elapsed() >= ms(490), "took {:?}", t.elapsed());

    env.proxy.clear();
    let t = Instant::now();
    client.put_logs(PROJECT, LOGSTORE, &logs, None).await?;
    assert!(t.elapsed() < ms(490), "unshaped took {:?}", t.elapsed());
    Ok(())
}

#[tokio::test]
async fn reset_peer_gives_a_retryable_network_error() -> TestResult {
    let env = Env::start(3).await?;
    let client = env.client(ms(5000));
    env.proxy.add_toxic(Toxic::new(
        "rst",
        ToxicKind::ResetPeer { after: ms(50) },
        Direction::Upstream,
    ))?;
    let t = Instant::now();
    let err = client.get_project(PROJECT).await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err}");
    assert!(err.is_retryable());
    assert!(t.elapsed() >= ms(50));
    assert!(t.elapsed() < ms(2000), "took {:?}", t.elapsed());

    env.proxy.remove_toxic("rst")?;
    client.get_project(PROJECT).await?;
    Ok(())
}

#[tokio::test]
async fn direction_upstream_fault_stops_the_request_downstream_loses_the_answer() -> TestResult {
    let env = Env::start(4).await?;
    let client = env.client(ms(5000));
    let rst = ToxicKind::ResetPeer { after: ms(0) };

    env.proxy
        .add_toxic(Toxic::new("up", rst.clone(), Direction::Upstream))?;
    let err = client.create_project("never-sent", "x").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(env.direct.get_project("never-sent").await.is_err());
    env.proxy.clear();

    env.proxy
        .add_toxic(Toxic::new("down", rst, Direction::Downstream))?;
    let err = client.create_project("answer-lost", "x").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    // The server committed it; only the answer was lost.
    env.direct.get_project("answer-lost").await?;
    Ok(())
}

#[tokio::test]
async fn timeout_without_close_is_a_blackhole_until_removed() -> TestResult {
    let env = Env::start(5).await?;
    let impatient = env.client(ms(300));
    env.proxy.add_toxic(Toxic::new(
        "hole",
        ToxicKind::Timeout { after: None },
        Direction::Upstream,
    ))?;
    let t = Instant::now();
    let err = impatient.get_project(PROJECT).await.unwrap_err();
    match &err {
        Error::Network(e) => assert!(e.is_timeout(), "{e}"),
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(t.elapsed() >= ms(300));

    // A held request is delivered once the toxic goes.
    let patient = env.client(ms(5000));
    let call = tokio::spawn(async move { patient.get_project(PROJECT).await });
    tokio::time::sleep(ms(200)).await;
    assert!(!call.is_finished());
    env.proxy.remove_toxic("hole")?;
    call.await??;
    Ok(())
}

#[tokio::test]
async fn timeout_with_close_closes_the_connection_after_the_delay() -> TestResult {
    let env = Env::start(6).await?;
    let client = env.client(ms(5000));
    env.proxy.add_toxic(Toxic::new(
        "close",
        ToxicKind::Timeout {
            after: Some(ms(150)),
        },
        Direction::Downstream,
    ))?;
    let t = Instant::now();
    let err = client.get_project(PROJECT).await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err}");
    assert!(t.elapsed() >= ms(150));
    assert!(t.elapsed() < ms(2000), "took {:?}", t.elapsed());
    Ok(())
}

#[tokio::test]
async fn slicer_splits_data_and_requests_still_succeed() -> TestResult {
    let env = Env::start(7).await?;
    let client = env.client(ms(5000));
    let logs = group(8, 1024); // about 8 KiB
    client.put_logs(PROJECT, LOGSTORE, &logs, None).await?;
    let before = env.proxy.stats().upstream_writes;
    env.proxy.add_toxic(Toxic::new(
        "slices",
        ToxicKind::Slicer {
            avg_size: 64,
            size_variation: 32,
            delay: Duration::ZERO,
        },
        Direction::Upstream,
    ))?;
    client.put_logs(PROJECT, LOGSTORE, &logs, None).await?;
    let writes = env.proxy.stats().upstream_writes - before;
    // At most 96 bytes per piece.
    assert!(writes >= 8 * 1024 / 96, "only {writes} writes");
    Ok(())
}

#[tokio::test]
async fn limit_data_closes_the_connection_after_n_bytes() -> TestResult {
    let env = Env::start(8).await?;
    let client = env.client(ms(5000));
    env.proxy.add_toxic(Toxic::new(
        "limit",
        ToxicKind::LimitData { bytes: 20 },
        Direction::Downstream,
    ))?;
    let err = client.get_project(PROJECT).await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err}");
    assert!(err.is_retryable());

    // Against a raw socket: exactly 20 bytes arrive, then end of stream.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut raw = tokio::net::TcpStream::connect(env.proxy.addr()).await?;
    raw.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut got = Vec::new();
    tokio::time::timeout(ms(2000), raw.read_to_end(&mut got)).await??;
    assert_eq!(got.len(), 20);
    assert!(got.starts_with(b"HTTP/1.1 "));
    Ok(())
}

#[tokio::test]
async fn matcher_limits_a_toxic_to_heartbeats() -> TestResult {
    let env = Env::start(9).await?;
    let client = env.client(ms(5000));
    let group_cfg = sls_client::ConsumerGroup {
        name: "g".into(),
        timeout: 60,
        order: false,
    };
    env.direct
        .create_consumer_group(PROJECT, LOGSTORE, &group_cfg)
        .await?;
    env.proxy.add_toxic(
        Toxic::new("slow-heartbeats", latency(300), Direction::Upstream)
            .with_matcher(Matcher::query("type=heartbeat")),
    )?;

    let t = Instant::now();
    client.heartbeat(PROJECT, LOGSTORE, "g", "c1", &[]).await?;
    assert!(t.elapsed() >= ms(300), "heartbeat took {:?}", t.elapsed());

    let t = Instant::now();
    client
        .put_logs(PROJECT, LOGSTORE, &group(1, 10), None)
        .await?;
    assert!(t.elapsed() < ms(300), "PutLogs took {:?}", t.elapsed());

    let journal = env.proxy.journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    assert!(journal[0].target.contains("type=heartbeat"));
    assert!(journal[0].fired);
    Ok(())
}

/// Runs the same request sequence through a fresh proxy with `seed` and returns which requests
/// the half-toxic latency hit.
async fn run_sequence(seed: u64) -> Result<Vec<(u64, String, bool)>, Box<dyn StdError>> {
    let env = Env::start(seed).await?;
    let client = env.client(ms(5000));
    env.proxy
        .add_toxic(Toxic::new("coin", latency(1), Direction::Upstream).with_toxicity(0.5))?;
    for i in 0..24 {
        if i % 3 == 0 {
            client.get_logstore(PROJECT, LOGSTORE).await?;
        } else {
            client.get_project(PROJECT).await?;
        }
    }
    Ok(env
        .proxy
        .journal()
        .into_iter()
        .map(|e| (e.request, e.target, e.fired))
        .collect())
}

#[tokio::test]
async fn same_seed_same_journal_different_seed_different_journal() -> TestResult {
    let a = run_sequence(42).await?;
    let b = run_sequence(42).await?;
    let c = run_sequence(43).await?;
    assert_eq!(a.len(), 24);
    assert_eq!(a, b);
    assert_ne!(a, c);
    let fired = a.iter().filter(|e| e.2).count();
    assert!((4..=20).contains(&fired), "{fired} of 24 fired");
    Ok(())
}

#[tokio::test]
async fn invalid_toxics_are_refused() -> TestResult {
    let server = TestServer::start().await?;
    let proxy = Proxy::start("127.0.0.1:0".parse()?, server.addr(), 0).await?;
    let t = Toxic::new("a", latency(1), Direction::Upstream);
    proxy.add_toxic(t.clone())?;
    assert!(proxy.add_toxic(t.clone()).is_err());
    assert!(proxy.add_toxic(t.with_toxicity(1.5)).is_err());
    assert!(proxy.remove_toxic("nope").is_err());
    assert_eq!(proxy.toxics().len(), 1);
    proxy.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn server_restart_behind_the_proxy_closes_idle_client_connections() -> TestResult {
    let Env {
        server,
        proxy,
        direct: _,
    } = Env::start(10).await?;
    let port = server.port();
    let cfg = config(&server, proxy.addr())?.with_request_timeout(ms(5000));
    let client = Client::new(cfg)?;
    client.get_project(PROJECT).await?;
    let server = server.restart().await?;
    assert_eq!(server.port(), port);
    // The pooled connection was closed by the proxy when the old server went away, so the
    // client opens a new one instead of failing on a dead one.
    tokio::time::sleep(ms(100)).await;
    client.get_project(PROJECT).await?;
    assert_eq!(proxy.stats().connections, 2);
    Ok(())
}
