//! `sls-emulator`: parse the configuration, set up logging, serve until Ctrl-C or SIGTERM.

use clap::Parser;
use sls_emulator::{Config, Emulator};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sls-emulator: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    print_banner(&emulator);
    emulator.run_until(stop_signal()).await;
    std::process::ExitCode::SUCCESS
}

/// Tells the user where to point clients. Write errors are ignored: a closed stdout (a
/// supervisor that read the first line and went away) must not stop the emulator.
fn print_banner(e: &Emulator) {
    use std::io::Write;
    let c = e.config();
    let addrs: Vec<String> = e.addrs().iter().map(|a| a.to_string()).collect();
    let endpoint = e.endpoint();
    let (id, secret) = (&c.access_key_id, &c.access_key_secret);
    // The Java SDK takes no port: it needs a listener on 80 (`--extra-ports 80`) or a proxy.
    let java = if c.extra_ports.contains(&80) || e.port() == 80 {
        format!("new Client(\"localhost\", \"{id}\", \"{secret}\")")
    } else {
        format!(
            "endpoint \"localhost\" with ClientConfiguration.setProxyHost(\"127.0.0.1\")/setProxyPort({}), \
             or start with --extra-ports 80",
            e.port()
        )
    };
    let keys = e.access().list();
    let more_keys = if keys.len() > 1 {
        let ids: Vec<&str> = keys[1..].iter().map(|k| k.access_key_id.as_str()).collect();
        format!(
            "\x20 more keys:         {} (from {}; GET /_sls-emu/keys lists their policies)\n",
            ids.join(", "),
            c.config_file
                .as_ref()
                .map_or("the admin API".into(), |p| p.display().to_string())
        )
    } else {
        String::new()
    };
    let banner = format!(
        "sls-emu is listening on {}\n\
         \x20 data folder:       {} (durability: {:?})\n\
         \x20 endpoint:          {endpoint}   (projects are addressed as <project>.{endpoint})\n\
         \x20 access key id:     {id}\n\
         \x20 access key secret: {secret}   (signatures: {:?}; the owner key, full rights)\n\
         {more_keys}\
         \x20 Python:  LogClient(\"{endpoint}\", \"{id}\", \"{secret}\")\n\
         \x20 Rust:    Config::builder().endpoint(\"{endpoint}\").access_key(\"{id}\", \"{secret}\")\n\
         \x20 Go:      sls.CreateNormalInterface(\"{endpoint}\", \"{id}\", \"{secret}\", \"\")\n\
         \x20 Java:    {java}\n\
         \x20 *.localhost must resolve to loopback (Debian: apt-get install libnss-myhostname),\n\
         \x20 or set HTTP_PROXY=http://127.0.0.1:{} for clients that honour it.\n",
        addrs.join(", "),
        c.data_dir.display(),
        c.durability,
        c.auth,
        e.port(),
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes());
    let _ = out.flush();
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
