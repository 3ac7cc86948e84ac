//! The C ABI without an appliance: function lists and interfaces,
//! `C_Initialize` arguments, the not-initialized state, argument checks, and `fork`.
//!
//! The library has one global state per process: the tests that initialize it run in one
//! test function, in order.

#![allow(unsafe_code)]

use std::ptr::null_mut;

use cryptoki_sys::*;
use strongroom_pkcs11::*;

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    // A configuration with no appliance: no slots, nothing to connect to.
    let path = dir.join("strongroom.toml");
    std::fs::write(
        &path,
        "[client]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\n",
    )
    .expect("write");
    path
}

#[test]
fn the_abi_checks_its_state_and_arguments() {
    let dir = tempfile::tempdir().expect("dir");
    let conf = config(dir.path());
    // SAFETY: this is the only test of this binary that reads or writes the environment, and
    // it does so before starting any thread of its own.
    unsafe { std::env::set_var("STRONGROOM_CONF", &conf) };

    // SAFETY: for every call below, the arguments are valid pointers to local variables or
    // null, as each function's contract allows.
    unsafe {
        // Function lists and interfaces work without initialization.
        let mut list: *mut CK_FUNCTION_LIST = null_mut();
        assert_eq!(C_GetFunctionList(&mut list), CKR_OK);
        assert_eq!(((*list).version.major, (*list).version.minor), (2, 40));
        assert_eq!(C_GetFunctionList(null_mut()), CKR_ARGUMENTS_BAD);
        let mut count: CK_ULONG = 0;
        assert_eq!(C_GetInterfaceList(null_mut(), &mut count), CKR_OK);
        assert_eq!(count, 2);
        let mut one = [CK_INTERFACE::default(); 1];
        let mut short = 1;
        assert_eq!(
            C_GetInterfaceList(one.as_mut_ptr(), &mut short),
            CKR_BUFFER_TOO_SMALL
        );
        assert_eq!(short, 2);
        let mut iface: *mut CK_INTERFACE = null_mut();
        assert_eq!(
            C_GetInterface(null_mut(), null_mut(), &mut iface, 0),
            CKR_OK
        );
        let l30 = (*iface).pFunctionList.cast::<CK_FUNCTION_LIST_3_0>();
        assert_eq!(((*l30).version.major, (*l30).version.minor), (3, 0));
        assert!((*l30).C_LoginUser.is_some() && (*l30).C_SessionCancel.is_some());
        let mut v240 = CK_VERSION {
            major: 2,
            minor: 40,
        };
        let mut name = *b"PKCS 11\0";
        assert_eq!(
            C_GetInterface(name.as_mut_ptr(), &mut v240, &mut iface, 0),
            CKR_OK
        );
        let mut bogus = *b"Other\0";
        assert_eq!(
            C_GetInterface(bogus.as_mut_ptr(), null_mut(), &mut iface, 0),
            CKR_ARGUMENTS_BAD
        );

        // Not initialized.
        let mut info = CK_INFO::default();
        assert_eq!(C_GetInfo(&mut info), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!(C_Finalize(null_mut()), CKR_CRYPTOKI_NOT_INITIALIZED);
        assert_eq!(C_CloseSession(1), CKR_CRYPTOKI_NOT_INITIALIZED);

        // C_Initialize arguments.
        let mut args = CK_C_INITIALIZE_ARGS::default();
        let mut reserved = 0u8;
        args.pReserved = (&raw mut reserved).cast();
        assert_eq!(C_Initialize((&raw mut args).cast()), CKR_ARGUMENTS_BAD);
        extern "C" fn create(_: *mut *mut std::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        extern "C" fn other(_: *mut std::ffi::c_void) -> CK_RV {
            CKR_OK
        }
        let mut args = CK_C_INITIALIZE_ARGS {
            CreateMutex: Some(create),
            ..CK_C_INITIALIZE_ARGS::default()
        };
        assert_eq!(
            C_Initialize((&raw mut args).cast()),
            CKR_ARGUMENTS_BAD,
            "some mutex functions"
        );
        args.DestroyMutex = Some(other);
        args.LockMutex = Some(other);
        args.UnlockMutex = Some(other);
        assert_eq!(C_Initialize((&raw mut args).cast()), CKR_CANT_LOCK);
        args.flags = CKF_OS_LOCKING_OK;
        assert_eq!(C_Initialize((&raw mut args).cast()), CKR_OK);
        assert_eq!(C_Initialize(null_mut()), CKR_CRYPTOKI_ALREADY_INITIALIZED);

        // Initialized: no slots without appliances; argument and handle checks.
        assert_eq!(C_GetInfo(&mut info), CKR_OK);
        assert_eq!(
            (info.cryptokiVersion.major, info.cryptokiVersion.minor),
            (3, 0)
        );
        assert_eq!(C_GetInfo(null_mut()), CKR_ARGUMENTS_BAD);
        let mut n: CK_ULONG = 99;
        assert_eq!(C_GetSlotList(CK_FALSE, null_mut(), &mut n), CKR_OK);
        assert_eq!(n, 0);
        assert_eq!(
            C_GetSlotList(CK_FALSE, null_mut(), null_mut()),
            CKR_ARGUMENTS_BAD
        );
        let mut slot_info = CK_SLOT_INFO::default();
        assert_eq!(C_GetSlotInfo(0, &mut slot_info), CKR_SLOT_ID_INVALID);
        let mut h: CK_SESSION_HANDLE = 0;
        assert_eq!(
            C_OpenSession(0, CKF_SERIAL_SESSION, null_mut(), None, &mut h),
            CKR_SLOT_ID_INVALID
        );
        assert_eq!(C_CloseSession(42), CKR_SESSION_HANDLE_INVALID);
        let mut pin = *b"whatever-pin";
        assert_eq!(
            C_Login(42, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG),
            CKR_SESSION_HANDLE_INVALID
        );
        let mut sig_len: CK_ULONG = 0;
        assert_eq!(
            C_Sign(42, null_mut(), 0, null_mut(), &mut sig_len),
            CKR_SESSION_HANDLE_INVALID
        );
        assert_eq!(
            C_EncryptMessage(
                42,
                null_mut(),
                0,
                null_mut(),
                0,
                null_mut(),
                0,
                null_mut(),
                null_mut()
            ),
            CKR_FUNCTION_NOT_SUPPORTED
        );
        let mut slot: CK_SLOT_ID = 0;
        assert_eq!(
            C_WaitForSlotEvent(CKF_DONT_BLOCK, &mut slot, null_mut()),
            CKR_NO_EVENT
        );

        // After fork the child is not initialized until it initializes itself.
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let mut info = CK_INFO::default();
            let code = if C_GetInfo(&mut info) != CKR_CRYPTOKI_NOT_INITIALIZED {
                1
            } else if C_Initialize(null_mut()) != CKR_OK {
                2
            } else if C_GetInfo(&mut info) != CKR_OK {
                3
            } else if C_Finalize(null_mut()) != CKR_OK {
                4
            } else {
                0
            };
            libc::_exit(code);
        }
        let mut status = 0;
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(libc::WIFEXITED(status), "child status {status}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "child step that failed");
        // The parent is still initialized.
        assert_eq!(C_GetInfo(&mut info), CKR_OK);

        assert_eq!(C_Finalize((&raw mut reserved).cast()), CKR_ARGUMENTS_BAD);
        assert_eq!(C_Finalize(null_mut()), CKR_OK);
        assert_eq!(C_GetInfo(&mut info), CKR_CRYPTOKI_NOT_INITIALIZED);
    }
}
