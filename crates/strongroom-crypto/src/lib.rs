//! Strongroom's crypto provider: the mechanisms the module offers, implemented over
//! aws-lc-rs. No other crate of the module side names the crypto library.
#![deny(unsafe_code)]
