//! Encryption, decryption, message digesting, signing and verifying (v3.0 sections 5.8-5.13)
//! and random number generation (5.15). Every computation happens in the appliance; outputs
//! follow the length convention of section 5.2 (`OutBytes`).

use std::sync::Arc;

use cryptoki_sys::{CK_OBJECT_HANDLE, CKR_OPERATION_CANCEL_FAILED};
use strongroom_client::messages::{self as m, MechanismSpec, Message};
use strongroom_client::{Client, RepeatOp, SingleOp};
use zeroize::{Zeroize, Zeroizing};

use super::{client, not_supported_on};
use crate::conv::ul;
use crate::ffi::{InBytes, MechPtr, OutBytes, OutFixed};
use crate::state::{Result, Rv};

/// The client, once `session` is known to be open. The session is checked before any
/// argument: `CKR_SESSION_HANDLE_INVALID` ranks before `CKR_ARGUMENTS_BAD` (v3.0 5.1.7), and
/// `CKR_CRYPTOKI_NOT_INITIALIZED` comes first of all.
fn open(session: u64) -> Result<Arc<Client>> {
    let c = client()?;
    c.session_slot(session)?;
    Ok(c)
}

/// The kinds of operation whose calls end them when they fail.
#[derive(Clone, Copy)]
enum Op {
    Encrypt,
    Decrypt,
    Digest,
    Sign,
    Verify,
}

impl Op {
    /// The operation as the client records lengths for it.
    fn single(self) -> Option<SingleOp> {
        match self {
            Self::Encrypt => Some(SingleOp::Encrypt),
            Self::Decrypt => Some(SingleOp::Decrypt),
            Self::Digest => Some(SingleOp::Digest),
            Self::Sign => Some(SingleOp::Sign),
            Self::Verify => None,
        }
    }

    /// The operation as the client records repeatable inits for it.
    fn repeat(self) -> Option<RepeatOp> {
        match self {
            Self::Sign => Some(RepeatOp::Sign),
            Self::Verify => Some(RepeatOp::Verify),
            Self::Encrypt => Some(RepeatOp::Encrypt),
            Self::Decrypt => Some(RepeatOp::Decrypt),
            Self::Digest => None,
        }
    }
}

/// A capacity no output reaches: the completing call runs to its end.
const ANY_LENGTH: Option<u64> = Some(u32::MAX as u64);

/// The arguments of a call that the specification says ends the active operation when it
/// fails with anything but `CKR_BUFFER_TOO_SMALL` (`C_Encrypt`, `C_EncryptUpdate`,
/// `C_EncryptFinal` and their decryption, digest, signing and verification counterparts,
/// v3.0 5.8-5.13). Arguments refused here never reach the appliance, so the operation is ended
/// there by a completing call whose result is discarded; the caller gets the refusal.
fn checked<T>(c: &Client, session: u64, op: Op, args: Result<T>) -> Result<T> {
    if args.is_err() {
        end(c, session, op);
    }
    args
}

/// Ends the active `op` of `session` on the appliance (nothing if none is active): its final
/// call, with room for any output, ends it whether it succeeds or fails (a verification with
/// an empty signature fails and ends it). Output is zeroized unread.
fn end(c: &Client, session: u64, op: Op) {
    fn discard(out: m::OutputData) {
        if let m::OutputData::Data(d) = out {
            drop(Zeroizing::new(d));
        }
    }
    let capacity = ANY_LENGTH;
    // Whatever the appliance answers, the caller's error stands.
    let _ = match op {
        Op::Encrypt => c
            .session_call(session, |session| m::EncryptFinalRequest {
                session,
                capacity,
            })
            .map(|r: m::EncryptFinalResponse| discard(r.output)),
        Op::Decrypt => c
            .session_call(session, |session| m::DecryptFinalRequest {
                session,
                capacity,
            })
            .map(|r: m::DecryptFinalResponse| discard(r.output)),
        Op::Digest => c
            .session_call(session, |session| m::DigestFinalRequest {
                session,
                capacity,
            })
            .map(|r: m::DigestFinalResponse| discard(r.output)),
        Op::Sign => c
            .session_call(session, |session| m::SignFinalRequest { session, capacity })
            .map(|r: m::SignFinalResponse| discard(r.output)),
        Op::Verify => c
            .session_call(session, |session| m::VerifyFinalRequest {
                session,
                signature: Vec::new(),
            })
            .map(|_: m::VerifyFinalResponse| ()),
    };
}

