//! Starting and stopping the emulator: bind the listeners, open the store, serve the router
//! on every address, sweep expired data in the background, shut down gracefully.
//!
//! Listeners are bound before anything is spawned, so a caller that got an [`Emulator`] back
//! can connect at once (no sleep loops in tests).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::access::{Access, DEFAULT_ACCOUNT_ID};
use crate::clock::{Clock, SystemClock, VirtualClock};
use crate::config::file::{ConfigFile, FileError, ProjectSpec};
use crate::config::{Config, ConfigError};
use crate::faults::Faults;
use crate::state::AppState;
use crate::storage::{StorageError, Store};

/// Why the emulator could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A config file that cannot be used (the message names the line).
    #[error("config file {0}")]
    ConfigFile(#[from] FileError),
    /// The store could not be opened.
    #[error("cannot open the data folder: {0}")]
    Storage(#[from] StorageError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running emulator.
#[derive(Debug)]
pub struct Emulator {
    addrs: Vec<SocketAddr>,
    state: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Starts on the real clock.
    pub async fn start(config: Config) -> Result<Emulator, ServerError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Starts with a given clock (tests pass a `ManualClock`).
    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Emulator, ServerError> {
        config.validate()?;
        // A bad config file stops the start before anything is opened or bound.
        let file = match &config.config_file {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        let dir = config.data_dir.clone();
        let durability = config.durability;
        let cache = config.cache_mib << 20;
        let store = tokio::task::spawn_blocking(move || Store::open_with(&dir, durability, cache))
            .await
            .map_err(|e| StorageError::Io(std::io::Error::other(e)))??;
        let mut listeners = bind_all(&config.bind, config.port).await?;
        for &port in &config.extra_ports {
            listeners.extend(bind_all(&config.bind, port).await?);
        }
        let addrs: Vec<SocketAddr> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect();
        let mut state = AppState::new(store, clock, config);
        state.access = access_from(&state, &file)?;
        preload(&state, &file.projects).await?;
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        for listener in listeners {
            let app =
                crate::api::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!(error = %e, "server stopped with an error");
                }
            }));
        }
        tasks.push(tokio::spawn(sweep_ttl(state.clone(), stopped)));
        tracing::info!(?addrs, data_dir = %state.config.data_dir.display(), "sls-emu started");
        Ok(Emulator {
            addrs,
            state,
            stop,
            tasks,
        })
    }

    /// The first bound address (of the main port).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every bound address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The main port (not one of `extra_ports`).
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The endpoint to give clients: `<first endpoint domain>:<port>`.
    pub fn endpoint(&self) -> String {
        let domain = self
            .state
            .config
            .endpoint_domain
            .first()
            .map_or("localhost", String::as_str);
        format!("{domain}:{}", self.port())
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// The store (for tests and tools in the same process).
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The fault layer (rules, quotas, journal), the Rust twin of the admin API.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The emulator's clock (movable).
    pub fn clock(&self) -> &VirtualClock {
        &self.state.clock
    }

    /// Access keys and policies, the Rust twin of the admin API's `/keys`.
    pub fn access(&self) -> &Access {
        &self.state.access
    }

    /// Runs until `signal` completes, then shuts down.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting, lets requests in flight finish (at most 10 s), flushes and closes the
    /// store. When this returns the data folder can be reopened.
    pub async fn shutdown(self) {
        let Emulator {
            state, stop, tasks, ..
        } = self;
        let _ = stop.send(true);
        for mut t in tasks {
            if tokio::time::timeout(Duration::from_secs(10), &mut t)
                .await
                .is_err()
            {
                tracing::warn!("a connection did not finish within 10 s; closing it");
                t.abort();
                let _ = t.await;
            }
        }
        if let Err(e) = state.store.flush() {
            tracing::error!(error = %e, "flush at shutdown failed");
        }
        tracing::info!("sls-emu stopped");
    }
}

/// The owner key plus the file's keys, under the file's account id.
fn access_from(state: &AppState, file: &ConfigFile) -> Result<Access, ServerError> {
    let c = &state.config;
    let account_id = file.account_id.as_deref().unwrap_or(DEFAULT_ACCOUNT_ID);
    let access = Access::new(
        &c.access_key_id,
        &c.access_key_secret,
        &c.region,
        account_id,
    );
    if state.config.auth == crate::config::AuthMode::Off && !file.credentials.is_empty() {
        tracing::warn!("--auth off: the config file's keys and policies are not checked");
    }
    for c in &file.credentials {
        access
            .insert(c.clone())
            .map_err(|e| ConfigError(format!("access key {:?}: {e}", c.access_key_id)))?;
    }
    Ok(access)
}

