//! `ward serve`: the REST API over a store file and, with `--model`, the live pipeline
//! (`POST /api/v1/events`, watched folders, syslog over UDP and TCP).

use crate::admin::{StoreArg, open_existing};
use crate::config::Config;
use crate::pipeline::{self, Pipeline, PipelineConfig};
use anyhow::{Context, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `ward serve`
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ward serve --store ward.db\n  \
                  ward serve --store ward.db --model net.model --watch /var/log/zeek/current\n  \
                  ward serve --model net.model --syslog-udp 127.0.0.1:5514 --syslog-tcp 127.0.0.1:5514\n\n\
                  Ctrl-C or SIGTERM stops taking events, scores everything already accepted, \
                  writes it to the store and exits.")]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Address and port to listen on. Plain HTTP: keep it on loopback or behind a TLS proxy.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Model from `ward train net`: runs the live pipeline. Without it the store is served
    /// read-only and `POST /api/v1/events` answers 503.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Folder to watch for event files (repeatable; needs --model).
    #[arg(long, value_name = "DIR")]
    pub watch: Vec<PathBuf>,
    /// Receive syslog (RFC 5424/3164, one JSON event per message) over UDP (needs --model).
    #[arg(long, value_name = "ADDR")]
    pub syslog_udp: Option<SocketAddr>,
    /// Receive syslog over TCP, newline-delimited or octet-counted (needs --model).
    #[arg(long, value_name = "ADDR")]
    pub syslog_tcp: Option<SocketAddr>,
    /// Events queued for the detectors at most; when full, `POST /events` is 503.
    #[arg(long, value_name = "N", default_value_t = pipeline::DEFAULT_QUEUE)]
    pub queue: usize,
    /// Raise one alert per detector, entity and headline per this many seconds of event time.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub dedup: u64,
    /// Run the response engine beside the API: follow new alerts through the playbooks
    /// (`--playbooks` or `[respond] playbooks`) and work the response queue.
    #[arg(long)]
    pub respond: bool,
    /// Playbook file for --respond (default: `[respond] playbooks` in ward.toml).
    #[arg(long, value_name = "FILE", requires = "respond")]
    pub playbooks: Option<PathBuf>,
    /// Model from `ward train phish`: serves `POST /api/v1/mail/score` (without it that
    /// route answers 503).
    #[arg(long, value_name = "FILE")]
    pub phish_model: Option<PathBuf>,
}