/// The answer of an init the library may answer itself ([`Client::init_locally`]).
trait RepeatableAnswer: Message {
    /// How the single-part call answers a length query, and whether the init is repeatable.
    fn said(&self) -> (Option<m::OutputLength>, bool);
}

impl RepeatableAnswer for m::SignInitResponse {
    fn said(&self) -> (Option<m::OutputLength>, bool) {
        (self.single_output, self.repeatable)
    }
}

impl RepeatableAnswer for m::VerifyInitResponse {
    fn said(&self) -> (Option<m::OutputLength>, bool) {
        (None, self.repeatable)
    }
}

impl RepeatableAnswer for m::EncryptInitResponse {
    fn said(&self) -> (Option<m::OutputLength>, bool) {
        (self.single_output, self.repeatable)
    }
}

impl RepeatableAnswer for m::DecryptInitResponse {
    fn said(&self) -> (Option<m::OutputLength>, bool) {
        (self.single_output, self.repeatable)
    }
}

/// Starts `op`: answered here, and sent with the next call of the operation, when the
/// appliance said this init would succeed again (see [`Client::init_locally`]); else asked
/// of the appliance with the request `build` makes (session, mechanism, key).
fn repeatable_init<Q: Message, A: RepeatableAnswer>(
    session: u64,
    mech: MechPtr,
    key: CK_OBJECT_HANDLE,
    repeat: RepeatOp,
    build: impl Fn(u64, MechanismSpec, u64) -> Q,
) -> Result<()> {
    let op = match repeat {
        RepeatOp::Sign => Op::Sign,
        RepeatOp::Verify => Op::Verify,
        RepeatOp::Encrypt => Op::Encrypt,
        RepeatOp::Decrypt => Op::Decrypt,
    };
    let c = open(session)?;
    let Some(spec) = mech.spec()? else {
        return Err(Rv(CKR_OPERATION_CANCEL_FAILED));
    };
    let key = ul(key);
    let local = c.init_locally(session, repeat, &spec, key, |remote| {
        build(remote, spec.clone(), key)
    });
    if let Some(single) = local {
        if let Some(kind) = op.single() {
            c.set_single_output(session, kind, single);
        }
        return Ok(());
    }
    let epoch = c.pipeline_epoch();
    let r: A = c.session_call(session, |session| build(session, spec.clone(), key))?;
    let (single, repeatable) = r.said();
    if let Some(kind) = op.single() {
        c.set_single_output(session, kind, single);
    }
    c.init_answered(session, repeat, &spec, key, single, repeatable, epoch);
    Ok(())
}

/// Starts an operation: a null mechanism asks to cancel the active one, which the appliance
/// cannot do yet (`CKR_OPERATION_CANCEL_FAILED`). Returns the client and the answer.
fn init<Q: Message, A: Message>(
    session: u64,
    mech: MechPtr,
    build: impl FnOnce(u64, MechanismSpec) -> Q,
) -> Result<(Arc<Client>, A)> {
    let c = open(session)?;
    let Some(spec) = mech.spec()? else {
        return Err(Rv(CKR_OPERATION_CANCEL_FAILED));
    };
    let answer = c.session_call::<Q, A>(session, |s| build(s, spec))?;
    Ok((c, answer))
}

/// A call of `op` with input and an output that follows the length convention; `single`
/// says whether it is the single-part call, whose length query is answered here when the
/// `*Init` answer said how (no round trip to the appliance).
#[allow(clippy::too_many_arguments)]
fn output<Q: Message, A: Message>(
    session: u64,
    op: Op,
    single: bool,
    data: Option<&InBytes>,
    out: &OutBytes,
    build: impl FnOnce(u64, Vec<u8>, Option<u64>) -> Q,
    take: impl FnOnce(A) -> m::OutputData,
) -> Result<()> {
    let c = open(session)?;
    let kind = op.single();
    // `C_*Update` calls have input; the final ones have none.
    let completes = single || data.is_none();
    // Any call but a length query answered from it changes what the appliance would answer.
    let rule = kind.and_then(|k| c.take_single_output(session, k));
    let args = data
        .map_or(Ok(&[][..]), InBytes::get)
        .and_then(|d| Ok((d, out.capacity()?)));
    let (data, capacity) = checked(&c, session, op, args)?;
    if let (true, None, Some(rule), Some(kind)) = (single, capacity, rule, kind) {
        c.set_single_output(session, kind, Some(rule));
        let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
        return out.deliver(Ok(m::OutputData::Length(rule.for_input(n))));
    }
    let starts = op.repeat().map(|k| (k, c.op_starts(session, k)));
    let answer = c
        .session_call::<Q, A>(session, |s| build(s, data.to_vec(), capacity))
        .map(take);
    if let (Some((kind, starts)), Ok(m::OutputData::Data(_)), true) = (starts, &answer, completes) {
        // The output of a single-part or final call delivered ends the operation.
        c.op_completed(session, kind, starts);
    }
    out.deliver(answer)
}

