//! The Strongroom NTLS client: connections from an application's host to its appliances.
//!
//! Every connection is TLS 1.3 with mutual authentication: the appliance's certificate is
//! pinned (the `server.pem` exchanged during client registration) and this client presents
//! its own registered certificate. Requests are framed as `strongroom-proto` describes, many at
//! once on one connection, answered in any order. This crate starts no threads: callers take
//! turns reading the socket.
//!
//! On top of single connections, [`Client`] holds every configured appliance: the slot map
//! across them (see `client.rs` for how slot ids are given), this process's sessions, and
//! typed calls for the PKCS#11 messages with their errors mapped to `CKR_*` values
//! ([`Error::ckr`]). Templates and mechanism parameters are built in the appliance's canonical
//! encoding by [`Template`] and [`mechanism`].
//!
//! It does not know the PKCS#11 C ABI (the `strongroom-pkcs11` library does), and it performs
//! no cryptography on keys: that happens in the appliance.

#![forbid(unsafe_code)]

mod attr;
mod client;
mod config;
mod conn;
mod error;
mod tls;

pub mod mechanism;

pub use crate::attr::{
    AttrKind, NestedAttr, Template, ULONG_LEN, canonical_ulong, decode_nested, kind,
};
pub use crate::client::{
    Client, RepeatOp, SessionInfo, SingleOp, SlotView, TokenInfo, request, token_flags,
};
pub use crate::config::{CONF_ENV, ClientConfig, DEFAULT_PATH, DEFAULT_PORT, Server};
pub use crate::conn::{Connection, Timeouts};
pub use crate::error::Error;
pub use crate::tls::{client_tls_config, load_certificate, load_private_key};
pub use strongroom_proto::{Ckr, RetCode, ckr, messages, ret, wipe};
