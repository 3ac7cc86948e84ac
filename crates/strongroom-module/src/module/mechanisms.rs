//! Slot and token management's mechanism queries (PKCS#11 v3.0 5.5): `C_GetMechanismList`
//! and `C_GetMechanismInfo`, shaped by HSM policy 12 and partition policy 19 (see
//! `mechanism/registry.rs`).

use super::{Module, Op};
use crate::error::{Error, e};
use crate::mechanism::{MechanismInfo, effective_info, supported_mechanisms};

impl Module {
    /// `C_GetMechanismList` for partition `serial`.
    pub fn mechanism_list(&self, serial: u64) -> Result<Vec<u64>, Error> {
        self.gate(Op::Status)?;
        let gate = self.mechanism_gate(serial)?;
        Ok(supported_mechanisms()
            .filter_map(|m| effective_info(m, gate))
            .map(|i| i.mechanism)
            .collect())
    }

    /// `C_GetMechanismInfo` for partition `serial` (`CKR_MECHANISM_INVALID` for a mechanism
    /// the partition does not offer).
    pub fn mechanism_info(&self, serial: u64, mechanism: u64) -> Result<MechanismInfo, Error> {
        self.gate(Op::Status)?;
        effective_info(mechanism, self.mechanism_gate(serial)?)
            .ok_or_else(|| e::mechanism_invalid(mechanism))
    }
}
