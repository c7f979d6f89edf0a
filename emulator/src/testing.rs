//! Test support (feature `test-util`): [`TestServer`] runs an emulator in-process on a free
//! port with its own temporary data folder, and can restart on the same folder.

use std::net::SocketAddr;
use std::sync::Arc;

use tempfile::TempDir;

pub use crate::clock::ManualClock;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::server::{Emulator, ServerError};
use crate::storage::Store;

/// An in-process emulator for tests.
#[derive(Debug)]
pub struct TestServer {
    emulator: Emulator,
    config: Config,
    clock: Arc<dyn Clock>,
    dir: TempDir,
}

impl TestServer {
    /// Starts with the default test configuration: port 0 on both loopbacks, signatures
    /// verified with the default key pair, fsync durability, a fresh temporary folder.
    pub async fn start() -> Result<TestServer, ServerError> {
        Self::start_with(|_| {}).await
    }

    /// Starts after `adjust` has changed the test configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Result<TestServer, ServerError> {
        Self::start_with_clock(adjust, Arc::new(SystemClock)).await
    }

    /// Starts with a given clock.
    pub async fn start_with_clock(
        adjust: impl FnOnce(&mut Config),
        clock: Arc<dyn Clock>,
    ) -> Result<TestServer, ServerError> {
        let dir = tempfile::Builder::new()
            .prefix("sls-emu-test")
            .tempdir()
            .map_err(|e| ServerError::Storage(e.into()))?;
        let mut config = Config {
            port: 0,
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        adjust(&mut config);
        let emulator = Emulator::start_with_clock(config.clone(), clock.clone()).await?;
        Ok(TestServer {
            emulator,
            config,
            clock,
            dir,
        })
    }

    fn emu(&self) -> &Emulator {
        &self.emulator
    }

    /// First bound address (127.0.0.1 by default).
    pub fn addr(&self) -> SocketAddr {
        self.emu().addr()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.emu().port()
    }

    /// `localhost:PORT`, the endpoint official clients take.
    pub fn endpoint(&self) -> String {
        self.emu().endpoint()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        self.emu().config()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.emu().store()
    }

    /// The fault layer.
    pub fn faults(&self) -> &crate::faults::Faults {
        self.emu().faults()
    }

    /// Access keys and policies (what `/_sls-emu/keys` changes).
    pub fn access(&self) -> &crate::access::Access {
        self.emu().access()
    }

    /// The emulator's movable clock (what `POST /_sls-emu/clock` moves).
    pub fn clock(&self) -> &crate::clock::VirtualClock {
        self.emu().clock()
    }

    /// `http://127.0.0.1:PORT`, for the admin API.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The data folder.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.clone()
    }

    /// The temporary folder holding the data folder (other files may go here).
    pub fn temp_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Shuts down gracefully and starts again on the same folder and port.
    pub async fn restart(self) -> Result<TestServer, ServerError> {
        let TestServer {
            emulator,
            mut config,
            clock,
            dir,
        } = self;
        config.port = emulator.port();
        emulator.shutdown().await;
        let emulator = Emulator::start_with_clock(config.clone(), clock.clone()).await?;
        Ok(TestServer {
            emulator,
            config,
            clock,
            dir,
        })
    }

    /// Shuts down gracefully, keeping the folder (deleted when the returned guard drops).
    pub async fn shutdown(self) -> TempDir {
        self.emulator.shutdown().await;
        self.dir
    }
}
