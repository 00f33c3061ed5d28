//! `ward serve`: the REST API over a store file.

use crate::admin::{StoreArg, open_existing};
use crate::config::Config;
use anyhow::{Context, Result};
use clap::Args;
use std::net::SocketAddr;

/// `ward serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Address and port to listen on. Plain HTTP: keep it on loopback or behind a TLS proxy.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Opens the store, binds, serves until Ctrl-C, then finishes in-flight requests and exits.
pub fn serve(args: ServeArgs, cfg: &Config) -> Result<()> {
    let store = open_existing(&args.store, cfg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr().unwrap_or(args.listen);
        eprintln!("ward serve: listening on http://{addr}/api/v1 (Ctrl-C stops)");
        let path = args
            .store
            .store
            .clone()
            .unwrap_or_else(|| cfg.store.path.clone());
        let state = crate::demo::app_state(store, &path, cfg.server.options()?)?;
        ward_server::serve(listener, state, async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handler: never shut down on our own.
                std::future::pending::<()>().await;
            }
            eprintln!("ward serve: shutting down, finishing open requests");
        })
        .await
        .context("server failed")
    })
}