/// A call of `op` without output.
fn plain<Q: Message, A: Message>(
    session: u64,
    op: Option<Op>,
    inputs: &[&InBytes],
    build: impl FnOnce(u64, Vec<Vec<u8>>) -> Q,
) -> Result<()> {
    let c = open(session)?;
    if let Some(kind) = op.and_then(Op::single) {
        c.take_single_output(session, kind);
    }
    let args = inputs
        .iter()
        .map(|i| i.get().map(<[u8]>::to_vec))
        .collect::<Result<Vec<_>>>();
    let args = match op {
        Some(op) => checked(&c, session, op, args)?,
        None => args?,
    };
    c.session_call::<Q, A>(session, |s| build(s, args))?;
    Ok(())
}

// ---------------------------------------------------------------- encryption (5.8)

/// `C_EncryptInit`: answered here when the appliance said it would succeed again.
pub(crate) fn encrypt_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    repeatable_init::<_, m::EncryptInitResponse>(
        session,
        mech,
        key,
        RepeatOp::Encrypt,
        |session, mechanism, key| m::EncryptInitRequest {
            session,
            mechanism,
            key,
        },
    )
}

/// `C_Encrypt`.
pub(crate) fn encrypt(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Encrypt,
        true,
        Some(&data),
        &out,
        |session, data, capacity| m::EncryptRequest {
            session,
            data,
            capacity,
        },
        |r: m::EncryptResponse| r.output,
    )
}

/// `C_EncryptUpdate`.
pub(crate) fn encrypt_update(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Encrypt,
        false,
        Some(&data),
        &out,
        |session, data, capacity| m::EncryptUpdateRequest {
            session,
            data,
            capacity,
        },
        |r: m::EncryptUpdateResponse| r.output,
    )
}

/// `C_EncryptFinal`.
pub(crate) fn encrypt_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Encrypt,
        false,
        None,
        &out,
        |session, _, capacity| m::EncryptFinalRequest { session, capacity },
        |r: m::EncryptFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- decryption (5.9)

/// `C_DecryptInit`: answered here when the appliance said it would succeed again.
pub(crate) fn decrypt_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    repeatable_init::<_, m::DecryptInitResponse>(
        session,
        mech,
        key,
        RepeatOp::Decrypt,
        |session, mechanism, key| m::DecryptInitRequest {
            session,
            mechanism,
            key,
        },
    )
}

/// `C_Decrypt`.
pub(crate) fn decrypt(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Decrypt,
        true,
        Some(&data),
        &out,
        |session, data, capacity| m::DecryptRequest {
            session,
            data,
            capacity,
        },
        |r: m::DecryptResponse| r.output,
    )
}

/// `C_DecryptUpdate`.
pub(crate) fn decrypt_update(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Decrypt,
        false,
        Some(&data),
        &out,
        |session, data, capacity| m::DecryptUpdateRequest {
            session,
            data,
            capacity,
        },
        |r: m::DecryptUpdateResponse| r.output,
    )
}

/// `C_DecryptFinal`.
pub(crate) fn decrypt_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Decrypt,
        false,
        None,
        &out,
        |session, _, capacity| m::DecryptFinalRequest { session, capacity },
        |r: m::DecryptFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- digests (5.10)

/// `C_DigestInit`.
pub(crate) fn digest_init(session: u64, mech: MechPtr) -> Result<()> {
    let (c, r) = init::<_, m::DigestInitResponse>(session, mech, |session, mechanism| {
        m::DigestInitRequest { session, mechanism }
    })?;
    c.set_single_output(session, SingleOp::Digest, r.single_output);
    Ok(())
}

/// `C_Digest`.
pub(crate) fn digest(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Digest,
        true,
        Some(&data),
        &out,
        |session, data, capacity| m::DigestRequest {
            session,
            data,
            capacity,
        },
        |r: m::DigestResponse| r.output,
    )
}

