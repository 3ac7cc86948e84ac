//! `libstrongroom_pkcs11.so`: the PKCS#11 v3.0 library through which applications use their
//! partitions on Strongroom appliances.
//!
//! The slots are the partitions assigned to this client on every appliance of the client
//! configuration (`STRONGROOM_CONF`, else `/etc/strongroom/strongroom.toml`); every call
//! travels over NTLS (mutually authenticated TLS 1.3) through `strongroom-client`, which owns
//! the connections, the slot map and the sessions. This crate is only the C ABI: argument
//! checking, the output-length convention, conversion of templates and mechanism parameters
//! to the appliance's canonical encodings, and return codes.
//!
//! It does not do cryptography with keys (the appliance does), and it does not offer the
//! v3.0 message-based functions, `C_DigestKey`, the dual-function and recover functions,
//! operation state saving, or a blocking `C_WaitForSlotEvent` (`CKR_FUNCTION_NOT_SUPPORTED`).
//!
//! # Unsafe code
//!
//! All `unsafe` code of the project is here, in two modules: `ffi` (every access through a
//! pointer the application gave) and `exports` (the exported symbols, which wrap their raw
//! arguments for `ffi`). Everything else is safe Rust.
//!
//! # Threads and processes
//!
//! Every function may be called from any thread (`CKF_OS_LOCKING_OK`); the library starts no
//! thread. After `fork`, the child sees `CKR_CRYPTOKI_NOT_INITIALIZED` until it calls
//! `C_Initialize`, and never touches the parent's connections.
//!
//! # Logging
//!
//! Silent unless `STRONGROOM_PKCS11_LOG` is set, then one line per failed call on standard
//! error: the function and its return value, never arguments.

#[allow(unsafe_code)]
mod exports;
#[allow(unsafe_code)]
mod ffi;

mod conv;
mod fns;
mod mech;
mod state;

pub use crate::exports::*;
