//! Every access through a pointer the application gave: the one place (with `exports.rs`,
//! which wraps the entry points' raw arguments) where this library uses `unsafe`.
//!
//! Each wrapper is made by an `unsafe fn new` whose contract is the PKCS#11 caller's: a
//! pointer argument is either null or valid for the access the specification describes for
//! that argument, for the duration of the call. `exports.rs` makes the wrappers from the
//! arguments of the entry point being run and drops them before returning; every method then
//! checks for null and for lengths before touching memory, and reads and writes
//! unaligned-tolerant, so a caller's structure alignment cannot cause undefined behaviour.

use std::ffi::c_void;

use cryptoki_sys::{
    CK_ATTRIBUTE, CK_MECHANISM, CK_ULONG, CK_UNAVAILABLE_INFORMATION, CK_UTF8CHAR,
    CKR_ARGUMENTS_BAD, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID,
    CKR_ATTRIBUTE_VALUE_INVALID, CKR_BUFFER_TOO_SMALL, CKR_DEVICE_ERROR, CKR_MECHANISM_INVALID,
    CKR_MECHANISM_PARAM_INVALID,
};
use strongroom_client::messages::{AttrValue, MechanismSpec, OutputData};
use strongroom_client::{AttrKind, Template, decode_nested, kind, mechanism as params};
use zeroize::Zeroizing;

use crate::conv::{self, NATIVE_ATTRIBUTE, ck, ck_len, ul};
use crate::mech::{Shape, shape};
use crate::state::{Result, Rv};

const BAD: Rv = Rv(CKR_ARGUMENTS_BAD);

/// The length of a caller's array as `usize`, refusing what no allocation can hold.
fn array_len<T>(count: CK_ULONG) -> Result<usize> {
    let n = conv::len(count)?;
    let bytes = n.checked_mul(size_of::<T>()).ok_or(BAD)?;
    if isize::try_from(bytes).is_err() {
        return Err(BAD);
    }
    Ok(n)
}

/// Input bytes: a pointer and a length (`pData`, `ulDataLen`).
pub(crate) struct InBytes {
    ptr: *const u8,
    len: CK_ULONG,
}

impl InBytes {
    /// # Safety
    /// `ptr` is null or valid for reads of `len` bytes until the entry point returns.
    pub(crate) unsafe fn new(ptr: *const u8, len: CK_ULONG) -> Self {
        Self { ptr, len }
    }

    /// The bytes; `CKR_ARGUMENTS_BAD` for a null pointer with a non-zero length.
    pub(crate) fn get(&self) -> Result<&[u8]> {
        if self.len == 0 {
            return Ok(&[]);
        }
        if self.ptr.is_null() {
            return Err(BAD);
        }
        let n = array_len::<u8>(self.len)?;
        // SAFETY: non-null, and by `new`'s contract valid for reads of `len` bytes while the
        // entry point runs, which outlasts this borrow of `self`.
        Ok(unsafe { std::slice::from_raw_parts(self.ptr, n) })
    }

    /// The bytes copied into a buffer zeroized on drop (PINs).
    pub(crate) fn secret(&self) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(self.get()?.to_vec()))
    }

    /// Whether the pointer is null.
    pub(crate) fn is_null(&self) -> bool {
        self.ptr.is_null()
    }
}

/// An output buffer with its length (`pBuf`, `pulBufLen`), following the length convention
/// of PKCS#11 v3.0 section 5.2: a null buffer asks for the length.
pub(crate) struct OutBytes {
    buf: *mut u8,
    len: *mut CK_ULONG,
}

impl OutBytes {
    /// # Safety
    /// `len` is null or valid for reads and writes of a `CK_ULONG`; `buf` is null or valid for
    /// writes of `*len` bytes; both until the entry point returns.
    pub(crate) unsafe fn new(buf: *mut u8, len: *mut CK_ULONG) -> Self {
        Self { buf, len }
    }

    /// `None` for a length query, else the buffer's size. `CKR_ARGUMENTS_BAD` without a length
    /// pointer.
    pub(crate) fn capacity(&self) -> Result<Option<u64>> {
        if self.len.is_null() {
            return Err(BAD);
        }
        if self.buf.is_null() {
            return Ok(None);
        }
        // SAFETY: non-null and valid for reads of a CK_ULONG by `new`'s contract.
        Ok(Some(ul(unsafe { self.len.read_unaligned() })))
    }

