//! How to open a store.

use zeroize::Zeroizing;

use crate::kek::KdfParams;

/// How to open a [`Store`](crate::Store).
pub struct OpenOptions {
    /// Wraps the KEK; `None` keeps the KEK in its file as is.
    pub(crate) passphrase: Option<Zeroizing<Vec<u8>>>,
    /// Create the directory, KEK file and database when absent.
    pub(crate) create: bool,
    /// Check every page and authenticate every KEK-sealed record before `open` returns.
    pub(crate) verify: bool,
    /// Argon2id cost for a KEK file created by this open.
    pub(crate) kdf: KdfParams,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// Open an existing store without a passphrase, authenticating every record.
    pub fn new() -> Self {
        OpenOptions {
            passphrase: None,
            create: false,
            verify: true,
            kdf: KdfParams::default(),
        }
    }

    /// Whether to create the store when the directory holds none.
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// The passphrase that wraps the KEK. A store created with one can only be opened with it;
    /// a store created without one cannot be opened with one.
    pub fn passphrase(mut self, passphrase: Zeroizing<Vec<u8>>) -> Self {
        self.passphrase = Some(passphrase);
        self
    }

    /// Argon2id cost used when this open creates a passphrase-wrapped KEK file. Opening an
    /// existing file uses the parameters stored in it.
    pub fn kdf_params(mut self, params: KdfParams) -> Self {
        self.kdf = params;
        self
    }

    pub(crate) fn set_verify(mut self, verify: bool) -> Self {
        self.verify = verify;
        self
    }
}
