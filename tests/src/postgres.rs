//! A throwaway PostgreSQL server for the Flink sink scenarios: `initdb` in a temporary folder,
//! started on a free loopback port with prepared transactions enabled (two-phase commit needs
//! `max_prepared_transactions > 0`), stopped and deleted on drop.
//!
//! The binaries come from Debian's `postgresql` package, which `scripts/test.sh` installs: the
//! newest `/usr/lib/postgresql/<version>/bin`, or `PATH`. PostgreSQL refuses to run as root, so
//! as root the server runs as the package's `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The server's superuser (trust authentication on loopback).
const USER: &str = "postgres";

/// A running throwaway server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    /// initdb and start. Takes a second or two.
    ///
    /// # Errors
    /// PostgreSQL is not installed, or initdb/start failed (their output is in the message).
    pub fn start() -> Res<Postgres> {
        let bin = binaries()?;
        let dir = tempfile::Builder::new().prefix("sls-pg-").tempdir()?;
        let port = free_port()?;
        let pg = Postgres { dir, bin, port };
        let data = pg.data();
        std::fs::create_dir(&data)?;
        if as_root() {
            // The server's user must reach its folder: open the temp dir, give it the data dir.
            set_mode(pg.dir.path(), 0o755)?;
            run(Command::new("chown").arg(USER).arg(&data))?;
        }
        run(pg
            .command("initdb")
            .args(["-A", "trust", "-U", USER, "--no-sync", "-D"])
            .arg(&data))?;
        pg.ctl("start")?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = if as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", USER, "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.stdin(Stdio::null());
        cmd
    }

    /// `pg_ctl start|stop`, waiting for it (immediate stop: like a crash, recovered from the
    /// WAL on start).
    fn ctl(&self, action: &str) -> Res<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_prepared_transactions=64 \
             -c max_connections=200",
            self.port,
            self.data().display()
        );
        run(self
            .command("pg_ctl")
            .args([action, "-w", "-t", "60", "-m", "immediate", "-D"])
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.data().join("server.log")))
    }

    /// Crashes the server (immediate stop: open transactions are lost, prepared ones survive in
    /// the WAL), keeps it down for `down`, and starts it again on the same port and data.
    ///
    /// # Errors
    /// pg_ctl failed.
    pub async fn crash_restart(&self, down: Duration) -> Res<()> {
        self.ctl("stop")?;
        tokio::time::sleep(down).await;
        self.ctl("start")
    }

    /// The JDBC URL of database `db`.
    pub fn jdbc_url(&self, db: &str) -> String {
        format!("jdbc:postgresql://127.0.0.1:{}/{db}?user={USER}", self.port)
    }

    /// A connection to database `db`, retried for up to 30 s (e.g. across a restart).
    ///
    /// # Errors
    /// No connection within 30 s.
    pub async fn connect(&self, db: &str) -> Res<tokio_postgres::Client> {
        let config = format!("host=127.0.0.1 port={} user={USER} dbname={db}", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tokio_postgres::connect(&config, NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    return Ok(client);
                }
                Err(e) if Instant::now() > deadline => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Creates database `db`.
    ///
    /// # Errors
    /// The server refused.
    pub async fn create_database(&self, db: &str) -> Res<()> {
        let c = self.connect("postgres").await?;
        c.batch_execute(&format!("CREATE DATABASE \"{db}\""))
            .await?;
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Whether this process runs as root (its real uid, from /proc).
fn as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn set_mode(path: &Path, mode: u32) -> Res<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Where `initdb` and `pg_ctl` are: Debian keeps them off `PATH`, per major version.
fn binaries() -> Res<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
        .ok_or_else(|| {
            "PostgreSQL is not installed: run scripts/test.sh (apt-get install postgresql)".into()
        })
}

fn free_port() -> Res<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn run(cmd: &mut Command) -> Res<()> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}