    /// Sets `*pulBufLen`.
    pub(crate) fn set_len(&self, n: u64) -> Result<()> {
        if self.len.is_null() {
            return Err(BAD);
        }
        let v = ck(n)?;
        // SAFETY: non-null and valid for writes of a CK_ULONG by `new`'s contract.
        unsafe { self.len.write_unaligned(v) };
        Ok(())
    }

    /// Copies `data` out (or only its length for a length query); `CKR_BUFFER_TOO_SMALL` with
    /// the length set when it does not fit.
    pub(crate) fn write(&self, data: &[u8]) -> Result<()> {
        let n = u64::try_from(data.len()).map_err(|_| Rv(CKR_DEVICE_ERROR))?;
        match self.capacity()? {
            None => self.set_len(n),
            Some(cap) if cap < n => {
                self.set_len(n)?;
                Err(Rv(CKR_BUFFER_TOO_SMALL))
            }
            Some(_) => {
                // SAFETY: `buf` is non-null (capacity returned Some) and valid for writes of
                // `*len` >= data.len() bytes by `new`'s contract; the source is our own buffer,
                // so the two cannot overlap.
                unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.buf, data.len()) };
                self.set_len(n)
            }
        }
    }

    /// Delivers an appliance answer: output, length, or an error whose needed length is set.
    pub(crate) fn deliver(
        &self,
        answer: std::result::Result<OutputData, strongroom_client::Error>,
    ) -> Result<()> {
        match answer {
            Ok(OutputData::Length(n)) => self.set_len(n),
            Ok(OutputData::Data(mut d)) => {
                let r = self.write(&d);
                strongroom_client::wipe(&mut d);
                r
            }
            Err(e) => {
                if let strongroom_client::Error::Module {
                    needed: Some(n), ..
                } = e
                {
                    self.set_len(n)?;
                }
                Err(e.into())
            }
        }
    }
}

/// A pointer to one value the library writes (`phSession`, `pInfo`...).
pub(crate) struct Out<T> {
    ptr: *mut T,
}

impl<T> Out<T> {
    /// # Safety
    /// `ptr` is null or valid for writes of a `T` until the entry point returns.
    pub(crate) unsafe fn new(ptr: *mut T) -> Self {
        Self { ptr }
    }

    /// `CKR_ARGUMENTS_BAD` if null (to check before doing the work).
    pub(crate) fn required(&self) -> Result<()> {
        if self.ptr.is_null() { Err(BAD) } else { Ok(()) }
    }

    /// Writes the value.
    pub(crate) fn write(&self, v: T) -> Result<()> {
        self.required()?;
        // SAFETY: non-null and valid for writes of a T by `new`'s contract.
        unsafe { self.ptr.write_unaligned(v) };
        Ok(())
    }
}

/// A pointer to one value the library reads (`pInitArgs`, `pVersion`...).
pub(crate) struct In<T> {
    ptr: *const T,
}

impl<T: Copy> In<T> {
    /// # Safety
    /// `ptr` is null or valid for reads of a `T` until the entry point returns.
    pub(crate) unsafe fn new(ptr: *const T) -> Self {
        Self { ptr }
    }

    /// The value, `None` if the pointer is null.
    pub(crate) fn read(&self) -> Option<T> {
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: non-null and valid for reads of a T by `new`'s contract.
        Some(unsafe { self.ptr.read_unaligned() })
    }
}

/// An output array with its count (`pSlotList`, `pulCount`), with the length convention.
pub(crate) struct OutArray<T> {
    ptr: *mut T,
    count: *mut CK_ULONG,
}

impl<T: Copy> OutArray<T> {
    /// # Safety
    /// `count` is null or valid for reads and writes of a `CK_ULONG`; `ptr` is null or valid
    /// for writes of `*count` elements; both until the entry point returns.
    pub(crate) unsafe fn new(ptr: *mut T, count: *mut CK_ULONG) -> Self {
        Self { ptr, count }
    }

