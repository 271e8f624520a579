//! Running the sandbox on its own HTTP server (the binary, tests, benchmarks).

use std::io;

use actix_web::dev::Server;
use actix_web::{App, HttpServer};

use crate::{Sandbox, SandboxConfig};

impl Sandbox {
    /// Binds a server serving this sandbox at the root (`/oauth/...`, `/v1/...`). Port 0 picks a free port;
    /// the bound port is returned. The server runs once the returned future is awaited or spawned
    /// (`tokio::spawn(server)`).
    pub fn bind(&self, host: &str, port: u16) -> io::Result<(Server, u16)> {
        let sandbox = self.clone();
        let server = HttpServer::new(move || {
            let sandbox = sandbox.clone();
            App::new().configure(move |cfg| sandbox.configure(cfg))
        })
        .bind((host, port))?;
        let bound = server
            .addrs()
            .first()
            .map(|address| address.port())
            .ok_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address bound"))?;
        Ok((server.run(), bound))
    }
}

/// [`Sandbox::bind`] on a new sandbox built from `config`.
pub fn bind(config: SandboxConfig, host: &str, port: u16) -> io::Result<(Server, u16)> {
    Sandbox::new(config).bind(host, port)
}

/// Serves a sandbox until the server stops (Ctrl-C), printing the bound address first.
pub async fn run(host: &str, port: u16, config: SandboxConfig) -> io::Result<()> {
    let (server, port) = bind(config, host, port)?;
    println!("allmetrics-sandbox listening on http://{host}:{port}");
    server.await
}
