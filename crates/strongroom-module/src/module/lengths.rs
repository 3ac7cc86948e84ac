//! Output lengths known at `*Init`: how the single-part call of an operation that has just
//! started answers a length query, as a rule of its input's length. The network library
//! answers `C_Sign(.., NULL, &len)` and its kin with it instead of asking the appliance.

use strongroom_proto::messages::OutputLength;

use super::{AccessId, Module};
use crate::error::Error;
use crate::token::SessionHandle;
use crate::token::ops::{Active, CipherState};

/// The kinds of operation whose single-part call produces output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputOperation {
    /// `C_Encrypt`.
    Encrypt,
    /// `C_Decrypt`.
    Decrypt,
    /// `C_Digest`.
    Digest,
    /// `C_Sign`.
    Sign,
}

impl Module {
    /// The rule by which `session`'s single-part `op` call answers a length query, while that
    /// operation has just started (no update, no result pending); `None` when it has not, or
    /// when the length depends on more than the input's length (CBC-PAD decryption, padded key
    /// wrap).
    pub fn single_output_length(
        &self,
        access: AccessId,
        session: SessionHandle,
        op: OutputOperation,
    ) -> Result<Option<OutputLength>, Error> {
        let c = self.caller(access, session)?;
        let o = self.session_of(&c)?.ops()?;
        let fixed = |n: usize| OutputLength::Fixed(n as u64);
        Ok(match op {
            OutputOperation::Encrypt => o
                .encrypt
                .as_ref()
                .and_then(Active::fresh)
                .and_then(CipherState::single_len_rule),
            OutputOperation::Decrypt => o
                .decrypt
                .as_ref()
                .and_then(Active::fresh)
                .and_then(CipherState::single_len_rule),
            OutputOperation::Digest => o
                .digest
                .as_ref()
                .and_then(Active::fresh)
                .map(|d| fixed(d.algorithm().output_len())),
            OutputOperation::Sign => o
                .sign
                .as_ref()
                .and_then(Active::fresh)
                .map(|s| fixed(s.signature_len())),
        })
    }
}