    /// Whether the caller only asks for the count (`CKR_ARGUMENTS_BAD` without a count).
    pub(crate) fn is_query(&self) -> Result<bool> {
        if self.count.is_null() {
            return Err(BAD);
        }
        Ok(self.ptr.is_null())
    }

    /// Writes `items` (or only their count); `CKR_BUFFER_TOO_SMALL` with the count set when
    /// the array is too short.
    pub(crate) fn deliver(&self, items: &[T]) -> Result<()> {
        let query = self.is_query()?;
        let n = ck_len(items.len())?;
        if !query {
            // SAFETY: non-null (checked by is_query) and valid for reads by `new`'s contract.
            let cap = unsafe { self.count.read_unaligned() };
            if cap < n {
                // SAFETY: as above, valid for writes.
                unsafe { self.count.write_unaligned(n) };
                return Err(Rv(CKR_BUFFER_TOO_SMALL));
            }
            for (i, item) in items.iter().enumerate() {
                // SAFETY: `ptr` is non-null and valid for writes of `*count` >= items.len()
                // elements by `new`'s contract, so element `i` is in bounds.
                unsafe { self.ptr.add(i).write_unaligned(*item) };
            }
        }
        // SAFETY: non-null (checked by is_query) and valid for writes by `new`'s contract.
        unsafe { self.count.write_unaligned(n) };
        Ok(())
    }
}

/// `C_FindObjects`' output: a handle array of fixed capacity and the count written.
pub(crate) struct OutHandles {
    ptr: *mut CK_ULONG,
    max: CK_ULONG,
    count: *mut CK_ULONG,
}

impl OutHandles {
    /// # Safety
    /// `ptr` is null or valid for writes of `max` handles; `count` is null or valid for
    /// writes of a `CK_ULONG`; both until the entry point returns.
    pub(crate) unsafe fn new(ptr: *mut CK_ULONG, max: CK_ULONG, count: *mut CK_ULONG) -> Self {
        Self { ptr, max, count }
    }

    /// The capacity, after checking the pointers.
    pub(crate) fn max(&self) -> Result<u64> {
        if self.count.is_null() || (self.ptr.is_null() && self.max > 0) {
            return Err(BAD);
        }
        Ok(ul(self.max))
    }

    /// Writes the handles found (at most `max`) and their count.
    pub(crate) fn deliver(&self, handles: &[u64]) -> Result<()> {
        let max = usize::try_from(self.max()?).map_err(|_| BAD)?;
        let n = handles.len().min(max);
        for (i, h) in handles.iter().take(n).enumerate() {
            let h = ck(*h)?;
            // SAFETY: `ptr` is valid for writes of `max` handles (`max()` refused null with a
            // non-zero max) and `i < n <= max`.
            unsafe { self.ptr.add(i).write_unaligned(h) };
        }
        let n = ck_len(n)?;
        // SAFETY: non-null (checked by max()) and valid for writes by `new`'s contract.
        unsafe { self.count.write_unaligned(n) };
        Ok(())
    }
}

/// A caller's attribute array (`pTemplate`, `ulCount`).
pub(crate) struct Attrs {
    ptr: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
}

/// Nested templates (`CKA_WRAP_TEMPLATE`...) are read one level deep.
const MAX_NESTING: usize = 1;

impl Attrs {
    /// # Safety
    /// `ptr` is null or valid for reads and writes of `count` attributes, each of whose
    /// `pValue` is null or valid for reads and writes of `ulValueLen` bytes (and, for
    /// attribute-array values, is itself such an array), until the entry point returns.
    pub(crate) unsafe fn new(ptr: *mut CK_ATTRIBUTE, count: CK_ULONG) -> Self {
        Self { ptr, count }
    }

    fn read_all(&self) -> Result<Vec<CK_ATTRIBUTE>> {
        if self.count == 0 {
            return Ok(Vec::new());
        }
        if self.ptr.is_null() {
            return Err(BAD);
        }
        let n = array_len::<CK_ATTRIBUTE>(self.count)?;
        // SAFETY: non-null, and valid for reads of `count` attributes by `new`'s contract;
        // each is copied out unaligned-tolerant.
        Ok((0..n)
            .map(|i| unsafe { self.ptr.add(i).read_unaligned() })
            .collect())
    }

