//! The Strongroom NTLS client: connections from an application's host to its appliances.
//!
//! Every connection is TLS 1.3 with mutual authentication: the appliance's certificate is
//! pinned (the `server.pem` exchanged during client registration) and this client presents
//! its own registered certificate. Requests are framed as `strongroom-proto` describes, many at
//! once on one connection, answered in any order. This crate starts no threads: callers take
//! turns reading the socket.
//!
//! It does not know PKCS#11: the PKCS#11 library and the client manager build on it.

#![forbid(unsafe_code)]

mod config;
mod conn;
mod error;
mod tls;

pub use crate::config::{CONF_ENV, ClientConfig, DEFAULT_PATH, DEFAULT_PORT, Server};
pub use crate::conn::{Connection, Timeouts};
pub use crate::error::Error;
pub use crate::tls::{client_tls_config, load_certificate, load_private_key};
