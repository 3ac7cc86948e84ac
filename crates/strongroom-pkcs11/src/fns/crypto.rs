//! Encryption, decryption, message digesting, signing and verifying (v3.0 sections 5.8-5.13)
//! and random number generation (5.15). Every computation happens in the appliance; outputs
//! follow the length convention of section 5.2 (`OutBytes`).

use cryptoki_sys::{CK_OBJECT_HANDLE, CKR_OPERATION_CANCEL_FAILED};
use strongroom_client::messages::{self as m, MechanismSpec, Message};
use zeroize::Zeroize;

use super::{client, not_supported_on};
use crate::conv::ul;
use crate::ffi::{InBytes, MechPtr, OutBytes, OutFixed};
use crate::state::{Result, Rv};

/// Starts an operation: a null mechanism asks to cancel the active one, which the appliance
/// cannot do yet (`CKR_OPERATION_CANCEL_FAILED`).
fn init<Q: Message, A: Message>(
    session: u64,
    mech: MechPtr,
    build: impl FnOnce(u64, MechanismSpec) -> Q,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let Some(spec) = mech.spec()? else {
        return Err(Rv(CKR_OPERATION_CANCEL_FAILED));
    };
    c.session_call::<Q, A>(session, |s| build(s, spec))?;
    Ok(())
}

/// A call whose output follows the length convention.
fn output<Q: Message, A: Message>(
    session: u64,
    out: &OutBytes,
    build: impl FnOnce(u64, Option<u64>) -> Q,
    take: impl FnOnce(A) -> m::OutputData,
) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let capacity = out.capacity()?;
    out.deliver(
        c.session_call::<Q, A>(session, |s| build(s, capacity))
            .map(take),
    )
}

/// A call without output.
fn plain<Q: Message, A: Message>(session: u64, build: impl FnOnce(u64) -> Q) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    c.session_call::<Q, A>(session, build)?;
    Ok(())
}

// ---------------------------------------------------------------- encryption (5.8)

/// `C_EncryptInit`.
pub(crate) fn encrypt_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    init::<_, m::EncryptInitResponse>(session, mech, |session, mechanism| m::EncryptInitRequest {
        session,
        mechanism,
        key: ul(key),
    })
}

/// `C_Encrypt`.
pub(crate) fn encrypt(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::EncryptRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::EncryptResponse| r.output,
    )
}

/// `C_EncryptUpdate`.
pub(crate) fn encrypt_update(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::EncryptUpdateRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::EncryptUpdateResponse| r.output,
    )
}

/// `C_EncryptFinal`.
pub(crate) fn encrypt_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        &out,
        |session, capacity| m::EncryptFinalRequest { session, capacity },
        |r: m::EncryptFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- decryption (5.9)

/// `C_DecryptInit`.
pub(crate) fn decrypt_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    init::<_, m::DecryptInitResponse>(session, mech, |session, mechanism| m::DecryptInitRequest {
        session,
        mechanism,
        key: ul(key),
    })
}

/// `C_Decrypt`.
pub(crate) fn decrypt(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::DecryptRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::DecryptResponse| r.output,
    )
}

/// `C_DecryptUpdate`.
pub(crate) fn decrypt_update(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::DecryptUpdateRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::DecryptUpdateResponse| r.output,
    )
}

/// `C_DecryptFinal`.
pub(crate) fn decrypt_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        &out,
        |session, capacity| m::DecryptFinalRequest { session, capacity },
        |r: m::DecryptFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- digests (5.10)

/// `C_DigestInit`.
pub(crate) fn digest_init(session: u64, mech: MechPtr) -> Result<()> {
    init::<_, m::DigestInitResponse>(session, mech, |session, mechanism| m::DigestInitRequest {
        session,
        mechanism,
    })
}

/// `C_Digest`.
pub(crate) fn digest(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::DigestRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::DigestResponse| r.output,
    )
}