    /// The attribute types (for `C_GetAttributeValue`).
    pub(crate) fn types(&self) -> Result<Vec<u64>> {
        Ok(self.read_all()?.iter().map(|a| ul(a.type_)).collect())
    }

    /// The template in the canonical encoding.
    pub(crate) fn template(&self) -> Result<Template> {
        self.template_at(0)
    }

    fn template_at(&self, depth: usize) -> Result<Template> {
        let mut t = Template::new();
        for a in self.read_all()? {
            let ty = ul(a.type_);
            // SAFETY: `pValue`/`ulValueLen` of an attribute of the caller's template, valid
            // by `new`'s contract.
            let value = unsafe { InBytes::new(a.pValue.cast_const().cast::<u8>(), a.ulValueLen) };
            match kind(ty) {
                AttrKind::Nested => {
                    if depth >= MAX_NESTING
                        || !conv::len(a.ulValueLen)?.is_multiple_of(NATIVE_ATTRIBUTE)
                    {
                        return Err(Rv(CKR_ATTRIBUTE_VALUE_INVALID));
                    }
                    let count = ck_len(conv::len(a.ulValueLen)? / NATIVE_ATTRIBUTE)?;
                    if count > 0 && value.is_null() {
                        return Err(BAD);
                    }
                    // SAFETY: an attribute-array value of the caller's template: an array of
                    // `count` attributes under the same contract as the outer one.
                    let nested = unsafe { Attrs::new(a.pValue.cast::<CK_ATTRIBUTE>(), count) };
                    t.push_nested(ty, &nested.template_at(depth + 1)?);
                }
                k => {
                    let canonical = Zeroizing::new(conv::value_from_native(k, value.get()?)?);
                    t.push(ty, &canonical);
                }
            }
        }
        Ok(t)
    }

    /// Fills the caller's attributes with `C_GetAttributeValue` results (v3.0 section 5.7.5):
    /// per attribute the value, its length, or `CK_UNAVAILABLE_INFORMATION`; the call's
    /// return value is `CKR_ATTRIBUTE_SENSITIVE`, else `CKR_ATTRIBUTE_TYPE_INVALID`, else
    /// `CKR_BUFFER_TOO_SMALL` when any attribute had that outcome.
    pub(crate) fn fill(&self, results: &[AttrValue]) -> Result<()> {
        let attrs = self.read_all()?;
        if attrs.len() != results.len() {
            return Err(Rv(CKR_DEVICE_ERROR));
        }
        let mut outcome = Outcome::default();
        for (i, (a, r)) in attrs.iter().zip(results).enumerate() {
            let len = match r {
                AttrValue::Sensitive => {
                    outcome.sensitive = true;
                    CK_UNAVAILABLE_INFORMATION
                }
                AttrValue::TypeInvalid => {
                    outcome.invalid = true;
                    CK_UNAVAILABLE_INFORMATION
                }
                AttrValue::Value(v) => {
                    let ty = ul(a.type_);
                    if kind(ty) == AttrKind::Nested {
                        self.fill_nested(a, v, &mut outcome)?
                    } else {
                        let native = Zeroizing::new(
                            conv::value_to_native(kind(ty), v).ok_or(Rv(CKR_DEVICE_ERROR))?,
                        );
                        // SAFETY: the caller's attribute, valid by `new`'s contract.
                        let out = unsafe { ValueOut::new(a.pValue.cast::<u8>(), a.ulValueLen) };
                        out.put(&native, &mut outcome)?
                    }
                }
            };
            // SAFETY: `i` < count, the array is valid for writes by `new`'s contract (checked
            // non-null by read_all, which returned `count` elements).
            unsafe {
                let p = self.ptr.add(i);
                let mut attr = p.read_unaligned();
                attr.ulValueLen = len;
                p.write_unaligned(attr);
            }
        }
        outcome.result()
    }