/// `C_DigestUpdate`.
pub(crate) fn digest_update(session: u64, data: InBytes) -> Result<()> {
    plain::<_, m::DigestUpdateResponse>(session, Some(Op::Digest), &[&data], |session, mut a| {
        m::DigestUpdateRequest {
            session,
            data: a.remove(0),
        }
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
        Op::Digest,
        false,
        None,
        &out,
        |session, _, capacity| m::DigestFinalRequest { session, capacity },
        |r: m::DigestFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- signing (5.11)

/// `C_SignInit`: answered here when the appliance said it would succeed again.
pub(crate) fn sign_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    repeatable_init::<_, m::SignInitResponse>(
        session,
        mech,
        key,
        RepeatOp::Sign,
        |session, mechanism, key| m::SignInitRequest {
            session,
            mechanism,
            key,
        },
    )
}

/// `C_Sign`.
pub(crate) fn sign(session: u64, data: InBytes, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Sign,
        true,
        Some(&data),
        &out,
        |session, data, capacity| m::SignRequest {
            session,
            data,
            capacity,
        },
        |r: m::SignResponse| r.output,
    )
}

/// `C_SignUpdate`.
pub(crate) fn sign_update(session: u64, data: InBytes) -> Result<()> {
    plain::<_, m::SignUpdateResponse>(session, Some(Op::Sign), &[&data], |session, mut a| {
        m::SignUpdateRequest {
            session,
            data: a.remove(0),
        }
    })
}

/// `C_SignFinal`.
pub(crate) fn sign_final(session: u64, out: OutBytes) -> Result<()> {
    output(
        session,
        Op::Sign,
        false,
        None,
        &out,
        |session, _, capacity| m::SignFinalRequest { session, capacity },
        |r: m::SignFinalResponse| r.output,
    )
}

// ---------------------------------------------------------------- verifying (5.13)

/// `C_VerifyInit`: answered here when the appliance said it would succeed again.
pub(crate) fn verify_init(session: u64, mech: MechPtr, key: CK_OBJECT_HANDLE) -> Result<()> {
    repeatable_init::<_, m::VerifyInitResponse>(
        session,
        mech,
        key,
        RepeatOp::Verify,
        |session, mechanism, key| m::VerifyInitRequest {
            session,
            mechanism,
            key,
        },
    )
}

/// A verification call that ends the operation when it succeeds.
fn verify_completing(session: u64, call: impl FnOnce() -> Result<()>) -> Result<()> {
    let starts = client().map(|c| c.op_starts(session, RepeatOp::Verify));
    call()?;
    if let (Ok(c), Ok(starts)) = (client(), starts) {
        c.op_completed(session, RepeatOp::Verify, starts);
    }
    Ok(())
}

/// `C_Verify`.
pub(crate) fn verify(session: u64, data: InBytes, signature: InBytes) -> Result<()> {
    verify_completing(session, || {
        plain::<_, m::VerifyResponse>(
            session,
            Some(Op::Verify),
            &[&data, &signature],
            |session, mut a| {
                let signature = a.pop().unwrap_or_default();
                m::VerifyRequest {
                    session,
                    data: a.pop().unwrap_or_default(),
                    signature,
                }
            },
        )
    })
}

/// `C_VerifyUpdate`.
pub(crate) fn verify_update(session: u64, data: InBytes) -> Result<()> {
    plain::<_, m::VerifyUpdateResponse>(session, Some(Op::Verify), &[&data], |session, mut a| {
        m::VerifyUpdateRequest {
            session,
            data: a.remove(0),
        }
    })
}

/// `C_VerifyFinal`.
pub(crate) fn verify_final(session: u64, signature: InBytes) -> Result<()> {
    verify_completing(session, || {
        plain::<_, m::VerifyFinalResponse>(
            session,
            Some(Op::Verify),
            &[&signature],
            |session, mut a| m::VerifyFinalRequest {
                session,
                signature: a.remove(0),
            },
        )
    })
}

// ---------------------------------------------------------------- random (5.15)

/// The most random bytes asked for in one request.
const RANDOM_CHUNK: usize = 64 * 1024;

/// `C_SeedRandom`.
pub(crate) fn seed_random(session: u64, seed: InBytes) -> Result<()> {
    plain::<_, m::SeedRandomResponse>(session, None, &[&seed], |session, mut a| {
        m::SeedRandomRequest {
            session,
            seed: a.remove(0),
        }
    })
}

/// `C_GenerateRandom`.
pub(crate) fn generate_random(session: u64, out: OutFixed) -> Result<()> {
    let c = open(session)?;
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