/// Opens the store, starts the pipeline when asked, binds, serves until Ctrl-C or SIGTERM,
/// then stops the sources, drains the queue into the store and exits.
pub fn serve(args: ServeArgs, cfg: &Config) -> Result<()> {
    let store_path = args
        .store
        .store
        .clone()
        .unwrap_or_else(|| cfg.store.path.clone());
    let store = open_existing(&args.store, cfg)?;
    if args.model.is_none()
        && (!args.watch.is_empty() || args.syslog_udp.is_some() || args.syslog_tcp.is_some())
    {
        anyhow::bail!("--watch, --syslog-udp and --syslog-tcp need --model (the detectors)");
    }
    if args.queue == 0 {
        anyhow::bail!("--queue must be at least 1");
    }
    let pipeline = match &args.model {
        Some(m) => {
            let model = crate::net::load_model(m)?;
            let pcfg = PipelineConfig {
                queue: args.queue,
                dedup_secs: args.dedup,
            };
            Some(Pipeline::start(model, &store_path, &pcfg)?)
        }
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let responder = if args.respond {
        let set = crate::respond::load_set(args.playbooks.as_ref(), cfg)?;
        let actions = cfg.respond.actions()?;
        let mut rstore = ward_store::SqliteStore::open(&store_path)
            .with_context(|| format!("cannot open store {}", store_path.display()))?;
        let (rcfg, rstop) = (cfg.respond.clone(), Arc::clone(&stop));
        eprintln!(
            "ward serve: response engine on, {} playbook{}",
            set.playbook.len(),
            if set.playbook.len() == 1 { "" } else { "s" }
        );
        Some(std::thread::spawn(move || {
            crate::respond::run_worker(
                &mut rstore,
                &rcfg,
                &set,
                &actions,
                crate::respond::WorkerSettings {
                    idle: std::time::Duration::from_millis(20),
                    batch: 64,
                    dry_run: false,
                    once: false,
                },
                &rstop,
            )
        }))
    } else {
        None
    };
    let mut udp = None;
    let mut tcp = None;
    let mut watcher = None;
    if let Some(p) = &pipeline {
        if let Some(a) = args.syslog_udp {
            let l = pipeline::syslog::start_udp(a, Arc::clone(p), Arc::clone(&stop))?;
            eprintln!("ward serve: syslog on udp://{}", l.addr);
            udp = Some(l);
        }
        if let Some(a) = args.syslog_tcp {
            let l = pipeline::syslog::start_tcp(a, Arc::clone(p), Arc::clone(&stop))?;
            eprintln!("ward serve: syslog on tcp://{}", l.addr);
            tcp = Some(l);
        }
        if !args.watch.is_empty() {
            let mut state = store_path.clone().into_os_string();
            state.push(".watch.json");
            watcher = Some(pipeline::watch::start(
                args.watch.clone(),
                state.into(),
                Arc::clone(p),
                Arc::clone(&stop),
            )?);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut state = app_state(store, &store_path, cfg.server.options()?)?;
    if let Some(p) = &pipeline {
        state = state.with_sink(Arc::clone(p) as Arc<dyn ward_server::EventSink>);
    }
    if let Some(m) = &args.phish_model {
        state = state.with_mail_scorer(crate::phish::scorer(m, cfg)?);
    }
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr().unwrap_or(args.listen);
        eprintln!("ward serve: listening on http://{addr}/api/v1 (Ctrl-C stops)");
        ward_server::serve(listener, state, async {
            shutdown_signal().await;
            eprintln!("ward serve: shutting down, finishing open requests");
        })
        .await
        .context("server failed")
    });
    // HTTP has stopped accepting and every open request has finished; now the other sources.
    stop.store(true, Ordering::SeqCst);
    for l in [udp, tcp].into_iter().flatten() {
        l.join();
    }
    if let Some(w) = watcher {
        w.join();
    }
    if let Some(r) = responder {
        match r.join() {
            Ok(Ok(t)) => eprintln!(
                "ward serve: response engine followed {} alerts; {} jobs succeeded, {} retried, {} failed",
                t.alerts, t.succeeded, t.retried, t.failed
            ),
            Ok(Err(e)) => eprintln!("ward serve: response engine stopped: {e:#}"),
            Err(_) => eprintln!("ward serve: response engine panicked"),
        }
    }
    if let Some(p) = pipeline
        && let Some(s) = p.close()
    {
        eprintln!(
            "ward serve: {} events scored, {} rejected, {} alerts stored, {} devices{}",
            s.events,
            s.rejected,
            s.alerts,
            s.devices,
            if s.store_errors > 0 {
                format!(" ({} store writes failed, see the log)", s.store_errors)
            } else {
                String::new()
            }
        );
    }
    served
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The server state over an open store: the store for writes plus a pool of read-only
/// handles on the same file (one per core, at most four) for the read routes.
pub(crate) fn app_state(
    store: ward_store::SqliteStore,
    path: &std::path::Path,
    opts: ward_server::ServerOptions,
) -> Result<ward_server::AppState> {
    let n = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let mut readers: Vec<Box<dyn ward_store::Store>> = Vec::with_capacity(n);
    for _ in 0..n {
        readers.push(Box::new(ward_store::SqliteStore::open_reader(path)?));
    }
    Ok(ward_server::AppState::new(Box::new(store))
        .with_options(opts)
        .with_readers(readers))
}