    /// An attribute-array value: the length of the array, or each element's type and value.
    fn fill_nested(
        &self,
        a: &CK_ATTRIBUTE,
        canonical: &[u8],
        outcome: &mut Outcome,
    ) -> Result<CK_ULONG> {
        let nested = decode_nested(canonical).ok_or(Rv(CKR_DEVICE_ERROR))?;
        let needed = ck_len(nested.len().checked_mul(NATIVE_ATTRIBUTE).ok_or(BAD)?)?;
        if a.pValue.is_null() {
            return Ok(needed);
        }
        if a.ulValueLen < needed {
            outcome.too_small = true;
            return Ok(CK_UNAVAILABLE_INFORMATION);
        }
        // SAFETY: the caller's attribute-array value holds `ulValueLen >= needed` bytes, that
        // is at least `nested.len()` attributes, under `new`'s contract.
        let inner = unsafe { Attrs::new(a.pValue.cast::<CK_ATTRIBUTE>(), ck_len(nested.len())?) };
        let elems = inner.read_all()?;
        for (j, (e, n)) in elems.iter().zip(&nested).enumerate() {
            let native = Zeroizing::new(
                conv::value_to_native(kind(n.ty), &n.value).ok_or(Rv(CKR_DEVICE_ERROR))?,
            );
            // SAFETY: an element of the caller's nested array, valid by `new`'s contract.
            let out = unsafe { ValueOut::new(e.pValue.cast::<u8>(), e.ulValueLen) };
            let len = out.put(&native, outcome)?;
            let ty = conv::ck(n.ty)?;
            // SAFETY: `j` < nested.len(), within the array as established above.
            unsafe {
                let p = inner.ptr.add(j);
                let mut attr = p.read_unaligned();
                attr.type_ = ty;
                attr.ulValueLen = len;
                p.write_unaligned(attr);
            }
        }
        Ok(needed)
    }
}

/// What `C_GetAttributeValue` found across the attributes.
#[derive(Default)]
struct Outcome {
    sensitive: bool,
    invalid: bool,
    too_small: bool,
}

impl Outcome {
    fn result(&self) -> Result<()> {
        if self.sensitive {
            Err(Rv(CKR_ATTRIBUTE_SENSITIVE))
        } else if self.invalid {
            Err(Rv(CKR_ATTRIBUTE_TYPE_INVALID))
        } else if self.too_small {
            Err(Rv(CKR_BUFFER_TOO_SMALL))
        } else {
            Ok(())
        }
    }
}

/// One attribute's value buffer in `C_GetAttributeValue`.
struct ValueOut {
    ptr: *mut u8,
    cap: CK_ULONG,
}

impl ValueOut {
    /// # Safety
    /// `ptr` is null or valid for writes of `cap` bytes until the entry point returns.
    unsafe fn new(ptr: *mut u8, cap: CK_ULONG) -> Self {
        Self { ptr, cap }
    }

    /// Copies `native` if it fits; returns the `ulValueLen` to report.
    fn put(&self, native: &[u8], outcome: &mut Outcome) -> Result<CK_ULONG> {
        let n = ck_len(native.len())?;
        if self.ptr.is_null() {
            return Ok(n);
        }
        if self.cap < n {
            outcome.too_small = true;
            return Ok(CK_UNAVAILABLE_INFORMATION);
        }
        // SAFETY: non-null and valid for writes of `cap` >= native.len() bytes by `new`'s
        // contract; the source is our own buffer.
        unsafe { std::ptr::copy_nonoverlapping(native.as_ptr(), self.ptr, native.len()) };
        Ok(n)
    }
}

/// A caller's `CK_MECHANISM` (`pMechanism`).
pub(crate) struct MechPtr {
    ptr: *const CK_MECHANISM,
}

fn param_invalid() -> Rv {
    Rv(CKR_MECHANISM_PARAM_INVALID)
}

impl MechPtr {
    /// # Safety
    /// `ptr` is null or points to a `CK_MECHANISM` whose `pParameter` is null or valid for
    /// reads of `ulParameterLen` bytes, and whose parameter structure's own pointers are null
    /// or valid for their lengths, until the entry point returns.
    pub(crate) unsafe fn new(ptr: *const CK_MECHANISM) -> Self {
        Self { ptr }
    }