/// `C_DigestUpdate`.
pub(crate) fn digest_update(session: u64, data: InBytes) -> Result<()> {
    let data = data.get()?;
    plain::<_, m::DigestUpdateResponse>(session, |session| m::DigestUpdateRequest {
        session,
        data: data.to_vec(),
    })
}

/// `C_DigestKey`: the appliance offers no message for it.
pub(crate) fn digest_key(session: u64) -> Result<()> {
    not_supported_on(session)
}

/// `C_DigestFinal`.
pub(crate) fn digest_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        &out,
        |session, capacity| m::DigestFinalRequest { session, capacity },
        |r: m::DigestFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- signing (5.11)

/// `C_SignInit`.
pub(crate) fn sign_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    init::<_, m::SignInitResponse>(session, mech, |session, mechanism| m::SignInitRequest {
        session,
        mechanism,
        key: ul(key),
    })
}

/// `C_Sign`.
pub(crate) fn sign(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    let data = data.get()?;
    output(
        session,
        &out,
        |session, capacity| m::SignRequest {
            session,
            data: data.to_vec(),
            capacity,
        },
        |r: m::SignResponse| r.output,
    )
}

/// `C_SignUpdate`.
pub(crate) fn sign_update(session: u64, data: InBytes) -> Result<()> {
    let data = data.get()?;
    plain::<_, m::SignUpdateResponse>(session, |session| m::SignUpdateRequest {
        session,
        data: data.to_vec(),
    })
}

/// `C_SignFinal`.
pub(crate) fn sign_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        &out,
        |session, capacity| m::SignFinalRequest { session, capacity },
        |r: m::SignFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- verifying (5.13)

/// `C_VerifyInit`.
pub(crate) fn verify_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    init::<_, m::VerifyInitResponse>(session, mech, |session, mechanism| m::VerifyInitRequest {
        session,
        mechanism,
        key: ul(key),
    })
}

/// `C_Verify`.
pub(crate) fn verify(session: u64, data: InBytes, signature: InBytes) -> Result<()> {
    let (data, signature) = (data.get()?, signature.get()?);
    plain::<_, m::VerifyResponse>(session, |session| m::VerifyRequest {
        session,
        data: data.to_vec(),
        signature: signature.to_vec(),
    })
}

/// `C_VerifyUpdate`.
pub(crate) fn verify_update(session: u64, data: InBytes) -> Result<()> {
    let data = data.get()?;
    plain::<_, m::VerifyUpdateResponse>(session, |session| m::VerifyUpdateRequest {
        session,
        data: data.to_vec(),
    })
}

/// `C_VerifyFinal`.
pub(crate) fn verify_final(session: u64, signature: InBytes) -> Result<()> {
    let signature = signature.get()?;
    plain::<_, m::VerifyFinalResponse>(session, |session| m::VerifyFinalRequest {
        session,
        signature: signature.to_vec(),
    })
}

// ---------------------------------------------------------------- random (5.15)

/// The most random bytes asked for in one request.
const RANDOM_CHUNK: usize = 64 * 1024;

/// `C_SeedRandom`.
pub(crate) fn seed_random(session: u64, seed: InBytes) -> Result<()> {
    let seed = seed.get()?;
    plain::<_, m::SeedRandomResponse>(session, |session| m::SeedRandomRequest {
        session,
        seed: seed.to_vec(),
    })
}

/// `C_GenerateRandom`.
pub(crate) fn generate_random(session: u64, out: OutFixed) -> Result<()> {
    let c = client()?;
    c.session_slot(session)?;
    let total = out.len()?;
    let mut done = 0;
    while done < total {
        let n = (total - done).min(RANDOM_CHUNK);
        let len = u32::try_from(n).unwrap_or(u32::MAX);
        let mut r: m::GenerateRandomResponse =
            c.session_call(session, |session| m::GenerateRandomRequest { session, len })?;
        let written = if r.data.len() == n {
            out.write_at(done, &r.data)
        } else {
            Err(Rv(cryptoki_sys::CKR_DEVICE_ERROR))
        };
        r.data.zeroize();
        written?;
        done += n;
    }
    Ok(())
}