/// Creates the file's projects, logstores and consumer groups that do not exist yet; existing
/// ones are left as they are (a restart on the same folder changes nothing).
async fn preload(state: &AppState, projects: &[ProjectSpec]) -> Result<(), ServerError> {
    use crate::storage::{ConsumerGroup, LogstoreRecord, ProjectRecord};
    let now = crate::clock::Clock::now_nanos(&*state.clock);
    let store = &state.store;
    for p in projects {
        let record = ProjectRecord {
            description: p.description.clone(),
            ..ProjectRecord::new(&p.name, now.div_euclid(1_000_000_000))
        };
        match store.create_project(record).await {
            Ok(()) | Err(StorageError::ProjectAlreadyExist(_)) => {}
            Err(e) => return Err(e.into()),
        }
        for l in &p.logstores {
            let mut record = LogstoreRecord::new(&p.name, &l.name, now.div_euclid(1_000_000_000));
            record.ttl = l.ttl;
            record.append_meta = l.append_meta;
            match store
                .create_logstore(record, l.shards, sls_protocol::types::UnixNanos(now))
                .await
            {
                Ok(()) => {}
                Err(StorageError::LogStoreAlreadyExist(_)) => {
                    let have = store.logstore(&p.name, &l.name)?.record();
                    if have.ttl != l.ttl {
                        tracing::warn!(project = %p.name, logstore = %l.name, "logstore exists with another ttl; left as it is");
                    }
                }
                Err(e) => return Err(e.into()),
            }
            if let Some(index) = &l.index {
                match store
                    .set_index(&p.name, &l.name, Some(index.clone()), true)
                    .await
                {
                    Ok(()) | Err(StorageError::IndexAlreadyExist(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            for g in &l.consumer_groups {
                let group = ConsumerGroup {
                    name: g.name.clone(),
                    timeout: g.timeout,
                    order: g.order,
                };
                match store.create_consumer_group(&p.name, &l.name, group).await {
                    Ok(()) | Err(StorageError::ConsumerGroupAlreadyExist(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    if !projects.is_empty() {
        tracing::info!(
            projects = projects.len(),
            "resources from the config file are in place"
        );
    }
    Ok(())
}

async fn bind_all(ips: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, ServerError> {
    // With port 0 every address must end up on the same port (clients try ::1 then
    // 127.0.0.1 for one name), so retry when the second address finds it taken.
    let mut last_err = None;
    for _ in 0..20 {
        match try_bind_all(ips, port).await {
            Ok(l) => return Ok(l),
            Err(e) => last_err = Some(e),
        }
        if port != 0 {
            break;
        }
    }
    Err(last_err.unwrap_or(ServerError::Bind {
        addr: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port),
        source: std::io::Error::other("no address to bind"),
    }))
}

async fn try_bind_all(ips: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, ServerError> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    let mut port = port;
    for ip in ips {
        let addr = SocketAddr::new(*ip, port);
        match TcpListener::bind(addr).await {
            Ok(l) => {
                if port == 0 {
                    port = l
                        .local_addr()
                        .map_err(|source| ServerError::Bind { addr, source })?
                        .port();
                }
                listeners.push(l);
            }
            // A machine without IPv6 still serves IPv4 (and vice versa), as long as one works.
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable && ips.len() > 1 => {
                tracing::warn!(%addr, "address not available here; skipped");
            }
            Err(source) => return Err(ServerError::Bind { addr, source }),
        }
    }
    if listeners.is_empty() {
        return Err(ServerError::Bind {
            addr: SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port),
            source: std::io::Error::other("none of the --bind addresses is available"),
        });
    }
    Ok(listeners)
}

async fn sweep_ttl(state: AppState, mut stopped: watch::Receiver<bool>) {
    let period = Duration::from_secs(state.config.ttl_sweep_secs.max(1));
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(period) => {}
        }
        let store = state.store.clone();
        let now = state.clock.now_secs();
        match tokio::task::spawn_blocking(move || store.expire(now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "expired log groups removed"),
            Ok(Err(e)) => tracing::error!(error = %e, "ttl sweep failed"),
            Err(e) => tracing::error!(error = %e, "ttl sweep panicked"),
        }
    }
}