    /// The mechanism in the canonical encoding; `None` for a null pointer.
    pub(crate) fn spec(&self) -> Result<Option<MechanismSpec>> {
        // SAFETY: `new`'s contract.
        let Some(m) = (unsafe { In::new(self.ptr) }).read() else {
            return Ok(None);
        };
        let ckm = ul(m.mechanism);
        let raw = m.pParameter.cast_const();
        let len = m.ulParameterLen;

        let params = match shape(ckm) {
            Shape::None | Shape::Unknown if len == 0 => Vec::new(),
            Shape::None => return Err(param_invalid()),
            Shape::Unknown => return Err(Rv(CKR_MECHANISM_INVALID)),
            Shape::Bytes => {
                // SAFETY: the parameter bytes, valid by `new`'s contract.
                unsafe { InBytes::new(raw.cast::<u8>(), len) }
                    .get()?
                    .to_vec()
            }
            Shape::MacGeneral => params::mac_general(ul(Self::param::<CK_ULONG>(&m)?)),
            Shape::Ctr => {
                let p: cryptoki_sys::CK_AES_CTR_PARAMS = Self::param(&m)?;
                params::ctr(ul(p.ulCounterBits), &p.cb)
            }
            Shape::Gcm => {
                let p: cryptoki_sys::CK_GCM_PARAMS = Self::param(&m)?;
                // SAFETY: pointers inside the caller's parameter structure (contract of `new`).
                let (iv, aad) = unsafe {
                    (
                        InBytes::new(p.pIv.cast_const(), p.ulIvLen),
                        InBytes::new(p.pAAD.cast_const(), p.ulAADLen),
                    )
                };
                params::gcm(iv.get()?, ul(p.ulIvBits), aad.get()?, ul(p.ulTagBits))
            }
            Shape::Pss => {
                let p: cryptoki_sys::CK_RSA_PKCS_PSS_PARAMS = Self::param(&m)?;
                params::pss(ul(p.hashAlg), ul(p.mgf), ul(p.sLen))
            }
            Shape::Oaep => {
                let p: cryptoki_sys::CK_RSA_PKCS_OAEP_PARAMS = Self::param(&m)?;
                // SAFETY: a pointer inside the caller's parameter structure.
                let src = unsafe {
                    InBytes::new(p.pSourceData.cast_const().cast::<u8>(), p.ulSourceDataLen)
                };
                params::oaep(ul(p.hashAlg), ul(p.mgf), ul(p.source), src.get()?)
            }
            Shape::Ecdh1 => {
                let p: cryptoki_sys::CK_ECDH1_DERIVE_PARAMS = Self::param(&m)?;
                // SAFETY: pointers inside the caller's parameter structure.
                let (shared, public) = unsafe {
                    (
                        InBytes::new(p.pSharedData.cast_const(), p.ulSharedDataLen),
                        InBytes::new(p.pPublicData.cast_const(), p.ulPublicDataLen),
                    )
                };
                params::ecdh1(ul(p.kdf), shared.get()?, public.get()?)
            }
            Shape::Hkdf => {
                let p: cryptoki_sys::CK_HKDF_PARAMS = Self::param(&m)?;
                // SAFETY: pointers inside the caller's parameter structure.
                let (salt, info) = unsafe {
                    (
                        InBytes::new(p.pSalt.cast_const(), p.ulSaltLen),
                        InBytes::new(p.pInfo.cast_const(), p.ulInfoLen),
                    )
                };
                params::hkdf(
                    p.bExtract != 0,
                    p.bExpand != 0,
                    ul(p.prfHashMechanism),
                    ul(p.ulSaltType),
                    salt.get()?,
                    ul(p.hSaltKey),
                    info.get()?,
                )
            }
            Shape::Pbkdf2 => {
                let p: cryptoki_sys::CK_PKCS5_PBKD2_PARAMS2 = Self::param(&m)?;
                // SAFETY: pointers inside the caller's parameter structure.
                let (salt, prf_data, password) = unsafe {
                    (
                        InBytes::new(
                            p.pSaltSourceData.cast_const().cast::<u8>(),
                            p.ulSaltSourceDataLen,
                        ),
                        InBytes::new(p.pPrfData.cast_const().cast::<u8>(), p.ulPrfDataLen),
                        InBytes::new(p.pPassword.cast_const(), p.ulPasswordLen),
                    )
                };
                let encoded = params::pbkdf2(
                    ul(p.saltSource),
                    salt.get()?,
                    ul(p.iterations),
                    ul(p.prf),
                    prf_data.get()?,
                    password.get()?,
                );
                encoded.to_vec()
            }
        };
        Ok(Some(MechanismSpec {
            mechanism: ckm,
            params,
        }))
    }
}

