//! Emulator configuration: one clap-derived [`Config`] (every flag has an `SLS_EMU_*` env var),
//! with `Default` for tests and [`Config::validate`] before use. The library never reads the
//! environment itself; only the binary parses it. [`file`] is the optional config file (keys,
//! policies, STS credentials, resources to create at start).

pub mod file;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// How signatures are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Verify v1 and v4 signatures against the configured key pair (like SLS).
    Verify,
    /// Accept any well-formed request, signed or not; malformed Authorization headers are still
    /// rejected with a clear error.
    Off,
}

/// When an acknowledged write is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// fdatasync before every acknowledgement (group commit: concurrent writers share one sync).
    Fsync,
    /// Acknowledge once written to the store's buffers; sled syncs in the background about every
    /// 500 ms, so a crash can lose the last acknowledged writes. Faster; for throwaway data.
    Buffered,
}

/// Everything the emulator can be told at start.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "sls-emulator",
    version,
    about = "Local emulator of Alibaba Cloud Simple Log Service (SLS)"
)]
pub struct Config {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, env = "SLS_EMU_PORT", default_value_t = 18080)]
    pub port: u16,

    /// More ports to answer on, on the same addresses (comma-separated). The Java SDK and the
    /// clients built on it cannot put a port in their endpoint: `--extra-ports 80` serves them
    /// at endpoint `localhost` while other clients keep `localhost:PORT`.
    #[arg(long, env = "SLS_EMU_EXTRA_PORTS", value_delimiter = ',')]
    pub extra_ports: Vec<u16>,

    /// Addresses to listen on, comma-separated. The default covers both loopbacks, because
    /// `proj.localhost` resolves to ::1 first.
    #[arg(long, env = "SLS_EMU_BIND", value_delimiter = ',', default_values_t = default_bind())]
    pub bind: Vec<IpAddr>,

    /// Folder of the embedded sled store (created if missing).
    #[arg(long, env = "SLS_EMU_DATA_DIR", default_value = "sls-emu-data")]
    pub data_dir: PathBuf,

    /// Endpoint host names clients are given (comma-separated). A Host header equal to one of
    /// them carries no project; `<project>.<domain>` carries one. IP literals and `localhost`
    /// are always recognised.
    #[arg(
        long,
        env = "SLS_EMU_ENDPOINT_DOMAIN",
        value_delimiter = ',',
        default_value = "localhost"
    )]
    pub endpoint_domain: Vec<String>,

    /// AccessKeyId clients must sign with (in `--auth verify`).
    #[arg(
        long,
        env = "SLS_EMU_ACCESS_KEY_ID",
        default_value = "sls-emu-access-key-id"
    )]
    pub access_key_id: String,

    /// AccessKeySecret clients must sign with (in `--auth verify`).
    #[arg(
        long,
        env = "SLS_EMU_ACCESS_KEY_SECRET",
        default_value = "sls-emu-access-key-secret"
    )]
    pub access_key_secret: String,

    /// Signature checking.
    #[arg(long, env = "SLS_EMU_AUTH", value_enum, default_value_t = AuthMode::Verify)]
    pub auth: AuthMode,

    /// When writes are acknowledged.
    #[arg(long, env = "SLS_EMU_DURABILITY", value_enum, default_value_t = Durability::Fsync)]
    pub durability: Durability,

    /// Region reported in project descriptions.
    #[arg(long, env = "SLS_EMU_REGION", default_value = "cn-hangzhou")]
    pub region: String,

    /// Largest accepted clock skew of a signed request, in seconds (0 = no check).
    #[arg(long, env = "SLS_EMU_MAX_SKEW_SECS", default_value_t = 900)]
    pub max_skew_secs: u64,

    /// Size of sled's page cache (the index of LogGroups and metadata), in MiB. LogGroup bytes
    /// are read through the OS page cache and are not counted here.
    #[arg(long, env = "SLS_EMU_CACHE_MIB", default_value_t = 64)]
    pub cache_mib: u64,

    /// How often expired data (logstore ttl) is deleted, in seconds.
    #[arg(long, env = "SLS_EMU_TTL_SWEEP_SECS", default_value_t = 60)]
    pub ttl_sweep_secs: u64,

    /// Seed of every probabilistic fault decision (see the admin API).
    #[arg(long, env = "SLS_EMU_FAULT_SEED", default_value_t = 0)]
    pub fault_seed: u64,

    /// Config file (TOML): access keys, RAM policies, STS credentials, resources to create at
    /// start. See sls-emu.example.toml. The --access-key-id pair stays the account's owner key.
    #[arg(long = "config", env = "SLS_EMU_CONFIG")]
    pub config_file: Option<PathBuf>,
}

fn default_bind() -> Vec<IpAddr> {
    vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ]
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 18080,
            extra_ports: Vec::new(),
            bind: default_bind(),
            data_dir: PathBuf::from("sls-emu-data"),
            endpoint_domain: vec!["localhost".to_string()],
            access_key_id: "sls-emu-access-key-id".to_string(),
            access_key_secret: "sls-emu-access-key-secret".to_string(),
            auth: AuthMode::Verify,
            durability: Durability::Fsync,
            region: "cn-hangzhou".to_string(),
            max_skew_secs: 900,
            cache_mib: 64,
            ttl_sweep_secs: 60,
            fault_seed: 0,
            config_file: None,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Checks values that clap cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bind.is_empty() {
            return Err(ConfigError("--bind needs at least one address".into()));
        }
        if self.access_key_id.is_empty() || self.access_key_secret.is_empty() {
            return Err(ConfigError(
                "--access-key-id and --access-key-secret must not be empty".into(),
            ));
        }
        if self.extra_ports.iter().any(|&p| p == 0 || p == self.port) {
            return Err(ConfigError(
                "--extra-ports must be fixed ports other than --port".into(),
            ));
        }
        if self.cache_mib == 0 {
            return Err(ConfigError("--cache-mib must be at least 1".into()));
        }
        if self.ttl_sweep_secs == 0 {
            return Err(ConfigError("--ttl-sweep-secs must be at least 1".into()));
        }
        for d in &self.endpoint_domain {
            if d.is_empty() || d.contains(':') || d.contains('/') {
                return Err(ConfigError(format!(
                    "--endpoint-domain {d:?} must be a bare host name (no scheme, no port)"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn validate_refuses_zero_cache_and_sweep() {
        assert!(Config::default().validate().is_ok());
        let zero_cache = Config {
            cache_mib: 0,
            ..Config::default()
        };
        let e = zero_cache.validate().unwrap_err();
        assert!(e.to_string().contains("--cache-mib"), "{e}");
        let zero_sweep = Config {
            ttl_sweep_secs: 0,
            ..Config::default()
        };
        assert!(zero_sweep.validate().is_err());
    }
}