impl MechPtr {
    /// The parameter structure of `m`, a mechanism read from this wrapper's pointer.
    fn param<T: Copy + PlainC>(m: &CK_MECHANISM) -> Result<T> {
        // SAFETY: `m` was read through a `MechPtr`, whose contract makes `pParameter` null or
        // valid for `ulParameterLen` bytes; `T: PlainC` is a structure of integers and
        // pointers.
        unsafe { read_struct(m.pParameter.cast_const(), m.ulParameterLen) }
    }
}

/// C parameter structures made only of integers and pointers: any bit pattern is a value.
trait PlainC {}
impl PlainC for CK_ULONG {}
impl PlainC for cryptoki_sys::CK_AES_CTR_PARAMS {}
impl PlainC for cryptoki_sys::CK_GCM_PARAMS {}
impl PlainC for cryptoki_sys::CK_RSA_PKCS_PSS_PARAMS {}
impl PlainC for cryptoki_sys::CK_RSA_PKCS_OAEP_PARAMS {}
impl PlainC for cryptoki_sys::CK_ECDH1_DERIVE_PARAMS {}
impl PlainC for cryptoki_sys::CK_HKDF_PARAMS {}
impl PlainC for cryptoki_sys::CK_PKCS5_PBKD2_PARAMS2 {}

/// Reads a parameter structure whose size must be exactly `size_of::<T>()`.
///
/// # Safety
/// `raw` is null or valid for reads of `len` bytes, and `T` is a plain C structure of integers
/// and pointers (any bit pattern is a valid value).
unsafe fn read_struct<T: Copy>(raw: *const c_void, len: CK_ULONG) -> Result<T> {
    if raw.is_null() || conv::len(len)? != size_of::<T>() {
        return Err(param_invalid());
    }
    // SAFETY: non-null and valid for reads of `len` == size_of::<T>() bytes by this function's
    // contract; read unaligned-tolerant; any bit pattern is a valid `T`.
    Ok(unsafe { raw.cast::<T>().read_unaligned() })
}

/// A fixed-size output buffer (`C_GenerateRandom`'s `pRandomData`, `ulRandomLen`).
pub(crate) struct OutFixed {
    ptr: *mut u8,
    len: CK_ULONG,
}

impl OutFixed {
    /// # Safety
    /// `ptr` is null or valid for writes of `len` bytes until the entry point returns.
    pub(crate) unsafe fn new(ptr: *mut u8, len: CK_ULONG) -> Self {
        Self { ptr, len }
    }

    /// The buffer's length, after checking the pointer.
    pub(crate) fn len(&self) -> Result<usize> {
        if self.ptr.is_null() && self.len > 0 {
            return Err(BAD);
        }
        array_len::<u8>(self.len)
    }

    /// Writes `data` at `offset`; it must fit.
    pub(crate) fn write_at(&self, offset: usize, data: &[u8]) -> Result<()> {
        let end = offset.checked_add(data.len()).ok_or(BAD)?;
        if end > self.len()? {
            return Err(Rv(CKR_DEVICE_ERROR));
        }
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: non-null (len() refused null with a non-zero length, and `end` > 0) and valid
        // for writes of `len` >= offset + data.len() bytes by `new`'s contract.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }
}

/// A NUL-terminated string argument (`C_GetInterface`'s `pInterfaceName`).
pub(crate) struct CStrIn {
    ptr: *const CK_UTF8CHAR,
}

impl CStrIn {
    /// # Safety
    /// `ptr` is null or points to a NUL-terminated string valid until the entry point returns.
    pub(crate) unsafe fn new(ptr: *const CK_UTF8CHAR) -> Self {
        Self { ptr }
    }

    /// The bytes before the NUL, `None` for a null pointer.
    pub(crate) fn read(&self) -> Result<Option<&[u8]>> {
        if self.ptr.is_null() {
            return Ok(None);
        }
        // SAFETY: non-null and NUL-terminated by `new`'s contract, valid while `self` is.
        let s = unsafe { std::ffi::CStr::from_ptr(self.ptr.cast::<std::ffi::c_char>()) };
        Ok(Some(s.to_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_length_convention() {
        let mut len: CK_ULONG = 0;
        // SAFETY: a null buffer and a valid length.
        let query = unsafe { OutBytes::new(null_mut(), &raw mut len) };
        assert_eq!(query.write(b"12345"), Ok(()));
        assert_eq!(len, 5);

        let mut small = [0u8; 3];
        len = 3;
        // SAFETY: a 3-byte buffer and its length.
        let out = unsafe { OutBytes::new(small.as_mut_ptr(), &raw mut len) };
        assert_eq!(out.write(b"12345"), Err(Rv(CKR_BUFFER_TOO_SMALL)));
        assert_eq!(len, 5, "the length needed is reported");
        assert_eq!(small, [0; 3], "nothing is written");

        len = 3;
        let refused = Err(strongroom_client::Error::Module {
            code: strongroom_client::ret::SR_RET_BUFFER_TOO_SMALL,
            needed: Some(256),
        });
        assert_eq!(out.deliver(refused), Err(Rv(CKR_BUFFER_TOO_SMALL)));
        assert_eq!(len, 256);

        let mut big = [0u8; 8];
        len = 8;
        // SAFETY: an 8-byte buffer and its length.
        let out = unsafe { OutBytes::new(big.as_mut_ptr(), &raw mut len) };
        assert_eq!(out.deliver(Ok(OutputData::Data(b"abc".to_vec()))), Ok(()));
        assert_eq!((len, &big[..3]), (3, &b"abc"[..]));

        // SAFETY: both pointers null: refused before any access.
        let none = unsafe { OutBytes::new(null_mut(), null_mut()) };
        assert_eq!(none.capacity(), Err(BAD));
    }

    #[test]
    fn get_attribute_value_reports_each_attribute() {
        let mut class = [0u8; NATIVE_ULONG_LEN];
        let mut short = [0u8; 2];
        let mut attrs = [
            CK_ATTRIBUTE {
                type_: 0, // CKA_CLASS
                pValue: class.as_mut_ptr().cast(),
                ulValueLen: ck_len(NATIVE_ULONG_LEN).unwrap_or(0),
            },
            CK_ATTRIBUTE {
                type_: 3, // CKA_LABEL: a buffer too small
                pValue: short.as_mut_ptr().cast(),
                ulValueLen: 2,
            },
            CK_ATTRIBUTE {
                type_: 0x11, // CKA_VALUE: no buffer, the length is asked
                pValue: null_mut(),
                ulValueLen: 0,
            },
            CK_ATTRIBUTE {
                type_: 0x123, // CKA_PRIVATE_EXPONENT: sensitive
                pValue: null_mut(),
                ulValueLen: 0,
            },
        ];
        // SAFETY: the attributes and their buffers are valid locals.
        let a = unsafe { Attrs::new(attrs.as_mut_ptr(), 4) };
        let results = [
            AttrValue::Value(3u64.to_le_bytes().to_vec()),
            AttrValue::Value(b"label".to_vec()),
            AttrValue::Value(vec![1; 32]),
            AttrValue::Sensitive,
        ];
        assert_eq!(a.fill(&results), Err(Rv(CKR_ATTRIBUTE_SENSITIVE)));
        assert_eq!(class, CK_ULONG::to_ne_bytes(3));
        assert_eq!(attrs[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        assert_eq!(attrs[2].ulValueLen, 32);
        assert_eq!(attrs[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
        // Without the sensitive one, the short buffer decides.
        // SAFETY: as above.
        let a = unsafe { Attrs::new(attrs.as_mut_ptr(), 3) };
        attrs_reset(&mut attrs[1], short.as_mut_ptr());
        assert_eq!(a.fill(&results[..3]), Err(Rv(CKR_BUFFER_TOO_SMALL)));
    }

    fn attrs_reset(a: &mut CK_ATTRIBUTE, p: *mut u8) {
        a.pValue = p.cast();
        a.ulValueLen = 2;
    }

    const NATIVE_ULONG_LEN: usize = size_of::<CK_ULONG>();
    use std::ptr::null_mut;
}
